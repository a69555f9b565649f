r"""Pruning-aware training of every slice option at once by distillation, resumable, in one of two forms.

    python -m trapline_training.slimmable --form layers --source /tmp/refit5.safetensors \
        --work /tmp/layers --out Models/efficientnet-lite0.safetensors --steps 500 --level-lr 4e-5

The recipe of slimmable and universally slimmable networks (Yu et al. 2019, "Universally Slimmable Networks and
Improved Training Techniques"), on unlabelled images:
- the sandwich rule: every step runs the narrowest width and `random` sampled option vectors (and, in the
  `shared` form, the full width);
- distillation: every pruned pass learns the full width's softmax of the same batch, and the output of every
  unit of the full width (a pruned level removes expanded channels only, so every unit's output keeps its
  shape): dense targets that train in the hour a 2-core machine has what logits alone would not;
- width levels and skip options are sampled together, per slice of a randomly chosen ring plan (2 to 8 nodes).

Two forms (`FORMS`):
- `layers` (the bundled model): a format 2 source's per-level project and fc layers learn at `--level-lr`;
  every weight full width uses is frozen, so full width is the source's exactly and is the teacher;
- `shared`: every weight learns (shared ones at `--lr`, the pruned levels' batch-norm scales and shifts at
  `--level-lr`), the full width learning the softmax and unit outputs of a frozen copy of the original; every
  level has its own batch norms, re-estimated every `--recalibrate-every` steps and at the end
  (`batchnorm.recalibrate`), and the file is format 3. The network runs in its inference form (stored
  statistics; batches this small give noisy batch statistics).

The data (`pool`): views of every real photo on this machine that no evaluation uses (Debian's wallpaper and
background packages, opencv-doc's, darknet's and scikit-image's photos) and as many views with an animal
(tuxpaint's real-photo cut-outs of the camera-trap builder's training taxa composited onto them), made once from
a seed and cached in the work folder; then per batch random crops at several scales, flips, colour, infrared-like
grey, blur, noise and JPEG re-compression. Never the evaluation photos (`levels.held_out_photos`).

Checkpoints go to the work folder every `--checkpoint-every` steps; a later run with the same work folder
resumes from the last one (the batches of a step depend only on the seed and the step, so a resumed run sees
what an uninterrupted one would).
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the conventional name)
from PIL import Image, ImageFilter

from . import __version__, batchnorm, modelfile, refit
from .architecture import INPUT_SIZE, Architecture
from .images import normalise
from .levels import option_levels
from .model import TraplineNet

PRUNE_LEVELS = (0.0, 0.125, 0.25, 0.5, 0.75)
"""Width levels of the trained model: w1, w0.875, w0.75, w0.5, w0.25."""
BACKGROUND_FOLDERS = (Path("/usr/share/backgrounds/gnome"), Path("/usr/share/backgrounds/mate"))
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass
class Recipe:
    """What one training run does; recorded in the model file's provenance."""

    form: str = "layers"
    steps: int = 550
    batch: int = 12
    lr: float = 3e-5
    level_lr: float = 1e-4
    full_weight: float = 10.0
    feature_weight: float = 1.0
    random: int = 2
    warmup: int = 20
    views: int = 4000
    recalibrate_every: int = 100
    recalibration_images: int = 48
    calibration_images: int = 256
    clip: float = 2.0
    seed: int = 0


@dataclass
class Progress:
    """What a run has done so far; saved with every checkpoint."""

    step: int = 0
    seconds: float = 0.0
    images: int = 0
    losses: list[list[float]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)


def training_photos() -> list[Path]:
    """The refit's real photos plus the wallpapers and backgrounds Debian's packages add, none held out."""
    held = refit.held_out_files()
    photos = list(refit.fit_photos())
    for folder in BACKGROUND_FOLDERS:
        if folder.is_dir():
            photos += sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    if refit.WALLPAPERS.is_dir():
        for folder in sorted(refit.WALLPAPERS.iterdir()):
            if folder.name in refit.EVAL_WALLPAPERS or folder.name in refit.WALLPAPER_PHOTOS:
                continue  # the evaluation's backgrounds; the photos are already in fit_photos
            if (found := refit.largest_wallpaper(folder)) is not None:
                photos.append(found)
    return sorted({p.resolve() for p in photos if p.resolve() not in held})


