r"""Builds camera-trap-like bursts with known animal boxes (deterministic from a seed).

    python -m trapline_training.bursts --out /tmp/bursts --seed 0 --animal 60 --blank 30

A burst is 3 to 10 frames of one background crop, as a camera trap takes them after one trigger. In an animal
burst one real animal cut-out (the stamps of `trapline_training.camtrap`), small to medium (3-25% of the frame's
area), enters or crosses the frame along a smooth path; in some bursts it stands still for a few frames (a grazing
animal). Blank bursts get the same disturbances without an animal: infrared night frames (whole bursts), sensor
noise, exposure flicker between frames, swaying vegetation (a smooth warp of part of the background that differs
from frame to frame) and an information strip (a black band with a timestamp and temperature) at the bottom
and/or top.

The eval split (the default) uses only the held-out species and backgrounds of `camtrap`. `manifest.json` gives
every frame's true box, relative to the frame with a top-left origin: the bounding box of the animal's visible
pixels (alpha >= 128) inside the frame and outside the strip, or null where less than 15% of the animal is
visible (the frame then counts as blank). The output is for local evaluation only (licences as `camtrap`).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .burst_camera import Look, draw_look, draw_strip, swayed
from .camtrap import (
    EVAL_BACKGROUNDS,
    HELD_OUT_TAXA,
    NOTICE,
    SPLITS,
    STAMPS,
    TRAIN_BACKGROUNDS,
    Builder,
    blend,
    crop_background,
    motion_blur,
    night,
    resize,
)

FRAMES = (3, 10)  # frames per burst, inclusive
AREA = (0.03, 0.25)  # the animal's share of the frame's area (log-uniform)
VISIBLE_THRESHOLD = 0.15  # less of the animal in view than this: the frame counts as blank
STATIONARY_SHARE = 0.15  # of the animal bursts: the animal stands still for a few frames
JPEG_QUALITY = 85
STREAM = 17  # keeps the bursts' random streams apart from camtrap's frames (GitHub issue 17)


def sprite_for(rng: np.random.Generator, stamp: np.ndarray, width: int, height: int) -> np.ndarray:
    """The stamp resized to a log-uniform share of the frame's area (at most 80% of either side), maybe mirrored."""
    area = math.exp(rng.uniform(math.log(AREA[0]), math.log(AREA[1]))) * width * height
    aspect = stamp.shape[1] / stamp.shape[0]
    h = math.sqrt(area / aspect)
    w = h * aspect
    shrink = min(1.0, 0.8 * width / w, 0.8 * height / h)
    sprite = resize(stamp, max(4, int(w * shrink)), max(4, int(h * shrink)))
    return sprite[:, ::-1] if rng.random() < 0.5 else sprite


def visible_share(alpha: np.ndarray, x: int, y: int, width: int, rows: tuple[int, int]) -> float:
    """The share of the sprite's opacity inside the frame's scene (`rows`: first and past-last row off the strip)."""
    sh, sw = alpha.shape
    x0, x1 = max(x, 0), min(x + sw, width)
    y0, y1 = max(y, rows[0]), min(y + sh, rows[1])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    return float(alpha[y0 - y : y1 - y, x0 - x : x1 - x].sum() / max(float(alpha.sum()), 1e-6))


def timeline(rng: np.random.Generator, n: int, stationary: bool) -> tuple[np.ndarray, list[int]]:
    """Path parameters in 0..1 per frame (uneven steps) and the frames where the animal stands still."""
    steps = rng.uniform(0.7, 1.3, n - 1)
    still: list[int] = []
    if stationary:
        length = int(rng.integers(3, min(n, 6) + 1))
        start = int(rng.integers(0, n - length + 1))
        steps[start : start + length - 1] = 0
        still = list(range(start, start + length))
    t = np.concatenate([[0.0], np.cumsum(steps)])
    return (t / t[-1] if t[-1] > 0 else np.full(n, rng.uniform(0.2, 0.8))), still


