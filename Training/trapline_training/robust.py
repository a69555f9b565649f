r"""Pruning-robust fine-tuning: the sandwich rule with in-place distillation and per-level batch norms.

    python -m trapline_training.robust --data /tmp/camtrap --template Models/efficientnet-lite0.safetensors \
        --out /tmp/robust.safetensors --steps 900 --batch 8 --max-minutes 30

Every step trains the full width, the narrowest level and `random` level vectors whose slices (of the 4-node
plan) take independent random levels, so mixed vectors are seen. Every pass learns the frozen original
model's softmax (KL divergence; no labels needed), which keeps the full width faithful to the original.
Before training, the expanded channels are re-sorted by their measured effect (`reorder`) and every pruned
level's batch-norm statistics re-estimated (`batchnorm`); the network trains in its inference form (each
level normalises with its own stored statistics), recalibrated every `recalibrate_every` steps and at the end.

Two parameter groups: the weights every level shares (`--lr`) and the pruned levels' own batch-norm scales
and shifts (`--level-lr`), which change nothing at full width. The default `--lr 0` freezes the shared
weights: on the synthetic camera-trap frames the original's top-1 is often a near tie, and training the shared
weights moved the full width away from it (mean KL 0.12 after 60 steps at 5e-5, far from 99% agreement),
so the bundled model's full width is the original's and the full-width pass, which would have nothing to
learn, is skipped. The same recipe with the shared weights learning fine-tunes a new classifier on labelled
data (`finetune`): the full width then learns the labels and the other passes learn its softmax.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the conventional name)

from . import __version__, batchnorm, data, modelfile, reorder
from .architecture import lite0
from .convert import sorted_model
from .model import TraplineNet
from .slicing import levels_for_slices

PLAN_NODES = "4"


@dataclass
class Recipe:
    """What one training run does; recorded in the model file's provenance."""

    steps: int = 900
    batch: int = 8
    lr: float = 0.0
    level_lr: float = 1e-3
    full_weight: float = 2.0
    warmup: int = 20
    random: int = 3
    calibration_images: int = 256
    calibration_batch: int = 16
    recalibrate_every: int = 200
    recalibration_images: int = 48
    clip: float = 2.0
    seed: int = 0
    max_minutes: float | None = None


@dataclass
class History:
    """Per-step mean loss of each pass (full, narrowest, random...), seconds taken, steps run."""

    losses: list[list[float]] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0


def sandwich_vectors(
    rng: np.random.Generator, level_count: int, boundaries: Sequence[int], random: int
) -> list[list[int]]:
    """The step's level vectors: full width, narrowest, then `random` vectors with an independent random
    level for every slice of the plan `boundaries`."""
    units = boundaries[-1]
    vectors = [[0] * units, [level_count - 1] * units]
    slices = len(boundaries) - 1
    for _ in range(random):
        vectors.append(levels_for_slices(boundaries, [int(v) for v in rng.integers(0, level_count, slices)]))
    return vectors