def pool(folder: Path, count: int, seed: int) -> np.ndarray:
    """`count` uint8 NHWC 224x224 views, half photos and half with an animal, cached as `pool-{count}-{seed}.npy`."""
    path = folder / f"pool-{count}-{seed}.npy"
    if path.exists():
        return np.load(path, mmap_mode="r")
    photos = training_photos()
    half = count // 2
    views = np.concatenate([refit.random_views(photos, count - half, seed), refit.animal_views(photos, half, seed + 1)])
    views = views[np.random.default_rng(seed + 2).permutation(count)]
    (folder / f"pool-{count}-{seed}.json").write_text(
        json.dumps({"photos": [str(p) for p in photos], "views": count, "seed": seed}, indent=1), encoding="utf-8"
    )
    partial = path.with_suffix(".partial.npy")
    np.save(partial, views)
    os.replace(partial, path)
    return views


def augment(rng: np.random.Generator, view: np.ndarray) -> np.ndarray:
    """One random variant of a uint8 view: a crop of 50-100% of its side at a random place (an animal partly
    out of frame), a flip, a colour cast, infrared-like grey, blur, noise and JPEG re-compression, each at random."""
    image = Image.fromarray(np.ascontiguousarray(view))
    side = INPUT_SIZE * rng.uniform(0.5, 1.0)
    left, top = rng.uniform(0, INPUT_SIZE - side, 2)
    image = image.resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR, box=(left, top, left + side, top + side))
    if rng.random() < 0.5:
        image = image.transpose(Image.FLIP_LEFT_RIGHT)
    if rng.random() < 0.2:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.0)))
    out = np.asarray(image, dtype=np.float32)
    if rng.random() < 0.2:
        out = np.repeat(out @ np.array([[0.299], [0.587], [0.114]], dtype=np.float32), 3, axis=2)
    else:
        out = out * rng.uniform(0.85, 1.15, 3).astype(np.float32)
    if rng.random() < 0.2:
        out = out + rng.normal(0, rng.uniform(2, 8), out.shape).astype(np.float32)
    image = Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=int(rng.integers(30, 95)))
        image = Image.open(buffer).convert("RGB")
    return np.asarray(image, dtype=np.uint8)


def batch_for(views: np.ndarray, recipe: Recipe, step: int) -> torch.Tensor:
    """The normalised NCHW batch of `step`: a function of the seed and the step only (resumable)."""
    rng = np.random.default_rng([recipe.seed, step])
    chosen = rng.choice(len(views), recipe.batch, replace=False)
    return normalise(np.stack([augment(rng, views[int(i)]) for i in chosen]))


def option_vectors(
    rng: np.random.Generator, meta: dict[str, Any], count: int, full_share: float = 0.4
) -> list[list[int]]:
    """`count` per-unit level vectors: a random ring plan of 2-8 nodes, every slice at full width with probability
    `full_share`, else at a uniformly chosen other option (a pruned width or a slice option)."""
    options = modelfile.option_count(meta)
    plans = [meta["slicePlans"][str(n)] for n in range(2, 9) if str(n) in meta["slicePlans"]]
    vectors = []
    for _ in range(count):
        boundaries = plans[int(rng.integers(len(plans)))]
        chosen = [0 if rng.random() < full_share else int(rng.integers(1, options)) for _ in boundaries[1:]]
        if not any(chosen):
            chosen[int(rng.integers(len(chosen)))] = int(rng.integers(1, options))
        vectors.append(option_levels(meta, boundaries, chosen))
    return vectors