def plan_path(
    rng: np.random.Generator, alpha: np.ndarray, n: int, size: tuple[int, int], rows: tuple[int, int], still: bool
) -> tuple[list[tuple[int, int]], list[int]]:
    """Top-left sprite positions along a quadratic Bezier that enters or crosses the frame, redrawn until at
    least half the frames (two at least) show enough of the animal; and the still frames."""
    width, _ = size
    sh, sw = alpha.shape
    scene = rows[1] - rows[0]
    # Feet in the lower half of the scene, as an animal on the ground in front of a trail camera.
    low, high = rows[0] + 0.5 * scene - sh, rows[1] - sh
    low = min(max(low, rows[0] - 0.1 * sh), high)
    for _ in range(50):
        leftward = rng.random() < 0.5
        if rng.random() < 0.5:  # enters from a side
            x0 = -0.9 * sw if not leftward else width - 0.1 * sw
        else:
            x0 = rng.uniform(-0.3 * sw, width - 0.7 * sw)
        x2 = x0 + (-1 if leftward else 1) * rng.uniform(0.25, 0.9) * width
        y0 = rng.uniform(low, high)
        y2 = float(np.clip(y0 + rng.uniform(-0.15, 0.15) * (rows[1] - rows[0]), low, high))
        bend = rng.uniform(-0.15, 0.15) * abs(x2 - x0)
        x1, y1 = (x0 + x2) / 2, (y0 + y2) / 2 + bend
        t, still_frames = timeline(rng, n, still)
        xs = (1 - t) ** 2 * x0 + 2 * (1 - t) * t * x1 + t**2 * x2
        ys = (1 - t) ** 2 * y0 + 2 * (1 - t) * t * y1 + t**2 * y2
        path = [(round(float(x)), round(float(y))) for x, y in zip(xs, ys, strict=True)]
        shown = sum(visible_share(alpha, x, y, width, rows) >= VISIBLE_THRESHOLD for x, y in path)
        if shown >= max(2, math.ceil(n / 2)):
            break
    return path, still_frames


def paste(frame: np.ndarray, sprite: np.ndarray, x: int, y: int, rows: tuple[int, int]) -> dict[str, Any] | None:
    """Pastes the sprite at (x, y) in place; returns its visible box in pixels inside the scene, or None."""
    height, width = frame.shape[:2]
    sh, sw = sprite.shape[:2]
    x0, x1, y0, y1 = max(x, 0), min(x + sw, width), max(y, 0), min(y + sh, height)
    if x1 <= x0 or y1 <= y0:
        return None
    blend(frame[y0:y1, x0:x1], sprite[y0 - y : y1 - y, x0 - x : x1 - x], 0.4)
    s0, s1 = max(y, rows[0]), min(y + sh, rows[1])
    if s1 <= s0:
        return None
    opaque = sprite[s0 - y : s1 - y, x0 - x : x1 - x, 3] >= 128
    cols, lines = np.flatnonzero(opaque.any(0)), np.flatnonzero(opaque.any(1))
    if not cols.size:
        return None
    return {
        "x": x0 + int(cols[0]),
        "y": s0 + int(lines[0]),
        "width": int(cols[-1] - cols[0]) + 1,
        "height": int(lines[-1] - lines[0]) + 1,
    }


@dataclass
class Burst:
    """One burst as the manifest lists it."""

    id: str
    folder: str
    kind: str  # "animal" or "blank"
    background: str
    ir: bool
    strip: bool
    stripPlacement: str | None  # noqa: N815 (manifest field names)
    stripRows: int  # noqa: N815 (the height of each band in pixels)
    sway: bool
    noise: float
    stationary: bool = False
    stationaryFrames: list[int] = field(default_factory=list)  # noqa: N815
    species: str | None = None
    taxon: str | None = None
    stamp: str | None = None  # the stamp's path under camtrap.STAMPS
    motionBlur: int = 0  # noqa: N815
    frames: list[dict[str, Any]] = field(default_factory=list)


