r"""Reference outputs for the Swift engine's tests, computed by PyTorch in fp32 from a model file's weights.

    python -m trapline_training.golden --model Models/efficientnet-lite0.safetensors \
        --out Tests/InferenceTests/Fixtures/golden.safetensors

Tensors: `input.{k}` U8 [224, 224, 3]; `logits.{k}.level{l}` F32 [1000] (every unit at level l);
`activation.level{l}.unit{b}` F32 NHWC for image 0 at the 4-node plan's internal boundaries (the activation
entering unit b); `logits.0.mixed` F32 [1000] with the 4-node plan's slices at levels MIXED_SLICE_LEVELS.
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import __version__ as pillow_version
from safetensors.torch import save_file

from . import modelfile
from .images import INPUT_MEAN, INPUT_SCALE, PHOTOS, load_photo, normalise
from .model import TraplineNet, to_nhwc
from .slicing import levels_for_slices

PLAN_NODES = "4"
MIXED_SLICE_LEVELS = (0, 3, 1, 2)


def logits_at_every_level(model: TraplineNet, image: np.ndarray, k: int) -> dict[str, torch.Tensor]:
    """`logits.{k}.level{l}` for one image at every level."""
    x = normalise(image)
    return {
        f"logits.{k}.level{level}": model(x, model.arch.full_levels(level))[0]
        for level in range(model.arch.level_count)
    }


def boundary_activations(model: TraplineNet, image: np.ndarray, boundaries: list[int]) -> dict[str, torch.Tensor]:
    """`activation.level{l}.unit{b}` (NHWC) for the internal boundaries, running the plan slice by slice."""
    tensors = {}
    for level in range(model.arch.level_count):
        x, levels = normalise(image), model.arch.full_levels(level)
        for start, end in pairwise(boundaries):
            if start > 0:
                tensors[f"activation.level{level}.unit{start}"] = to_nhwc(x)
            x = model(x, levels, start, end)
    return tensors


def golden_metadata(model_path: Path, boundaries: list[int], mixed: list[int]) -> dict[str, Any]:
    """The `golden` document: where the inputs come from and how the outputs were computed."""
    return {
        "images": [
            {
                "index": k,
                "path": str(p.path),
                "package": p.package,
                "license": p.license,
                "copyright": p.copyright,
                "sha256": modelfile.sha256(p.path),
            }
            for k, p in enumerate(PHOTOS)
        ],
        "preprocessing": (
            f"Pillow {pillow_version}: convert('RGB'), resize((224, 224), BILINEAR, box=centred square of side "
            "min(w, h)), uint8 HWC RGB"
        ),
        "normalisation": {
            "mean": [INPUT_MEAN] * 3,
            "scale": [INPUT_SCALE] * 3,
            "formula": "(x - mean) / scale",
            "layout": "inputs uint8 HWC; activations float32 NHWC",
        },
        "model": {"path": model_path.name, "sha256": modelfile.sha256(model_path)},
        "computedBy": (
            f"trapline_training.golden, torch {torch.__version__}, float32 on one thread from the stored weights"
        ),
        "planNodes": int(PLAN_NODES),
        "planBoundaries": boundaries,
        "mixedSliceLevels": list(MIXED_SLICE_LEVELS),
        "mixedLevels": mixed,
    }


def compute(model_path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Every golden tensor and the metadata document for the model file at `model_path`, on one thread.

    One thread because PyTorch's CPU kernels split sums differently with more threads (measured: 1.8e-5 apart
    on the logits between one and two threads), and the goldens must regenerate to the same numbers.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _compute(model_path)
    finally:
        torch.set_num_threads(threads)


def _compute(model_path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    model, meta = modelfile.read(model_path)
    boundaries = meta["slicePlans"][PLAN_NODES]
    mixed = levels_for_slices(boundaries, MIXED_SLICE_LEVELS)
    images = [load_photo(p.path) for p in PHOTOS]
    tensors: dict[str, torch.Tensor] = {}
    with torch.inference_mode():
        for k, image in enumerate(images):
            tensors[f"input.{k}"] = torch.from_numpy(image)
            tensors.update(logits_at_every_level(model, image, k))
        tensors.update(boundary_activations(model, images[0], boundaries))
        tensors["logits.0.mixed"] = model(normalise(images[0]), mixed)[0]
    tensors = {name: t.contiguous() for name, t in tensors.items()}
    return tensors, golden_metadata(model_path, boundaries, mixed)


def write(model_path: Path, out: Path) -> None:
    """Computes the goldens for `model_path` and writes them to `out` (safetensors, `golden` metadata)."""
    tensors, meta = compute(model_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata={"golden": json.dumps(meta)})


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.golden", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="trapline model file (.safetensors)")
    parser.add_argument("--out", type=Path, required=True, help="golden file to write (.safetensors)")
    args = parser.parse_args(argv)
    write(args.model, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
