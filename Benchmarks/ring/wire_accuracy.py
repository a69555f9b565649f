"""What the ring's wire encodings do to the labels, on real photos: float32 against float16 and int8 on the wire.

The bundled model at full width, cut at a plan's boundaries (default: the 4-node plan); each boundary tensor is
rounded as the encoding rounds it (float16: to half precision; int8: a scale per channel, max |x| / 127 over the
batch, then round to the nearest step), the way the ring's nodes encode and decode it. Reported against float32
on the wire: top-1 agreement, the animal/blank decision (animal when the animal classes hold at least half the
probability, as trapline labels), the largest change of the top class's probability.
Usage: PYTHONPATH=Training python3 Benchmarks/ring/wire_accuracy.py [--nodes 4] [--batch 8]
"""

from __future__ import annotations

import argparse
import glob
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import torch
from trapline_training import modelfile
from trapline_training.evaluate import animal_mask
from trapline_training.images import load_photo, normalise

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "Models" / "efficientnet-lite0.safetensors"
# Real photos from Debian's packages (scripts/setup.sh --test installs them): camera wallpapers, darknet's and
# OpenCV's sample photos, libjxl's flower in its JPEG layouts (one of them).
PHOTO_GLOBS = (
    "/usr/share/wallpapers/*/contents/images/*.jpg",
    "/usr/share/darknet/data/*.jpg",
    "/usr/share/doc/opencv-doc/examples/data/*.jpg",
    "/usr/share/libjxl-testdata/jxl/flower/flower.png.im_q85_420.jpg",
)


def rounded(x: torch.Tensor, encoding: str) -> torch.Tensor:
    """`x` (NCHW) as the far node decodes it."""
    if encoding == "float16":
        return x.half().float()
    if encoding == "int8":
        scale = x.abs().amax(dim=(0, 2, 3), keepdim=True) / 127
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        return (x / scale).round().clamp(-127, 127) * scale
    return x


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="4", help="the plan (node count) whose boundaries the tensors cross")
    parser.add_argument("--batch", type=int, default=8, help="images per batch (int8 scales are per batch)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model, meta = modelfile.read(MODEL)
    plan = meta["slicePlans"][args.nodes]
    mask = animal_mask(meta["classes"]["animalRanges"], len(meta["classes"]["names"]))
    paths = sorted({p for pattern in PHOTO_GLOBS for p in glob.glob(pattern)})
    images = []
    for path in paths:
        try:
            images.append(load_photo(path))
        except OSError:
            continue
    levels = model.arch.full_levels(0)
    results: dict[str, list[torch.Tensor]] = {"float32": [], "float16": [], "int8": []}
    with torch.inference_mode():
        for first in range(0, len(images), args.batch):
            x0 = normalise(np.stack(images[first : first + args.batch]))
            for encoding, out in results.items():
                x = x0
                for start, end in pairwise(plan):
                    x = model(rounded(x, encoding) if start > 0 else x, levels, start, end)
                out.append(x.softmax(1))
    probabilities = {name: torch.cat(parts) for name, parts in results.items()}
    reference = probabilities["float32"]
    top = reference.argmax(1)
    animal = reference[:, mask].sum(1) >= 0.5
    print(f"{len(images)} real photos, plan {plan}, batches of {args.batch}, full width")
    print("encoding  top-1 agreement  animal/blank agreement  largest change of the top probability")
    for name, p in probabilities.items():
        agree = (p.argmax(1) == top).float().mean().item()
        decision = ((p[:, mask].sum(1) >= 0.5) == animal).float().mean().item()
        change = (p.gather(1, top[:, None]) - reference.gather(1, top[:, None])).abs().max().item()
        print(f"{name:8}  {100 * agree:14.1f}%  {100 * decision:21.1f}%  {change:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
