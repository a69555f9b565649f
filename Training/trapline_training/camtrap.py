r"""Builds a camera-trap-like data set from real photos on the build machine (deterministic from a seed).

    python -m trapline_training.camtrap --out /tmp/camtrap --seed 0 --train 5000 --eval 600

Real animal photos (the transparent cut-outs of Debian's `tuxpaint-stamps-default`, GPL-2) are composited at
varied scale, position and partial visibility onto crops of real backgrounds (photo wallpapers of
`plasma-workspace-wallpapers`, GPL/LGPL/CC per its copyright file; scikit-image's CC0 textures), then put
through camera-trap conditions: grayscale "infrared" night frames with flash fall-off, low light, motion blur
of the animal, sensor noise and JPEG re-compression. A quarter of the frames are blank (background only).

Whole species (every stamp of a taxon folder) and whole backgrounds are held out for the `eval` split. The
images are 320x240 JPEGs (4:3, like a trail camera; the model's centre crop cuts some animals at the sides)
and `manifest.json` describes every frame. The output is for local training and evaluation only: the
stamps' and wallpapers' licences do not allow shipping it with trapline, so it is never committed.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

STAMPS = Path("/usr/share/tuxpaint/stamps/animals")
WALLPAPERS = Path("/usr/share/wallpapers")
FRAME_WIDTH, FRAME_HEIGHT = 320, 240
BLANK_FRACTION = 0.25

# Taxon folders (paths under STAMPS) whose species only the eval split sees.
HELD_OUT_TAXA = (
    "amphibians",
    "lizards",
    "mammals/cats",
    "mammals/deer",
    "mammals/equines",
    "mammals/rodents",
    "marsupials",
    "shellfish",
)
# Backgrounds: wallpapers that are real photos (the others are drawings), and scikit-image's textures.
TRAIN_BACKGROUNDS = (
    "wallpaper:BytheWater",
    "wallpaper:DarkestHour",
    "wallpaper:EveningGlow",
    "wallpaper:FallenLeaf",
    "wallpaper:Kite",
    "wallpaper:OneStandsOut",
    "wallpaper:summer_1am",
    "texture:grass",
    "texture:brick",
)
EVAL_BACKGROUNDS = ("wallpaper:Path", "wallpaper:ColdRipple", "texture:gravel")
SPLITS = ("train", "eval")


@dataclass(frozen=True)
class Stamp:
    """An animal cut-out: its file, species (file stem) and taxon (folder under STAMPS)."""

    path: Path
    species: str
    taxon: str


def find_stamps(root: Path = STAMPS) -> list[Stamp]:
    """Every photo stamp of an animal, sorted by path (drawn "cartoon" stamps and toys left out)."""
    stamps = []
    for path in sorted(root.rglob("*.png")):
        parts = path.relative_to(root).parts
        if "cartoon" in parts or "toys" in parts:
            continue
        stamps.append(Stamp(path, path.stem, "/".join(parts[:-1])))
    if not stamps:
        raise FileNotFoundError(f"no animal stamps under {root}: install tuxpaint-stamps-default")
    return stamps


def split_stamps(stamps: list[Stamp]) -> dict[str, list[Stamp]]:
    """Stamps by split: the held-out taxa go to `eval`, the rest to `train`."""
    held = [s for s in stamps if s.taxon in HELD_OUT_TAXA]
    return {"train": [s for s in stamps if s.taxon not in HELD_OUT_TAXA], "eval": held}


def _wallpaper_file(name: str) -> Path:
    files = sorted((WALLPAPERS / name / "contents" / "images").glob("*.jpg"), key=lambda p: (p.stat().st_size, p))
    if not files:
        raise FileNotFoundError(f"no wallpaper {name} under {WALLPAPERS}: install plasma-workspace-wallpapers")
    return files[-1]


def _texture_file(name: str) -> Path:
    import skimage  # scikit-image ships its CC0 textures in skimage/data

    return Path(skimage.__file__).parent / "data" / f"{name}.png"


def background_file(key: str) -> Path:
    """The image behind a background key (`wallpaper:NAME` or `texture:NAME`)."""
    kind, name = key.split(":", 1)
    return _wallpaper_file(name) if kind == "wallpaper" else _texture_file(name)


def load_background(key: str, longest: int = 1600) -> np.ndarray:
    """A background as float32 HWC RGB in 0..255, its longest side at most `longest` pixels."""
    with Image.open(background_file(key)) as image:
        rgb = image.convert("RGB")
    rgb.thumbnail((longest, longest), Image.BILINEAR)
    return np.asarray(rgb, dtype=np.float32)


def load_stamp(stamp: Stamp) -> np.ndarray:
    """A stamp as float32 HWC RGBA in 0..255, cropped to its opaque part."""
    with Image.open(stamp.path) as image:
        rgba = image.convert("RGBA")
    box = rgba.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    return np.asarray(rgba.crop(box) if box else rgba, dtype=np.float32)


def resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """An HWC float32 array resized bilinearly, channel by channel."""
    channels = [Image.fromarray(array[..., c]).resize((width, height), Image.BILINEAR) for c in range(array.shape[2])]
    return np.stack([np.asarray(c, dtype=np.float32) for c in channels], axis=-1)


def crop_background(
    rng: np.random.Generator,
    background: np.ndarray,
    texture: bool,
    width: int = FRAME_WIDTH,
    height: int = FRAME_HEIGHT,
) -> np.ndarray:
    """A random crop of the frame's shape (4:3 by default) resized to the frame; textures get an earthy tint
    (they are grayscale)."""
    h, w = background.shape[:2]
    aspect = height / width
    side = rng.uniform(0.3, 1.0) * min(w, h / aspect)
    cw, ch = int(side), int(side * aspect)
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    crop = resize(background[y : y + ch, x : x + cw], width, height)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    if texture:
        tint = np.array([rng.uniform(0.8, 1.1), rng.uniform(0.75, 1.0), rng.uniform(0.5, 0.8)], dtype=np.float32)
        crop = crop * tint
    return crop


def motion_blur(rgba: np.ndarray, length: int, vertical: bool) -> np.ndarray:
    """Averages `length` shifted copies along one axis (premultiplied alpha, so edges smear like motion)."""
    premultiplied = np.concatenate([rgba[..., :3] * rgba[..., 3:] / 255, rgba[..., 3:]], axis=-1)
    axis = 0 if vertical else 1
    pad = [(0, 0)] * 3
    pad[axis] = (length, length)
    padded = np.pad(premultiplied, pad)
    out = np.zeros_like(padded)
    for shift in range(length):
        out += np.roll(padded, shift - length // 2, axis=axis)
    out /= length
    alpha = out[..., 3:]
    colour = np.where(alpha > 0, out[..., :3] * 255 / np.maximum(alpha, 1e-3), 0)
    return np.concatenate([colour, alpha], axis=-1)


def blend(region: np.ndarray, part: np.ndarray, exponent: float) -> None:
    """Pastes the RGBA `part` onto the RGB `region` of the same size in place, lit like its surroundings part of
    the way (the luminance ratio raised to `exponent`)."""
    opaque = part[..., 3] > 128
    lum_bg = float(region.mean()) + 1
    lum_an = (float(part[..., :3][opaque].mean()) if opaque.any() else 128.0) + 1
    gain = float(np.clip((lum_bg / lum_an) ** exponent, 0.5, 1.6))
    alpha = part[..., 3:] / 255
    region[:] = region * (1 - alpha) + np.clip(part[..., :3] * gain, 0, 255) * alpha


def composite(rng: np.random.Generator, frame: np.ndarray, animal: np.ndarray, blur: int) -> dict[str, Any]:
    """Pastes `animal` (RGBA) onto `frame` in place; returns its placement (scale, visible fraction)."""
    scale = float(rng.uniform(0.2, 0.9))  # animal height / frame height
    height = max(8, int(FRAME_HEIGHT * scale))
    width = max(8, int(animal.shape[1] * height / animal.shape[0]))
    if width > FRAME_WIDTH * 1.2:
        width = int(FRAME_WIDTH * 1.2)
        height = max(8, int(animal.shape[0] * width / animal.shape[1]))
    sprite = resize(animal, width, height)
    if rng.random() < 0.5:
        sprite = sprite[:, ::-1]
    if blur > 1:
        sprite = motion_blur(sprite, blur, vertical=False)
        height, width = sprite.shape[:2]
    # Animals at the frame's edge are partly out of view (up to 45% of their width or height).
    x = int(rng.integers(-int(0.45 * width), FRAME_WIDTH - int(0.55 * width) + 1))
    y = int(rng.integers(-int(0.3 * height), FRAME_HEIGHT - int(0.7 * height) + 1))
    fx0, fy0 = max(x, 0), max(y, 0)
    fx1, fy1 = min(x + width, FRAME_WIDTH), min(y + height, FRAME_HEIGHT)
    part = sprite[fy0 - y : fy1 - y, fx0 - x : fx1 - x]
    blend(frame[fy0:fy1, fx0:fx1], part, float(rng.uniform(0.2, 0.6)))
    total = float(sprite[..., 3].sum()) + 1e-6
    return {"scale": round(scale, 3), "visible": round(float(part[..., 3].sum()) / total, 3)}


def night(rng: np.random.Generator, frame: np.ndarray) -> np.ndarray:
    """An infrared night frame: grayscale, bright centre (the IR flash) falling off to the edges, low contrast."""
    height, width = frame.shape[:2]
    gray = frame @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r2 = ((xx - width / 2) / width) ** 2 + ((yy - height / 2) / height) ** 2
    falloff = np.exp(-r2 * rng.uniform(1.5, 5.0))
    gray = gray * rng.uniform(0.5, 1.1) * falloff + rng.uniform(5, 25)
    return np.repeat(gray[..., None], 3, axis=-1)


def frame_conditions(rng: np.random.Generator) -> dict[str, Any]:
    """The camera-trap conditions of one frame, drawn before rendering it."""
    is_night = bool(rng.random() < 0.3)
    return {
        "night": is_night,
        "lowLight": round(float(rng.uniform(0.25, 0.6)), 3) if not is_night and rng.random() < 0.2 else None,
        "motionBlur": int(rng.integers(3, 16)) if rng.random() < 0.25 else 0,
        "noise": round(float(rng.uniform(4, 14) if is_night else rng.uniform(0, 6)), 2),
        "jpegQuality": int(rng.integers(40, 91)),
    }


@dataclass
class Frame:
    """One frame of the data set as the manifest lists it."""

    file: str
    split: str
    label: str  # "animal" or "blank"
    background: str
    night: bool
    lowLight: float | None  # noqa: N815 (manifest field name)
    motionBlur: int  # noqa: N815
    noise: float
    jpegQuality: int  # noqa: N815
    species: str | None = None
    taxon: str | None = None
    scale: float | None = None
    visible: float | None = None


class Builder:
    """Renders frames; caches the decoded backgrounds and stamps."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.stamps = split_stamps(find_stamps())
        self.backgrounds = {"train": TRAIN_BACKGROUNDS, "eval": EVAL_BACKGROUNDS}
        self._pixels: dict[str, np.ndarray] = {}

    def _background(self, key: str) -> np.ndarray:
        if key not in self._pixels:
            self._pixels[key] = load_background(key)
        return self._pixels[key]

    def _stamp(self, stamp: Stamp) -> np.ndarray:
        key = str(stamp.path)
        if key not in self._pixels:
            self._pixels[key] = load_stamp(stamp)
        return self._pixels[key]

    def render(self, split: str, index: int) -> tuple[bytes, Frame]:
        """JPEG bytes and manifest entry of frame `index` of `split` (independent of every other frame)."""
        rng = np.random.default_rng([self.seed, SPLITS.index(split), index])
        conditions = frame_conditions(rng)
        key = self.backgrounds[split][int(rng.integers(len(self.backgrounds[split])))]
        frame = crop_background(rng, self._background(key), key.startswith("texture:"))
        info: dict[str, Any] = {"label": "blank"}
        if rng.random() >= BLANK_FRACTION:
            stamp = self.stamps[split][int(rng.integers(len(self.stamps[split])))]
            placed = composite(rng, frame, self._stamp(stamp), conditions["motionBlur"])
            info = {"label": "animal", "species": stamp.species, "taxon": stamp.taxon, **placed}
        else:
            conditions["motionBlur"] = 0
        if conditions["night"]:
            frame = night(rng, frame)
        elif conditions["lowLight"] is not None:
            frame = frame * conditions["lowLight"]
        frame = frame + rng.normal(0, conditions["noise"], frame.shape).astype(np.float32)
        image = Image.fromarray(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
        if rng.random() < 0.3:
            image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))  # focus, dew
        data = io.BytesIO()
        image.save(data, format="JPEG", quality=conditions["jpegQuality"])
        name = f"{split}/{index:05d}.jpg"
        return data.getvalue(), Frame(file=name, split=split, background=key, **conditions, **info)