class BurstBuilder(Builder):
    """Renders bursts at one frame size; caches the decoded backgrounds and stamps like `camtrap.Builder`."""

    def __init__(self, seed: int, width: int, height: int, frames: tuple[int, int] = FRAMES) -> None:
        super().__init__(seed)
        self.width, self.height, self.frames = width, height, frames

    def render(  # type: ignore[override]
        self, split: str, index: int, kind: str, stationary: bool = False
    ) -> tuple[list[bytes], Burst]:
        """The JPEG bytes of every frame and the manifest entry of burst `index` (independent of the others); a
        `stationary` animal stands still for a few frames."""
        rng = np.random.default_rng([STREAM, self.seed, SPLITS.index(split), index])
        n = int(rng.integers(self.frames[0], self.frames[1] + 1))
        look = draw_look(rng, self.width, self.height)
        key = self.backgrounds[split][int(rng.integers(len(self.backgrounds[split])))]
        base = crop_background(rng, self._background(key), key.startswith("texture:"), self.width, self.height)
        folder = f"bursts/{index:04d}"
        burst = Burst(
            id=f"{index:04d}",
            folder=folder,
            kind=kind,
            background=key,
            ir=look.ir,
            strip=look.strip is not None,
            stripPlacement=look.strip,
            stripRows=look.strip_rows if look.strip else 0,
            sway=look.sway is not None,
            noise=round(look.noise, 2),
        )
        rows = look.bands(self.height)
        sprite, path = None, [None] * n
        if kind == "animal":
            stamp = self.stamps[split][int(rng.integers(len(self.stamps[split])))]
            sprite = sprite_for(rng, self._stamp(stamp), self.width, self.height)
            burst.stationary = stationary
            if look.ir and not burst.stationary and rng.random() < 0.5:  # long night exposures smear movement
                burst.motionBlur = max(2, int(rng.uniform(3, 10) * self.width / 640))
                sprite = motion_blur(sprite, burst.motionBlur, vertical=False)
            path, burst.stationaryFrames = plan_path(
                rng, sprite[..., 3], n, (self.width, self.height), rows, burst.stationary
            )
            burst.species, burst.taxon = stamp.species, stamp.taxon
            burst.stamp = stamp.path.relative_to(STAMPS).as_posix()
        images = []
        for k in range(n):
            data, entry = self._frame(rng, base, look, k, sprite, path[k])
            entry["file"] = f"{folder}/f{k:02d}.jpg"
            images.append(data)
            burst.frames.append(entry)
        return images, burst

    def _frame(
        self,
        rng: np.random.Generator,
        base: np.ndarray,
        look: Look,
        index: int,
        sprite: np.ndarray | None,
        at: tuple[int, int] | None,
    ) -> tuple[bytes, dict[str, Any]]:
        frame = swayed(rng, base, look)
        frame = frame.copy() if frame is base else frame
        rows = look.bands(self.height)
        box, visible = None, 0.0
        if sprite is not None and at is not None:
            visible = visible_share(sprite[..., 3], at[0], at[1], self.width, rows)
            box = paste(frame, sprite, at[0], at[1], rows)
        if visible < VISIBLE_THRESHOLD:
            box = None
        if look.ir:
            frame = night(np.random.default_rng(look.ir_seed), frame)
        gain, offset = float(rng.uniform(0.85, 1.15)), float(rng.uniform(-8, 8))
        channels = 1 if look.ir else 3
        noise = rng.standard_normal((self.height, self.width, channels), dtype=np.float32) * look.noise
        frame = frame * gain + (offset + 0.5) + noise
        image = Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8))
        if look.strip is not None:
            draw_strip(image, look, index)
        data = io.BytesIO()
        image.save(data, format="JPEG", quality=JPEG_QUALITY)
        relative = None
        if box is not None:
            relative = {
                "x": round(box["x"] / self.width, 6),
                "y": round(box["y"] / self.height, 6),
                "width": round(box["width"] / self.width, 6),
                "height": round(box["height"] / self.height, 6),
            }
        entry = {
            "file": "",
            "width": self.width,
            "height": self.height,
            "box": relative,
            "visible": round(visible, 4),
            "animal": relative is not None,
            "gain": round(gain, 3),
            "offset": round(offset, 2),
        }
        return data.getvalue(), entry


