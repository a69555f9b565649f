r"""Fine-tunes a new classifier for a site's own species with the pruning-robust recipe; writes a model file.

    python -m trapline_training.finetune --image-folder /data/site --blank-classes empty \
        --base Models/efficientnet-lite0.safetensors --out site.safetensors --steps 600
    python -m trapline_training.finetune --coco /data/lila/cct.json --image-root /data/lila/images ...

The base model's network is kept and its fully connected layer replaced by one for the data set's classes
(ImageFolder: one folder per class, sorted; COCO Camera Traps: the categories that label images). Training
is `robust.train` without a teacher: every step trains the full width on the labels (cross-entropy), the
narrowest level and random per-slice level vectors on the full width's softmax (in-place distillation);
the pruned levels' batch norms are recalibrated on the site's images. Classes named by `--blank-classes`
(and "empty", "blank", ...) are not animals; `classes.animalRanges` lists the others. A held-out part of the
images (`--validation`) measures top-1 accuracy per level and per slice of the 4-node plan, which goes into
the file's `accuracy` (metric `top1-accuracy`). The file follows docs/model-file.md, so trapline runs it as is.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import batchnorm, data, evaluate, modelfile, robust
from .architecture import Architecture, Unit
from .model import TraplineNet


def format_one_state(model: TraplineNet) -> dict[str, torch.Tensor]:
    """The model's tensors in the format 1 form: a re-fitted (format 2) model's level-0 batch norms copied to every
    level and its per-level layers dropped; a format 1 model's as they are. Fine-tuning starts from this and
    trains its own per-level batch norms (the re-fitted layers fit the base's classes, not the site's)."""
    state = model.state_dict()
    if not model.refit:
        return state
    out = {k: v for k, v in state.items() if ".project.level" not in k and ".fc.level" not in k}
    for key in [k for k in out if ".level0." in k]:
        for level in range(1, model.arch.level_count):
            out[key.replace(".level0.", f".level{level}.")] = out[key].clone()
    return out


def with_classes(base: TraplineNet, classes: int, seed: int = 0) -> TraplineNet:
    """A copy of `base` whose head classifies into `classes` classes (new fully connected layer)."""
    arch = base.arch
    head = arch.units[-1]
    new_arch = Architecture(
        (*arch.units[:-1], Unit("head", head.in_channels, classes, head.expanded_channels)),
        arch.prune_levels,
        arch.batch_norm_epsilon,
    )
    model = TraplineNet(new_arch)
    state = {k: v for k, v in format_one_state(base).items() if not k.startswith("head.fc.")}
    generator = torch.Generator().manual_seed(seed)
    state["head.fc.weight"] = torch.randn(classes, head.expanded_channels, generator=generator) * 0.01
    state["head.fc.bias"] = torch.zeros(classes)
    model.load_state_dict(state)
    return model.eval()


def split(dataset: data.Dataset, fraction: float, seed: int) -> tuple[data.Dataset, data.Dataset | None]:
    """(training, validation) parts, a seeded `fraction` of every class held out (None when 0)."""
    if fraction <= 0:
        return dataset, None
    rng = np.random.default_rng(seed)
    held: list[int] = []
    targets = np.array(dataset.targets)
    for k in range(len(dataset.classes)):
        members = np.flatnonzero(targets == k)
        count = min(max(1, round(len(members) * fraction)), len(members) - 1)
        if count > 0:
            held += [int(i) for i in rng.choice(members, count, replace=False)]
    kept = sorted(set(range(len(dataset))) - set(held))
    return dataset.subset(kept), dataset.subset(sorted(held))


def accuracy_curves(model: TraplineNet, dataset: data.Dataset, boundaries: Sequence[int]) -> dict[str, Any]:
    """Top-1 accuracy on `dataset` per level and per slice of the plan pruned alone (model file `accuracy`)."""
    levels, slices = model.arch.level_count, len(boundaries) - 1
    vectors = evaluate.evaluation_vectors(levels, slices, all_vectors=False)
    labels = torch.tensor(dataset.targets)
    correct: dict[tuple[int, ...], list[torch.Tensor]] = {}
    offset = 0
    for x in data.in_order(dataset.load(), 16):

        def visit(vector: tuple[int, ...], logits: torch.Tensor, start: int = offset) -> None:
            correct.setdefault(vector, []).append(logits.argmax(1) == labels[start : start + len(logits)])

        evaluate.run_vectors(model, x, boundaries, vectors, visit)
        offset += len(x)
    value = {v: round(float(torch.cat(c).float().mean()), 4) for v, c in correct.items()}
    return {
        "metric": "top1-accuracy",
        "plan": slices,
        "slices": [
            [value[tuple(level if k == s else 0 for k in range(slices))] for level in range(levels)]
            for s in range(slices)
        ],
        "uniform": [value[(level,) * slices] for level in range(levels)],
        "evaluatedOn": dataset.description,
        "images": len(dataset),
    }


def finetune(
    dataset: data.Dataset,
    base_path: Path,
    out: Path,
    recipe: robust.Recipe,
    validation: float = 0.2,
    name: str = "site-classifier",
    log: Any = print,
) -> dict[str, Any]:
    """Trains and writes the model file; returns its metadata."""
    base, base_meta = modelfile.read(base_path)
    boundaries = base_meta["slicePlans"][robust.PLAN_NODES]
    train_part, held = split(dataset, validation, recipe.seed)
    model = with_classes(base, len(dataset.classes), recipe.seed)
    calibration = robust.calibration_batches(train_part, recipe)
    during = robust.calibration_batches(train_part, recipe, recipe.recalibration_images)
    model.requires_grad_(True)
    history = robust.train(
        model, data.batches(train_part, recipe.batch, recipe.seed), recipe, boundaries, None, during, log=log
    )
    batchnorm.recalibrate(model, calibration, boundaries, seed=recipe.seed)
    classes = {"names": list(dataset.classes), "animalRanges": data.animal_ranges(dataset.animal)}
    meta = robust.derived_metadata(
        base_meta,
        model,
        name=name,
        training=robust.describe(recipe, history, train_part, "trapline_training.finetune"),
        classes=classes,
    )
    # The base's taxonomy describes its classes, not the site's: the site's class names are written as they are.
    meta["taxonomy"] = None
    if held is not None and len(held):
        with torch.inference_mode():
            meta["accuracy"] = accuracy_curves(model, held, boundaries)
    out.parent.mkdir(parents=True, exist_ok=True)
    modelfile.write(out, model, meta, "f16")
    return meta


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.finetune", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--image-folder", type=Path, help="a folder per class")
    source.add_argument("--coco", type=Path, help="COCO Camera Traps JSON")
    parser.add_argument("--image-root", type=Path, default=None, help="folder of the COCO file names")
    parser.add_argument("--blank-classes", nargs="*", default=[], help="class names that are not animals")
    parser.add_argument("--base", type=Path, default=Path("Models/efficientnet-lite0.safetensors"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name", default="site-classifier")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--validation", type=float, default=0.2, help="fraction of each class held out (0.2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.image_folder is not None:
        dataset = data.image_folder(args.image_folder, args.blank_classes)
    else:
        dataset = data.coco_camera_traps(args.coco, args.image_root, args.blank_classes)
    recipe = robust.Recipe(steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed)
    meta = finetune(dataset, args.base, args.out, recipe, args.validation, args.name)
    print(f"wrote {args.out}: {len(meta['classes']['names'])} classes, accuracy {meta['accuracy']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
