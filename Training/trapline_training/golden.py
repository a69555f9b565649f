r"""Reference outputs for the Swift engine's tests, computed by PyTorch in fp32 from a model file's weights.

    python -m trapline_training.golden --model Models/efficientnet-lite0.safetensors \
        --out Tests/InferenceTests/Fixtures/golden.safetensors
    python -m trapline_training.golden --model Models/efficientnet-lite0.safetensors \
        --check Tests/InferenceTests/Fixtures/golden.safetensors    # how far this machine is from them

Tensors: `input.{k}` U8 [224, 224, 3]; `logits.{k}.level{l}` F32 [1000] (every unit at level l);
`activation.level{l}.unit{b}` F32 NHWC for image 0 at the 4-node plan's internal boundaries (the activation
entering unit b); `logits.0.mixed` F32 [1000] with the 4-node plan's slices at levels MIXED_SLICE_LEVELS.
A format 2 model adds, for image 0, `logits.0.slice{s}.option{o}` (slice s of the 4-node plan at slice option
o, the others at full width) for every option beyond the width levels, and `logits.0.mixedOptions` with the
slices at MIXED_SLICE_OPTIONS (an option index past the last is clamped to it).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import __version__ as pillow_version
from safetensors import safe_open
from safetensors.torch import save_file

from . import modelfile, tolerance
from .architecture import Architecture, architecture_from_metadata
from .images import INPUT_MEAN, INPUT_SCALE, PHOTOS, load_photo, normalise
from .model import TraplineNet, to_nhwc
from .slicing import levels_for_slices

PLAN_NODES = "4"
MIXED_SLICE_LEVELS = (0, 3, 1, 2)
MIXED_SLICE_OPTIONS = (1, 4, 2, 4)


def clamp_options(meta: dict[str, Any]) -> list[int]:
    """MIXED_SLICE_OPTIONS with each index clamped to the model's options."""
    last = modelfile.option_count(meta) - 1
    return [min(o, last) for o in MIXED_SLICE_OPTIONS]


def option_logits(model: TraplineNet, meta: dict[str, Any], image: np.ndarray, boundaries: list[int]) -> dict:
    """`logits.0.slice{s}.option{o}` and `logits.0.mixedOptions` (format 2 models only)."""
    from .levels import option_levels  # imported here: levels imports camtrap and label_eval

    if not meta.get("sliceOptions"):
        return {}
    x = normalise(image)
    tensors = {}
    slices = len(boundaries) - 1
    for option in range(len(meta["pruneLevels"]), modelfile.option_count(meta)):
        for s in range(slices):
            chosen = [0] * slices
            chosen[s] = option
            tensors[f"logits.0.slice{s}.option{option}"] = model(x, option_levels(meta, boundaries, chosen))[0]
    tensors["logits.0.mixedOptions"] = model(x, option_levels(meta, boundaries, clamp_options(meta)))[0]
    return tensors


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
        "mixedSliceOptions": clamp_options(modelfile.read_metadata(model_path)),
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
    return tensors_for(model, boundaries, meta), golden_metadata(model_path, boundaries, mixed)


def tensors_for(
    model: TraplineNet, boundaries: list[int], meta: dict[str, Any] | None = None
) -> dict[str, torch.Tensor]:
    """Every golden tensor for `model` (already loaded), with the plan's internal `boundaries`; `meta` (the model
    file's metadata) adds the slice options' logits."""
    mixed = levels_for_slices(boundaries, MIXED_SLICE_LEVELS)
    images = [load_photo(p.path) for p in PHOTOS]
    tensors: dict[str, torch.Tensor] = {}
    with torch.inference_mode():
        for k, image in enumerate(images):
            tensors[f"input.{k}"] = torch.from_numpy(image)
            tensors.update(logits_at_every_level(model, image, k))
        tensors.update(boundary_activations(model, images[0], boundaries))
        tensors["logits.0.mixed"] = model(normalise(images[0]), mixed)[0]
        if meta is not None:
            tensors.update(option_logits(model, meta, images[0], boundaries))
    return {name: t.contiguous() for name, t in tensors.items()}


def differences_against(
    fresh: dict[str, torch.Tensor], committed: dict[str, torch.Tensor], arch: Architecture
) -> dict[str, tuple[float, float]]:
    """For every float tensor: the largest absolute difference and the tolerance it is held to.

    Inputs (uint8, from Pillow's integer resize) must be equal; the tolerance of an activation entering unit b,
    or of the logits, comes from the arithmetic (`tolerance.float32_tolerance`) with the committed tensor's
    largest magnitude as its scale.
    """
    result = {}
    for name, tensor in committed.items():
        if tensor.dtype == torch.uint8:
            result[name] = (0.0 if torch.equal(fresh[name], tensor) else math.inf, 0.0)
            continue
        end = arch.unit_count if name.startswith("logits") else int(name.rsplit("unit", 1)[1])
        allowed = tolerance.float32_tolerance(tolerance.path_fan_in(arch, end), float(tensor.abs().max()))
        result[name] = (float((fresh[name] - tensor).abs().max()), allowed)
    return result


def write(model_path: Path, out: Path) -> None:
    """Computes the goldens for `model_path` and writes them to `out` (safetensors, `golden` metadata)."""
    tensors, meta = compute(model_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata={"golden": json.dumps(meta)})


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.golden", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="trapline model file (.safetensors)")
    parser.add_argument("--out", type=Path, help="golden file to write (.safetensors)")
    parser.add_argument(
        "--check",
        type=Path,
        help="instead of writing, regenerate and compare with this golden file (each tensor's "
        "largest difference against its tolerance); exit 1 when one is over",
    )
    args = parser.parse_args(argv)
    if args.check:
        return check(args.model, args.check)
    if not args.out:
        parser.error("give --out FILE to write, or --check FILE to compare")
    write(args.model, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


def check(model_path: Path, golden_path: Path) -> int:
    """Prints each tensor's largest difference from `golden_path` and its tolerance; 1 when one is over."""
    fresh, _ = compute(model_path)
    with safe_open(str(golden_path), framework="pt") as f:
        committed = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    arch = architecture_from_metadata(modelfile.read_metadata(model_path))
    differences = differences_against(fresh, committed, arch)
    for name, (difference, allowed) in sorted(differences.items()):
        print(f"{name:28} {difference:.3g} of {allowed:.3g}")
    worst = max(differences.items(), key=lambda item: item[1][0] / item[1][1] if item[1][1] else item[1][0])
    print(f"largest: {worst[0]} {worst[1][0]:.3g} ({worst[1][0] / max(worst[1][1], 1e-30):.3f} of its tolerance)")
    return 1 if any(d > t for d, t in differences.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
