r"""A quick look at a `slimmable` checkpoint while it trains: full width against the original, each slice option.

    python -m trapline_training.monitor --work /var/tmp/slimmable [--checkpoint FILE] [--views 96]

On `--views` views of the training photos made with another seed (half crops, half composited animals: not the
evaluation photos, but not unseen photos either), it prints the full width's top-1 agreement and KL against the
original (the `--work` folder's source file), each option of each slice of the 4-node plan alone and every unit
at w0.75 against the checkpoint's full width. For choosing a recipe while a run goes; the evaluation of a finished
model is `trapline_training.levels`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from . import levels, modelfile, refit, slimmable
from .images import normalise
from .model import TraplineNet

SEED = 1234


def views(count: int) -> torch.Tensor:
    """The monitoring views: half random crops, half composited animals, from the training photos."""
    photos = slimmable.training_photos()
    half = count // 2
    return normalise(
        np.concatenate([refit.random_views(photos, count - half, SEED), refit.animal_views(photos, half, SEED + 1)])
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.monitor", description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="the run's work folder")
    parser.add_argument("--source", type=Path, help="the run's source model file (default: the newest *.safetensors)")
    parser.add_argument("--checkpoint", type=Path, help="default: the work folder's checkpoint.pt")
    parser.add_argument("--views", type=int, default=96)
    args = parser.parse_args(argv)
    saved = torch.load(args.checkpoint or args.work / "checkpoint.pt", weights_only=False)
    recipe = slimmable.Recipe(**saved["recipe"])
    source = args.source or max(args.work.glob("*.safetensors"), key=lambda p: p.stat().st_mtime)
    original, meta = modelfile.read(source)
    if recipe.form == "shared":
        model = slimmable.widened(original, slimmable.PRUNE_LEVELS)
        meta = {**meta, "pruneLevels": list(slimmable.PRUNE_LEVELS)}
    else:
        model = TraplineNet(original.arch, refit=True)
    model.load_state_dict(saved["model"])
    model.eval()
    x = views(args.views)
    names = levels.option_names(meta)
    plan = meta["slicePlans"]["4"]
    with torch.no_grad():
        reference, full = original(x, [0] * 18), model(x, [0] * 18)
        kl = (reference.softmax(1) * (reference.log_softmax(1) - full.log_softmax(1))).sum(1).mean()
        agree = float((reference.argmax(1) == full.argmax(1)).float().mean())
        print(f"step {saved['progress']['step']}: full width against the original: top-1 {agree:.3f}, KL {kl:.4f}")
        for option in range(1, len(names)):
            row = []
            for s in range(len(plan) - 1):
                vector = levels.option_levels(meta, plan, [option if t == s else 0 for t in range(len(plan) - 1)])
                same = vector == [0] * 18
                row.append(
                    "-" if same else f"{float((model(x, vector).argmax(1) == full.argmax(1)).float().mean()):.3f}"
                )
            print(f"{names[option]:>7} per slice: {' '.join(row)}")
        every = names.index("w0.75")
        print(f"every unit at w0.75: {float((model(x, [every] * 18).argmax(1) == full.argmax(1)).float().mean()):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
