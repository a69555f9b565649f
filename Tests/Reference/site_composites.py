"""Writes small camera-trap-like JPEGs for the site-head tests: real animal photos (tuxpaint-stamps-default's
cut-outs) pasted at random scale and position onto random crops of real photo wallpapers, deterministic from a seed.

    python3 site_composites.py OUT CLASS=STAMP[,STAMP...] ... [--per-class N] [--seed S] [--backgrounds A,B]
        [--size 320x240]

`CLASS=blank` (no stamps) writes backgrounds only. Each class gets OUT/CLASS/NNN.jpg.
"""

import argparse
import random
from pathlib import Path

from PIL import Image

STAMPS = Path("/usr/share/tuxpaint/stamps/animals")
WALLPAPERS = Path("/usr/share/wallpapers")


def stamp_path(name: str) -> Path:
    """The stamp's PNG anywhere under the animals folder (`deer` -> mammals/deer/deer.png)."""
    found = sorted(STAMPS.rglob(f"{name}.png"))
    if not found:
        raise SystemExit(f"no stamp named {name} under {STAMPS}")
    return found[0]


def background(name: str) -> Image.Image:
    folder = WALLPAPERS / name / "contents" / "images"
    return Image.open(sorted(folder.glob("*.jpg"))[0]).convert("RGB")


def frame(
    rng: random.Random, scene: Image.Image, stamp: Image.Image | None, size: tuple[int, int] = (320, 240)
) -> Image.Image:
    """A 4:3 crop of the scene at `size`, with the stamp pasted on at 30-60% of the frame's height."""
    width = rng.randint(scene.width // 4, scene.width // 2)
    height = width * 3 // 4
    x, y = rng.randint(0, scene.width - width), rng.randint(0, scene.height - height)
    image = scene.crop((x, y, x + width, y + height)).resize(size)
    if stamp is not None:
        size_px = rng.uniform(0.3, 0.6) * size[1]
        scale = size_px / max(stamp.width, stamp.height)
        animal = stamp.resize((max(1, int(stamp.width * scale)), max(1, int(stamp.height * scale))))
        if rng.random() < 0.5:
            animal = animal.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        left = rng.randint(0, size[0] - animal.width)
        top = rng.randint(0, size[1] - animal.height)
        image.paste(animal, (left, top), animal)
    return image


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("classes", nargs="+")
    parser.add_argument("--per-class", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backgrounds", default="BytheWater,DarkestHour,FallenLeaf,Kite")
    parser.add_argument("--size", default="320x240", help="frame width x height")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    scenes = [background(name) for name in args.backgrounds.split(",")]
    for index, spec in enumerate(args.classes):
        name, _, stamps = spec.partition("=")
        cutouts = [Image.open(stamp_path(s)).convert("RGBA") for s in stamps.split(",") if s and s != "blank"]
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        rng = random.Random(args.seed * 1000 + index)
        for k in range(args.per_class):
            stamp = cutouts[k % len(cutouts)] if cutouts else None
            frame(rng, scenes[k % len(scenes)], stamp, size).save(folder / f"{k:03d}.jpg", quality=90)


if __name__ == "__main__":
    main()