def distillation_loss(target: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of KL(target || softmax(logits)); `target` holds probabilities."""
    return F.kl_div(F.log_softmax(logits, dim=1), target, reduction="batchmean")


def run_collecting(
    model: TraplineNet, x: torch.Tensor, levels: Sequence[int]
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(logits, the output of every unit before the head): pruning removes expanded channels only, so every
    unit's output has full width's shape at any level."""
    outputs = []
    for u in range(model.arch.unit_count):
        x = model.run_unit(u, x, levels[u])
        outputs.append(x)
    return outputs[-1], outputs[:-1]


def feature_loss(outputs: Sequence[torch.Tensor], targets: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean over units of the squared error of each unit's output against its target, relative to the target's
    mean square (so that every unit counts alike whatever its scale)."""
    terms = [((o - t) ** 2).mean() / (t * t).mean().clamp_min(1e-8) for o, t in zip(outputs, targets, strict=True)]
    return torch.stack(terms).mean()


def schedule(step: int, recipe: Recipe) -> float:
    """Learning-rate factor: linear warm-up, then cosine decay to zero over `recipe.steps`."""
    if step < recipe.warmup:
        return (step + 1) / recipe.warmup
    progress = (step - recipe.warmup) / max(1, recipe.steps - recipe.warmup)
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def widened(source: TraplineNet, levels: Sequence[float]) -> TraplineNet:
    """A batch-norm-per-level model with `source`'s shared weights and level-0 batch norms, every level's batch
    norms starting as level 0's (statistics are re-estimated before training)."""
    arch = Architecture(source.arch.units, tuple(levels), source.arch.batch_norm_epsilon)
    model = TraplineNet(arch, refit=False)
    own = model.state_dict()
    state = {}
    for name, tensor in source.state_dict().items():
        if ".level" in name and ".level0." not in name:
            continue  # the source's per-level layers or statistics
        if ".level0." in name:
            for level in range(arch.level_count):
                state[name.replace(".level0.", f".level{level}.")] = tensor.clone()
        else:
            state[name] = tensor.clone()
    missing = sorted(set(own) - set(state))
    if missing:
        raise ValueError(f"the source lacks {missing[:5]}")
    model.load_state_dict(state)
    return model


def parameter_groups(model: TraplineNet) -> tuple[list[torch.nn.Parameter], list[torch.nn.Parameter]]:
    """(the parameters every level uses, the pruned levels' own parameters: their batch-norm scales and shifts in
    the `shared` form, their project and fc layers in the `layers` form)."""
    shared, own = [], []
    for name, p in model.named_parameters():
        (own if ".level" in name and ".level0." not in name else shared).append(p)
    return shared, own


FORMS = ("layers", "shared")
"""`layers`: every weight full width uses stays the original's and each pruned level's own project and fc layers
train (format 2); `shared`: every weight trains, each level with its own batch norms (format 3)."""


def frozen_copy(model: TraplineNet) -> Callable[[torch.Tensor], tuple[torch.Tensor, list[torch.Tensor]]]:
    """Full-width softmax and unit outputs of a frozen copy of `model`."""
    frozen = copy.deepcopy(model).eval().requires_grad_(False)
    levels = frozen.arch.full_levels(0)

    def outputs(x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        with torch.no_grad():
            logits, units = run_collecting(frozen, x, levels)
            return F.softmax(logits, dim=1), units

    return outputs


class Run:
    """One resumable training run in a work folder."""

    def __init__(self, work: Path, source: Path, recipe: Recipe, log: Callable[[str], None] = print) -> None:
        self.work, self.recipe, self.log = work, recipe, log
        work.mkdir(parents=True, exist_ok=True)
        if recipe.form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, not {recipe.form!r}")
        original, self.meta = modelfile.read(source)
        self.meta = copy.deepcopy(self.meta)
        self.teacher = frozen_copy(original)
        self.views = pool(work, recipe.views, recipe.seed)
        if recipe.form == "shared":
            self.meta["pruneLevels"] = list(PRUNE_LEVELS)
            self.model = widened(original, PRUNE_LEVELS)
        elif original.refit:
            self.model = copy.deepcopy(original)  # its levels, re-fitted by least squares: the initial state
        else:
            raise ValueError(f"{source}: the layers form trains the per-level layers of a format 2 file")
        self.meta["keptChannels"] = self.model.arch.kept_table()
        shared, own = parameter_groups(self.model)
        if recipe.form == "layers":
            for p in shared:
                p.requires_grad_(False)
            shared = []
        self.optimiser = torch.optim.AdamW(
            [
                {"params": shared, "lr": recipe.lr, "base": recipe.lr},
                {"params": own, "lr": recipe.level_lr, "base": recipe.level_lr},
            ],
            weight_decay=0.0,
        )
        self.progress = Progress()
        self.boundaries = self.meta["slicePlans"]["4"]
        if not self.resume():
            self.recalibrate(recipe.calibration_images, recipe.seed)
            log(f"pool of {len(self.views)} views; {recipe.form} form, {len(self.meta['pruneLevels'])} levels")

    @property
    def checkpoint(self) -> Path:
        """The work folder's checkpoint."""
        return self.work / "checkpoint.pt"

    def resume(self) -> bool:
        """Loads the checkpoint, if any; refuses one made by another recipe."""
        if not self.checkpoint.exists():
            return False
        saved = torch.load(self.checkpoint, weights_only=False)
        if saved["recipe"] != asdict(self.recipe):
            raise ValueError(f"{self.checkpoint} was made by another recipe: {saved['recipe']}")
        self.model.load_state_dict(saved["model"])
        self.optimiser.load_state_dict(saved["optimiser"])
        self.progress = Progress(**saved["progress"])
        self.log(f"resumed at step {self.progress.step} ({self.progress.seconds / 60:.1f} min trained)")
        return True

    def save(self) -> None:
        """Writes the checkpoint atomically."""
        partial = self.checkpoint.with_suffix(".partial")
        state = {
            "recipe": asdict(self.recipe),
            "model": self.model.state_dict(),
            "optimiser": self.optimiser.state_dict(),
            "progress": asdict(self.progress),
        }
        torch.save(state, partial)
        os.replace(partial, self.checkpoint)

    def recalibrate(self, images: int, seed: int) -> None:
        """Re-estimates the pruned levels' statistics on `images` views of the pool (the `shared` form; in the
        `layers` form every level normalises with level 0's)."""
        if self.recipe.form != "shared":
            return
        rng = np.random.default_rng([seed, 1])
        chosen = sorted(int(i) for i in rng.choice(len(self.views), min(images, len(self.views)), replace=False))
        batches = [normalise(np.asarray(self.views[chosen[i : i + 16]])) for i in range(0, len(chosen), 16)]
        batchnorm.recalibrate(self.model, batches, self.boundaries, seed=seed)

    def step(self, step: int) -> list[float]:
        """One sandwich step; returns each pass's loss."""
        recipe = self.recipe
        x = batch_for(self.views, recipe, step)
        rng = np.random.default_rng([recipe.seed, step, 2])
        for group in self.optimiser.param_groups:
            group["lr"] = schedule(step, recipe) * group["base"]
        self.optimiser.zero_grad(set_to_none=True)
        narrowest = [self.model.arch.level_count - 1] * self.model.arch.unit_count
        vectors = [narrowest, *option_vectors(rng, self.meta, recipe.random)]
        teacher, teacher_units = self.teacher(x)
        if recipe.form == "shared":
            full, full_units = run_collecting(self.model, x, self.model.arch.full_levels(0))
            loss = distillation_loss(teacher, full) + recipe.feature_weight * feature_loss(full_units, teacher_units)
            (loss * recipe.full_weight).backward()
            losses = [loss.item()]
            target = F.softmax(full.detach(), dim=1)
            targets = [h.detach() for h in full_units]
        else:  # full width is the original's: the teacher's outputs are its outputs
            losses, target, targets = [0.0], teacher, teacher_units
        for vector in vectors:
            logits, units = run_collecting(self.model, x, vector)
            loss = distillation_loss(target, logits) + recipe.feature_weight * feature_loss(units, targets)
            if loss.requires_grad:  # in the layers form a skipped slice beside full-width ones has nothing to train
                loss.backward()
            losses.append(loss.item())
        torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], recipe.clip)
        self.optimiser.step()
        return losses

    def train(self, minutes: float, checkpoint_every: int, log_every: int = 10, until: int | None = None) -> None:
        """Trains until `recipe.steps` (or step `until`) are done or `minutes` are up, checkpointing as it goes."""
        recipe, progress = self.recipe, self.progress
        began, session_steps = time.perf_counter(), 0
        last = recipe.steps if until is None else min(until, recipe.steps)
        self.model.train()
        while progress.step < last and time.perf_counter() - began < minutes * 60:
            tick = time.perf_counter()
            losses = self.step(progress.step)
            progress.seconds += time.perf_counter() - tick
            progress.images += recipe.batch
            progress.losses.append(losses)
            progress.step += 1
            session_steps += 1
            if recipe.recalibrate_every and progress.step % recipe.recalibrate_every == 0:
                self.recalibrate(recipe.recalibration_images, recipe.seed + progress.step)
                self.model.train()
            if progress.step % log_every == 0:
                window = np.mean(progress.losses[-log_every:], axis=0)
                self.log(
                    f"step {progress.step}/{recipe.steps} {progress.seconds / 60:6.1f} min "
                    f"{progress.images / progress.seconds:5.2f} images/s lr x{schedule(progress.step, recipe):.3f} "
                    "loss " + " ".join(f"{v:.4f}" for v in window)
                )
            if progress.step % checkpoint_every == 0:
                self.save()
        progress.sessions.append({"steps": session_steps, "wall_s": round(time.perf_counter() - began, 1)})
        self.save()
        self.model.eval()

    def finish(self, out: Path, name: str, dtype: str) -> None:
        """Re-estimates the pruned levels' statistics and writes the format 3 model file."""
        self.recalibrate(self.recipe.calibration_images, self.recipe.seed + 7)
        self.model.eval()
        meta = copy.deepcopy(self.meta)
        meta["formatVersion"] = modelfile.SLIMMABLE_VERSION if self.recipe.form == "shared" else modelfile.REFIT_VERSION
        meta["name"] = name
        meta["accuracy"] = None
        progress = self.progress
        settings = ", ".join(f"{k}={v}" for k, v in asdict(self.recipe).items())
        wall = sum(s["wall_s"] for s in progress.sessions)
        provenance = dict(meta.get("provenance") or {})
        provenance["training"] = (
            f"trapline_training.slimmable (trapline-training {__version__}, torch {torch.__version__}): "
            f"{progress.step} steps, {progress.images} images in {progress.seconds / 60:.1f} min of training "
            f"({progress.images / max(progress.seconds, 1e-9):.2f} images/s), {wall / 60:.1f} min wall over "
            f"{len(progress.sessions)} sessions; {settings}"
        )
        provenance["created"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta["provenance"] = provenance
        modelfile.write(out, self.model, meta, dtype)
        self.log(f"wrote {out}: {provenance['training']}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.slimmable", description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="model file whose full width is the teacher")
    parser.add_argument("--work", type=Path, required=True, help="folder for the view pool and the checkpoint")
    parser.add_argument("--out", type=Path, default=None, help="model file to write once training is done")
    parser.add_argument("--minutes", type=float, default=60.0, help="train this long in this session (60)")
    parser.add_argument("--form", choices=FORMS, default=Recipe.form, help=f"what trains ({Recipe.form})")
    parser.add_argument("--steps", type=int, default=Recipe.steps, help=f"steps of the whole run ({Recipe.steps})")
    parser.add_argument("--batch", type=int, default=Recipe.batch)
    parser.add_argument("--lr", type=float, default=Recipe.lr, help="shared weights' learning rate")
    parser.add_argument("--level-lr", type=float, default=Recipe.level_lr, help="pruned levels' batch norms'")
    parser.add_argument("--full-weight", type=float, default=Recipe.full_weight, help="full width's loss weight")
    parser.add_argument(
        "--feature-weight", type=float, default=Recipe.feature_weight, help="unit-output term's weight (0: logits only)"
    )
    parser.add_argument("--random", type=int, default=Recipe.random, help="random option vectors per step")
    parser.add_argument("--views", type=int, default=Recipe.views, help="views in the pool")
    parser.add_argument("--seed", type=int, default=Recipe.seed)
    parser.add_argument("--checkpoint-every", type=int, default=25)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=sorted(modelfile.DTYPES), default="f16")
    parser.add_argument("--name", default="efficientnet-lite0-imagenet-slimmable")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    recipe = Recipe(
        form=args.form,
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        level_lr=args.level_lr,
        full_weight=args.full_weight,
        feature_weight=args.feature_weight,
        random=args.random,
        views=args.views,
        seed=args.seed,
    )
    run = Run(args.work, args.source, recipe, log=lambda line: print(line, flush=True))
    run.train(args.minutes, args.checkpoint_every)
    if args.out is not None and run.progress.step >= recipe.steps:
        run.finish(args.out, args.name, args.dtype)
    elif args.out is not None:
        print(f"stopped at step {run.progress.step} of {recipe.steps}: run again to resume", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