def distillation_loss(target: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of KL(target || softmax(logits)); `target` holds probabilities."""
    return F.kl_div(F.log_softmax(logits, dim=1), target, reduction="batchmean")


def schedule(step: int, recipe: Recipe) -> float:
    """The learning rates' factor: linear warm-up, then cosine decay to zero over `recipe.steps`."""
    if step < recipe.warmup:
        return (step + 1) / recipe.warmup
    progress = (step - recipe.warmup) / max(1, recipe.steps - recipe.warmup)
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


Teacher = Callable[[torch.Tensor], torch.Tensor]


def frozen_teacher(model: TraplineNet) -> Teacher:
    """Softmax of a frozen copy of `model` at full width."""
    frozen = copy.deepcopy(model).eval()
    for p in frozen.parameters():
        p.requires_grad_(False)
    levels = frozen.arch.full_levels(0)

    def probabilities(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return F.softmax(frozen(x, levels), dim=1)

    return probabilities


def parameter_groups(model: TraplineNet) -> tuple[list[torch.nn.Parameter], list[torch.nn.Parameter]]:
    """(parameters every level uses, affine parameters of the pruned levels' batch norms): the second kind
    changes nothing at full width, so it may learn faster."""
    shared, per_level = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        pruned_level = ".level" in name and ".level0." not in name
        (per_level if pruned_level else shared).append(p)
    return shared, per_level


def train(
    student: TraplineNet,
    batches: Iterator[tuple[torch.Tensor, torch.Tensor]],
    recipe: Recipe,
    boundaries: Sequence[int],
    teacher: Teacher | None = None,
    calibration: Sequence[torch.Tensor] = (),
    log: Callable[[str], None] | None = print,
    log_every: int = 20,
) -> History:
    """Runs the sandwich rule for `recipe.steps` steps (or until `recipe.max_minutes`).

    With a `teacher`, every pass learns the teacher's softmax. Without one the batches' class indices are
    the labels: the full width learns them (cross-entropy) and the other passes learn its softmax (in-place
    distillation); the full width's loss counts `recipe.full_weight` times, and the pruned levels'
    batch-norm affine parameters learn at `recipe.level_lr`. With `recipe.lr` 0 the shared weights stay frozen:
    only the pruned levels' batch norms learn, and the full width (then equal to the teacher) is not run.
    The network runs in its inference form (stored
    per-level batch-norm statistics: batches this small would give noisy batch statistics); every
    `recipe.recalibrate_every` steps the pruned levels' statistics are re-estimated on `calibration` so that
    they follow the weights. Gradients of the passes are accumulated, then one AdamW step.
    """
    rng = np.random.default_rng(recipe.seed)
    shared, per_level = parameter_groups(student)
    frozen = recipe.lr == 0  # only the pruned levels' batch norms learn; the full width stays the original
    if frozen:
        for p in shared:
            p.requires_grad_(False)
        shared = []
    params = shared + per_level
    optimiser = torch.optim.AdamW(
        [
            {"params": shared, "lr": recipe.lr, "base": recipe.lr},
            {"params": per_level, "lr": recipe.level_lr, "base": recipe.level_lr},
        ],
        lr=recipe.lr,
        weight_decay=0.0,
    )
    history = History()
    start = time.perf_counter()
    student.train()
    for step in range(recipe.steps):
        if recipe.max_minutes is not None and time.perf_counter() - start > recipe.max_minutes * 60:
            if log:
                log(f"stopping at step {step}: {recipe.max_minutes} minutes are up")
            break
        x, labels = next(batches)
        for group in optimiser.param_groups:
            group["lr"] = schedule(step, recipe) * group["base"]
        optimiser.zero_grad(set_to_none=True)
        target = teacher(x) if teacher is not None else None
        losses = []
        vectors = sandwich_vectors(rng, student.arch.level_count, boundaries, recipe.random)
        for k, levels in enumerate(vectors):
            if frozen and teacher is not None and not any(levels):
                losses.append(0.0)  # at full width nothing trains: it is the teacher
                continue
            logits = student(x, levels)
            if target is None:  # labelled fine-tuning: the full width (first pass) teaches the others
                loss = F.cross_entropy(logits, labels)
                target = F.softmax(logits.detach(), dim=1)
            else:
                loss = distillation_loss(target, logits)
            (loss * (recipe.full_weight if k == 0 else 1.0)).backward()
            losses.append(loss.item())
        torch.nn.utils.clip_grad_norm_(params, recipe.clip)
        optimiser.step()
        if calibration and recipe.recalibrate_every and (step + 1) % recipe.recalibrate_every == 0:
            batchnorm.recalibrate(student, calibration, boundaries, seed=recipe.seed + step)
            student.train()
        history.losses.append(losses)
        history.steps = step + 1
        if log and (step % log_every == 0 or step == recipe.steps - 1):
            window = np.mean(history.losses[-log_every:], axis=0)
            log(
                f"step {step + 1}/{recipe.steps} {time.perf_counter() - start:7.1f}s "
                f"lr x{schedule(step, recipe):.3f} loss " + " ".join(f"{v:.4f}" for v in window)
            )
    student.eval()
    history.seconds = time.perf_counter() - start
    return history


def calibration_batches(dataset: data.Dataset, recipe: Recipe, count: int | None = None) -> list[torch.Tensor]:
    """The images that recalibrate the batch norms: a seeded sample of the training set."""
    rng = np.random.default_rng(recipe.seed + 1)
    count = min(recipe.calibration_images if count is None else count, len(dataset))
    chosen = sorted(int(i) for i in rng.choice(len(dataset), count, replace=False))
    return list(data.in_order(dataset.load(chosen), recipe.calibration_batch))


def recalibrated(
    model: TraplineNet, dataset: data.Dataset, recipe: Recipe, boundaries: Sequence[int], resort: bool = True
) -> TraplineNet:
    """A copy of `model` with its channels re-sorted by measured importance (`reorder`, if `resort`) and
    every pruned level's batch-norm statistics re-estimated on training images."""
    copy_ = copy.deepcopy(model)
    calibration = calibration_batches(dataset, recipe)
    if resort:
        reorder.sort_by_measured_importance(copy_, calibration)
    batchnorm.recalibrate(copy_, calibration, boundaries, seed=recipe.seed)
    return copy_.eval()


def derived_metadata(
    template: dict[str, Any], model: TraplineNet, *, name: str, training: str, classes: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The template model file's metadata for a fine-tuned `model`: plans and unit costs kept (so the slice
    plans do not move), units from the model, `accuracy` null until evaluated, provenance extended."""
    meta = copy.deepcopy(template)
    meta["name"] = name
    # The model is in the format it was trained in: a batch-norm-per-level (format 1) model has no re-fitted
    # layers or slice options, whatever the template had.
    meta["formatVersion"] = 2 if model.refit else 1
    if not model.refit:
        meta.pop("skippableUnits", None)
        meta.pop("sliceOptions", None)
    meta["units"] = [unit.to_metadata() for unit in model.arch.units]
    meta["pruneLevels"] = list(model.arch.prune_levels)  # the model's, which may differ from the template's
    meta["keptChannels"] = model.arch.kept_table()
    if classes is not None:
        meta["classes"] = classes
    if len(meta["classes"]["names"]) != model.arch.units[-1].out_channels:
        raise ValueError("class names do not match the head's classes")
    meta["accuracy"] = None
    provenance = dict(meta.get("provenance") or {})
    provenance["training"] = training
    provenance["created"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta["provenance"] = provenance
    return meta


def describe(recipe: Recipe, history: History, dataset: data.Dataset, module: str) -> str:
    """One line for the provenance: what trained the model, on what, for how long."""
    settings = ", ".join(f"{k}={v}" for k, v in asdict(recipe).items() if v is not None)
    return (
        f"{module} (trapline-training {__version__}, torch {torch.__version__}): {history.steps} steps "
        f"in {history.seconds / 60:.1f} min on {dataset.description}; {settings}"
    )


def run(args: argparse.Namespace) -> int:
    """The command: pretrained model -> recalibrated -> sandwich-trained -> recalibrated -> model file."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    recipe = Recipe(
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        level_lr=args.level_lr,
        full_weight=args.full_weight,
        random=args.random,
        seed=args.seed,
        max_minutes=args.max_minutes,
        calibration_images=args.calibration_images,
        recalibrate_every=args.recalibrate_every,
    )
    template = modelfile.read_metadata(args.template)
    boundaries = template["slicePlans"][PLAN_NODES]
    dataset = data.camtrap(args.data, "train")
    original = sorted_model(lite0())
    teacher = frozen_teacher(original)
    print(f"training on {dataset.description}; plan {boundaries}; {recipe}", flush=True)
    student = recalibrated(original, dataset, recipe, boundaries)
    student.requires_grad_(True)
    during = calibration_batches(dataset, recipe, recipe.recalibration_images)
    history = train(student, data.batches(dataset, recipe.batch, recipe.seed), recipe, boundaries, teacher, during)
    if args.checkpoint is not None:
        torch.save(student.state_dict(), args.checkpoint)
    student = recalibrated(student, dataset, recipe, boundaries, resort=False)
    meta = derived_metadata(
        template,
        student,
        name=args.name,
        training=describe(recipe, history, dataset, "trapline_training.robust"),
    )
    modelfile.write(args.out, student, meta, args.dtype)
    print(f"trained {history.steps} steps in {history.seconds / 60:.1f} min; wrote {args.out}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.robust", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder written by trapline_training.camtrap")
    parser.add_argument("--template", type=Path, required=True, help="model file whose metadata to keep")
    parser.add_argument("--out", type=Path, required=True, help="model file to write")
    parser.add_argument("--steps", type=int, default=900)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.0, help="learning rate of the shared weights (0: frozen)")
    parser.add_argument("--level-lr", type=float, default=1e-3, help="of the pruned levels' batch norms (1e-3)")
    parser.add_argument("--full-weight", type=float, default=2.0, help="weight of the full width's loss (2)")
    parser.add_argument("--random", type=int, default=3, help="random level vectors per step (3)")
    parser.add_argument("--calibration-images", type=int, default=256)
    parser.add_argument("--recalibrate-every", type=int, default=200, help="steps between recalibrations (200)")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop training after this long")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (1)")
    parser.add_argument("--dtype", choices=sorted(modelfile.DTYPES), default="f16")
    parser.add_argument("--name", default="efficientnet-lite0-imagenet-robust")
    parser.add_argument("--checkpoint", type=Path, default=None, help="also save the trained state_dict here")
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