NOTICE = """Camera-trap-like frames built by trapline_training.camtrap (seed {seed}).
Not for redistribution: the animals are tuxpaint-stamps-default photos (GPL-2, Bill Kendrick et al.), the
backgrounds crops of plasma-workspace-wallpapers photos (GPL/LGPL/CC, see
/usr/share/doc/plasma-workspace-wallpapers/copyright) and scikit-image textures (CC0).
"""


def build(out: Path, seed: int, counts: dict[str, int], log: bool = True) -> dict[str, Any]:
    """Writes the data set to `out` (`{split}/NNNNN.jpg`, `manifest.json`, `NOTICE.txt`); returns the manifest."""
    builder = Builder(seed)
    frames: list[dict[str, Any]] = []
    for split in SPLITS:
        (out / split).mkdir(parents=True, exist_ok=True)
        for index in range(counts.get(split, 0)):
            data, frame = builder.render(split, index)
            (out / frame.file).write_bytes(data)
            frames.append(asdict(frame))
            if log and (index + 1) % 500 == 0:
                print(f"{split}: {index + 1}/{counts[split]}", flush=True)
    manifest = {
        "builder": "trapline_training.camtrap",
        "seed": seed,
        "counts": counts,
        "frame": [FRAME_WIDTH, FRAME_HEIGHT],
        "heldOutTaxa": list(HELD_OUT_TAXA),
        "backgrounds": {"train": list(TRAIN_BACKGROUNDS), "eval": list(EVAL_BACKGROUNDS)},
        "species": {split: sorted({s.species for s in builder.stamps[split]}) for split in SPLITS},
        "frames": frames,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (out / "NOTICE.txt").write_text(NOTICE.format(seed=seed), encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.camtrap", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--train", type=int, default=5000, help="training frames (5000)")
    parser.add_argument("--eval", type=int, default=600, help="held-out frames (600)")
    args = parser.parse_args(argv)
    manifest = build(args.out, args.seed, {"train": args.train, "eval": args.eval})
    animals = sum(f["label"] == "animal" for f in manifest["frames"])
    print(f"wrote {len(manifest['frames'])} frames ({animals} with an animal) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
