"""A trail camera's disturbances for `trapline_training.bursts`: infrared night frames, sensor noise, exposure
flicker, swaying vegetation and the information strip, drawn once per burst (`Look`) and per frame."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .camtrap import resize

IR_SHARE, STRIP_SHARE, SWAY_SHARE = 0.4, 0.5, 0.5  # shares of the bursts


@dataclass
class Look:
    """A burst's disturbances, drawn before rendering it."""

    ir: bool
    ir_seed: int  # one seed for every frame: the same flash fall-off across the burst
    noise: float
    strip: str | None  # "bottom", "top", "both" or None
    strip_rows: int
    sway: tuple[int, int, int, int] | None  # x, y, width, height of the swaying part
    sway_amplitude: float
    clock: datetime
    temperature: int

    def bands(self, height: int) -> tuple[int, int]:
        """Rows the strip covers at the top and at the bottom."""
        top = self.strip_rows if self.strip in ("top", "both") else 0
        bottom = self.strip_rows if self.strip in ("bottom", "both") else 0
        return top, height - bottom


def draw_look(rng: np.random.Generator, width: int, height: int) -> Look:
    """The disturbances of one burst of frames of this size."""
    ir = bool(rng.random() < IR_SHARE)
    ir_seed = int(rng.integers(2**32))
    noise = float(rng.uniform(4, 12) if ir else rng.uniform(1, 5))
    strip = str(rng.choice(["bottom", "bottom", "top", "both"])) if rng.random() < STRIP_SHARE else None
    strip_rows = max(4, round(height * rng.uniform(0.03, 0.05)))
    sway = None
    if rng.random() < SWAY_SHARE:
        sw, sh = int(width * rng.uniform(0.25, 0.6)), int(height * rng.uniform(0.25, 0.6))
        sway = (int(rng.integers(0, width - sw + 1)), int(rng.integers(0, height - sh + 1)), sw, sh)
    amplitude = float(rng.uniform(2, 5) * max(width / 1280, 0.25))
    hour = int(rng.integers(21, 29)) % 24 if ir else int(rng.integers(7, 19))
    day = datetime(2026, 1, 1) + timedelta(days=int(rng.integers(365)), hours=hour, seconds=int(rng.integers(3600)))
    temperature = int(rng.integers(-5, 16) if ir else rng.integers(5, 31))
    return Look(ir, ir_seed, noise, strip, strip_rows, sway, amplitude, day, temperature)


def swayed(rng: np.random.Generator, background: np.ndarray, look: Look) -> np.ndarray:
    """The background with its swaying part warped by a fresh smooth displacement field (zero at the part's edge)."""
    if look.sway is None:
        return background
    x, y, w, h = look.sway
    coarse = rng.normal(0, look.sway_amplitude, (4, 4, 2)).astype(np.float32)
    field = resize(coarse, w, h)
    taper = np.outer(np.sin(np.linspace(0, np.pi, h)), np.sin(np.linspace(0, np.pi, w))).astype(np.float32)
    yy, xx = np.mgrid[y : y + h, x : x + w].astype(np.float32)
    out = background.copy()
    out[y : y + h, x : x + w] = bilinear(background, yy + field[..., 1] * taper, xx + field[..., 0] * taper)
    return out


def bilinear(image: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """`image` sampled at fractional coordinates (clamped to the image)."""
    height, width = image.shape[:2]
    ys, xs = np.clip(ys, 0, height - 1), np.clip(xs, 0, width - 1)
    y0, x0 = ys.astype(np.int32), xs.astype(np.int32)
    y1, x1 = np.minimum(y0 + 1, height - 1), np.minimum(x0 + 1, width - 1)
    wy, wx = (ys - y0)[..., None], (xs - x0)[..., None]
    top = image[y0, x0] * (1 - wx) + image[y0, x1] * wx
    bottom = image[y1, x0] * (1 - wx) + image[y1, x1] * wx
    return top * (1 - wy) + bottom * wy


def draw_strip(image: Image.Image, look: Look, index: int) -> None:
    """The camera's information strip: black bands with this frame's time and temperature in white."""
    width, height = image.size
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(4, int(look.strip_rows * 0.7)))
    stamp = look.clock + timedelta(seconds=index)
    text = f"{stamp:%Y-%m-%d %H:%M:%S}  {look.temperature + index // 4}°C  CAM 03  {index + 1:02d}"
    top, bottom = look.bands(height)
    for y0, y1 in ((0, top), (bottom, height)):
        if y1 > y0:
            draw.rectangle((0, y0, width - 1, y1 - 1), fill=(0, 0, 0))
            draw.text((look.strip_rows // 2, y0 + look.strip_rows // 6), text, fill=(255, 255, 255), font=font)