def burst_kinds(seed: int, animal: int, blank: int) -> list[tuple[str, bool]]:
    """Each burst's kind and whether its animal stands still, animal and blank bursts shuffled together (so the
    first N bursts hold both); a fixed share of the animal bursts stands still."""
    order = np.random.default_rng([STREAM, seed]).permutation(animal + blank)
    still = round(STATIONARY_SHARE * animal)
    return [("animal", int(k) < still) if k < animal else ("blank", False) for k in order]


def build(
    out: Path,
    seed: int,
    animal: int,
    blank: int,
    split: str = "eval",
    size: tuple[int, int] = (1280, 960),
    frames: tuple[int, int] = FRAMES,
    log: bool = True,
) -> dict[str, Any]:
    """Writes the bursts to `out` (`bursts/NNNN/fFF.jpg`, `manifest.json`, `NOTICE.txt`); returns the manifest.
    `size` is the frames' width and height, `frames` the least and most frames a burst has."""
    builder = BurstBuilder(seed, *size, frames)
    bursts = []
    for index, (kind, stationary) in enumerate(burst_kinds(seed, animal, blank)):
        images, burst = builder.render(split, index, kind, stationary)
        (out / burst.folder).mkdir(parents=True, exist_ok=True)
        for data, frame in zip(images, burst.frames, strict=True):
            (out / frame["file"]).write_bytes(data)
        bursts.append(asdict(burst))
        if log and (index + 1) % 10 == 0:
            print(f"{index + 1}/{animal + blank} bursts", flush=True)
    manifest = {
        "builder": "trapline_training.bursts",
        "seed": seed,
        "split": split,
        "counts": {"animal": animal, "blank": blank},
        "frame": list(size),
        "framesPerBurst": list(frames),
        "visibleThreshold": VISIBLE_THRESHOLD,
        "truth": (
            "box: the bounding box of the animal's visible pixels (alpha >= 128) inside the frame and off the "
            "info strip, relative to the frame (top-left origin, 0..1); null (and animal false) where less than "
            f"{VISIBLE_THRESHOLD:.0%} of the animal's opacity is in view: such a frame counts as blank"
        ),
        "heldOutTaxa": list(HELD_OUT_TAXA),
        "backgrounds": {"train": list(TRAIN_BACKGROUNDS), "eval": list(EVAL_BACKGROUNDS)}[split],
        "species": sorted({s.species for s in builder.stamps[split]}),
        "bursts": bursts,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    notice = NOTICE.format(seed=seed).replace("trapline_training.camtrap", "trapline_training.bursts")
    (out / "NOTICE.txt").write_text(notice, encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.bursts", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--animal", type=int, default=60, help="bursts with an animal (60)")
    parser.add_argument("--blank", type=int, default=30, help="bursts without (30)")
    parser.add_argument("--split", choices=SPLITS, default="eval", help="species and backgrounds to use (eval)")
    parser.add_argument("--width", type=int, default=1280, help="frame width (1280)")
    parser.add_argument("--height", type=int, default=960, help="frame height (960)")
    args = parser.parse_args(argv)
    if args.width < 32 or args.height < 32 or args.animal < 0 or args.blank < 0:
        parser.error("frames need at least 32x32 pixels and burst counts cannot be negative")
    started = time.monotonic()
    manifest = build(args.out, args.seed, args.animal, args.blank, args.split, (args.width, args.height))
    frames = sum(len(b["frames"]) for b in manifest["bursts"])
    seconds = time.monotonic() - started
    print(f"wrote {len(manifest['bursts'])} bursts ({frames} frames) to {args.out} in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
