r"""Compares pruning strategies on held-out images: a JSON report, a Markdown table and a PNG plot.

    python -m trapline_training.evaluate --data /tmp/camtrap --robust /tmp/robust.safetensors \
        --out Models/evaluation --write-accuracy

Strategies: `baseline` (the converted model, channels sorted by weight importance, every level with the
unpruned statistics, no training), `recalibrated` (channels re-sorted by measured importance, pruned levels'
batch-norm statistics re-estimated on training images; no weight changes) and `robust` (the model file given,
from `trapline_training.robust`). The reference is the original unpruned model (fp32).

For every level (all units at that level), for every slice of the 4-node plan pruned alone (the others at
level 0), and for mixed level vectors of the plan's slices ({0, 3} per slice, or every vector with
`--all-vectors`): top-1 agreement with the original and mean KL(original || pruned) on all held-out frames;
top-1 agreement on frames with an animal (species agreement); animal-vs-blank accuracy (animal when the
softmax mass of the animal classes is at least 0.5) on all frames, on blank frames and on animal frames;
each with a 95% bootstrap confidence interval (percentiles of resampled frames).
`--write-accuracy` puts the robust model's agreement curves into its file's `accuracy` metadata.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the conventional name)

from . import data, modelfile, robust
from .architecture import lite0
from .convert import sorted_model
from .model import TraplineNet

PLAN_NODES = "4"
METRICS = ("agreement", "kl", "speciesAgreement", "animalBlankAccuracy", "blankAccuracy", "animalRecall")
STRATEGIES = ("baseline", "recalibrated", "robust")
SliceLevels = tuple[int, ...]


def animal_mask(animal_ranges: Sequence[Sequence[int]], classes: int) -> torch.Tensor:
    """Per class: whether it is an animal (the model file's inclusive `animalRanges`)."""
    mask = torch.zeros(classes, dtype=torch.bool)
    for first, last in animal_ranges:
        mask[first : last + 1] = True
    return mask


def evaluation_vectors(level_count: int, slices: int, all_vectors: bool) -> list[SliceLevels]:
    """Slice-level vectors to evaluate: uniform, each slice alone, {0, last}^slices (or all of them)."""
    if all_vectors:
        return list(itertools.product(range(level_count), repeat=slices))
    vectors: set[SliceLevels] = {(level,) * slices for level in range(level_count)}
    for s in range(slices):
        for level in range(level_count):
            vectors.add(tuple(level if k == s else 0 for k in range(slices)))
    vectors.update(itertools.product((0, level_count - 1), repeat=slices))
    return sorted(vectors)


def run_vectors(
    model: TraplineNet,
    x: torch.Tensor,
    boundaries: Sequence[int],
    vectors: Sequence[SliceLevels],
    visit: Callable[[SliceLevels, torch.Tensor], None],
) -> None:
    """Runs `x` at every slice-level vector, sharing the work of common prefixes (a slice's output at a
    level is computed once for all vectors that begin alike); calls `visit(vector, logits)`."""

    def walk(activation: torch.Tensor, prefix: SliceLevels) -> None:
        depth = len(prefix)
        start, end = boundaries[depth], boundaries[depth + 1]
        for level in sorted({v[depth] for v in vectors if v[:depth] == prefix}):
            out = model(activation, [level] * (end - start), start, end)
            if depth + 1 == len(boundaries) - 1:
                visit((*prefix, level), out)
            else:
                walk(out, (*prefix, level))

    with torch.inference_mode():
        walk(x, ())


class Collector:
    """Per-frame outcomes of every vector: top-1, KL to the reference, animal probability."""

    def __init__(self, reference: torch.Tensor, mask: torch.Tensor) -> None:
        self.reference_top = reference.argmax(1)
        self.reference_logp = F.log_softmax(reference, 1)
        self.mask = mask
        self.offset = 0
        self.outcomes: dict[SliceLevels, dict[str, list[np.ndarray]]] = {}

    def visit(self, vector: SliceLevels, logits: torch.Tensor) -> None:
        n = len(logits)
        ref_logp = self.reference_logp[self.offset : self.offset + n]
        logp = F.log_softmax(logits, 1)
        kl = (ref_logp.exp() * (ref_logp - logp)).sum(1)
        entry = self.outcomes.setdefault(vector, {"agree": [], "kl": [], "animal": []})
        entry["agree"].append((logits.argmax(1) == self.reference_top[self.offset : self.offset + n]).numpy())
        entry["kl"].append(kl.numpy())
        entry["animal"].append(logp.exp()[:, self.mask].sum(1).numpy())

    def arrays(self) -> dict[SliceLevels, dict[str, np.ndarray]]:
        return {v: {k: np.concatenate(parts) for k, parts in e.items()} for v, e in self.outcomes.items()}


def evaluate_model(
    model: TraplineNet,
    images: np.ndarray,
    reference: torch.Tensor,
    boundaries: Sequence[int],
    vectors: Sequence[SliceLevels],
    mask: torch.Tensor,
    batch: int = 20,
) -> dict[SliceLevels, dict[str, np.ndarray]]:
    """Per-frame outcomes of `model` at every vector on `images` (uint8 NHWC)."""
    collector = Collector(reference, mask)
    for x in data.in_order(images, batch):
        run_vectors(model, x, boundaries, vectors, collector.visit)
        collector.offset += len(x)
    return collector.arrays()


class Bootstrap:
    """95% percentile intervals of means over frames resampled with replacement (fixed seed)."""

    def __init__(self, frames: int, is_animal: np.ndarray, samples: int = 1000, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.all = rng.integers(0, frames, (samples, frames))
        animals, blanks = np.flatnonzero(is_animal), np.flatnonzero(~is_animal)
        self.animals = animals[rng.integers(0, len(animals), (samples, len(animals)))] if len(animals) else None
        self.blanks = blanks[rng.integers(0, len(blanks), (samples, len(blanks)))] if len(blanks) else None
        self.is_animal = is_animal

    def interval(self, values: np.ndarray, subset: str = "all") -> list[float] | None:
        """[mean, low, high] of `values` over the frames of `subset` (`all`, `animals`, `blanks`)."""
        index = {"all": self.all, "animals": self.animals, "blanks": self.blanks}[subset]
        if index is None:
            return None
        chosen = values if subset == "all" else values[self.is_animal == (subset == "animals")]
        means = values[index].mean(axis=1)
        low, high = np.percentile(means, [2.5, 97.5])
        return [round(float(chosen.mean()), 5), round(float(low), 5), round(float(high), 5)]

    def metrics(self, outcome: dict[str, np.ndarray]) -> dict[str, list[float] | None]:
        """Every metric of one vector's per-frame outcomes."""
        agree = outcome["agree"].astype(np.float64)
        says_animal = outcome["animal"] >= 0.5
        correct = (says_animal == self.is_animal).astype(np.float64)
        return {
            "agreement": self.interval(agree),
            "kl": self.interval(outcome["kl"].astype(np.float64)),
            "speciesAgreement": self.interval(agree, "animals"),
            "animalBlankAccuracy": self.interval(correct),
            "blankAccuracy": self.interval(correct, "blanks"),
            "animalRecall": self.interval(correct, "animals"),
        }


def key(vector: SliceLevels) -> str:
    """A vector as the report writes it: slice levels joined by commas."""
    return ",".join(str(v) for v in vector)


def summarise(metrics: dict[SliceLevels, dict[str, Any]], level_count: int, slices: int, last: int) -> dict[str, Any]:
    """Uniform and slice-alone curves, and the worst mixed vectors (over {0, last} and over all evaluated)."""
    uniform = [metrics[(level,) * slices] for level in range(level_count)]
    alone = [
        [metrics[tuple(level if k == s else 0 for k in range(slices))] for level in range(level_count)]
        for s in range(slices)
    ]
    binary = [v for v in metrics if set(v) <= {0, last}]

    def worst(candidates: list[SliceLevels]) -> dict[str, Any]:
        vector = min(candidates, key=lambda v: (metrics[v]["agreement"][0], v))
        return {"vector": list(vector), **metrics[vector]}

    summary = {"uniform": uniform, "slices": alone, "worstOf0AndLast": worst(binary)}
    summary["vectors"] = {key(v): m["agreement"] for v, m in sorted(metrics.items())}
    return summary


def accuracy_metadata(summary: dict[str, Any], description: str, images: int) -> dict[str, Any]:
    """The model file's `accuracy` document (docs/model-file.md): agreement curves of the 4-node plan."""
    return {
        "metric": "top1-agreement",
        "plan": int(PLAN_NODES),
        "slices": [[round(m["agreement"][0], 4) for m in curve] for curve in summary["slices"]],
        "uniform": [round(m["agreement"][0], 4) for m in summary["uniform"]],
        "evaluatedOn": description,
        "images": images,
    }


def percent(interval: list[float] | None, scale: float = 100.0, digits: int = 1) -> str:
    """`value (low-high)` for a Markdown cell."""
    if interval is None:
        return "-"
    value, low, high = (v * scale for v in interval)
    return f"{value:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def markdown(report: dict[str, Any]) -> str:
    """The report's tables."""
    levels = report["pruneLevels"]
    strategies = [s for s in STRATEGIES if s in report["strategies"]]
    lines = [
        f"# Pruning strategies on {report['dataset']}",
        "",
        f"{report['images']} held-out frames ({report['animalFrames']} with an animal, {report['blankFrames']} "
        f"blank); 4-node plan {report['plan']}; 95% bootstrap intervals ({report['bootstrap']} resamples) in "
        "brackets. Agreement: top-1 equal to the original unpruned model's. KL: mean KL(original || pruned), "
        "nats. Animal/blank: animal when the animal classes' softmax mass is at least 0.5.",
        "",
        f"Original model: animal-vs-blank accuracy {percent(report['original']['animalBlankAccuracy'])}%, "
        f"on blank frames {percent(report['original']['blankAccuracy'])}%, "
        f"on animal frames {percent(report['original']['animalRecall'])}%.",
        "",
        "## Every unit at one level",
        "",
        "| strategy | pruned | agreement % | KL | species agreement % | animal/blank % | blank frames % |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in strategies:
        for level, m in enumerate(report["strategies"][name]["uniform"]):
            lines.append(
                f"| {name} | {levels[level]} | {percent(m['agreement'])} | {percent(m['kl'], 1, 3)} | "
                f"{percent(m['speciesAgreement'])} | {percent(m['animalBlankAccuracy'])} | "
                f"{percent(m['blankAccuracy'])} |"
            )
    lines += [
        "",
        "## One slice of the 4-node plan pruned, the others at full width (top-1 agreement %)",
        "",
        "| slice (units) | pruned | " + " | ".join(strategies) + " | robust KL |",
        "| --- | --- | " + " | ".join("---" for _ in strategies) + " | --- |",
    ]
    plan = report["plan"]
    for s in range(len(plan) - 1):
        for level in range(1, len(levels)):
            cells = [percent(report["strategies"][n]["slices"][s][level]["agreement"]) for n in strategies]
            robust_kl = report["strategies"].get("robust", report["strategies"][strategies[-1]])
            lines.append(
                f"| {s} ({plan[s]}..<{plan[s + 1]}) | {levels[level]} | " + " | ".join(cells) + " | "
                f"{percent(robust_kl['slices'][s][level]['kl'], 1, 3)} |"
            )
    lines += [
        "",
        "## Mixed level vectors of the 4-node plan (slice levels; top-1 agreement %)",
        "",
        f"| strategy | every slice at {levels[-1]} | worst with every slice at 0 or {levels[-1]} "
        "| worst of all level vectors (frames) |",
        "| --- | --- | --- | --- |",
    ]
    for name in strategies:
        result = report["strategies"][name]
        worst = result["worstOf0AndLast"]
        every = result.get("allVectors")
        every_cell = (
            f"{percent(every['worst']['agreement'])} at {every['worst']['vector']} ({every['images']})"
            if every
            else "not evaluated"
        )
        lines.append(
            f"| {name} | {percent(result['uniform'][-1]['agreement'])} | "
            f"{percent(worst['agreement'])} at {worst['vector']} | {every_cell} |"
        )
    if "fp16" in report:
        lines += [
            "",
            f"Storing the original's weights in fp16 alone (as the model files do): full-width agreement "
            f"{percent(report['fp16']['agreement'])}%.",
        ]
    return "\n".join(lines) + "\n"


def plot(report: dict[str, Any], path: Path) -> None:
    """Agreement against prune fraction: every unit pruned, then each slice alone; one line per strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = report["pruneLevels"]
    slices = len(report["plan"]) - 1
    fig, axes = plt.subplots(1, slices + 1, figsize=(4 * (slices + 1), 3.6), sharey=True)
    titles = ["every unit"] + [
        f"slice {s} (units {report['plan'][s]}..<{report['plan'][s + 1]})" for s in range(slices)
    ]
    for k, ax in enumerate(axes):
        for name in STRATEGIES:
            if name not in report["strategies"]:
                continue
            result = report["strategies"][name]
            curve = result["uniform"] if k == 0 else result["slices"][k - 1]
            values = np.array([m["agreement"] for m in curve]) * 100
            ax.errorbar(
                levels,
                values[:, 0],
                yerr=[values[:, 0] - values[:, 1], values[:, 2] - values[:, 0]],
                marker="o",
                capsize=3,
                label=name,
            )
        ax.set_title(titles[k], fontsize=10)
        ax.set_xlabel("fraction of channels pruned")
        ax.set_xticks(levels)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("top-1 agreement with original (%)")
    axes[0].set_ylim(0, 102)
    axes[-1].legend(loc="lower left")
    fig.suptitle(f"{report['images']} held-out frames; bars: 95% bootstrap intervals", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def every_vector(
    model: TraplineNet,
    images: np.ndarray,
    reference: torch.Tensor,
    boundaries: Sequence[int],
    mask: torch.Tensor,
    level_count: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Agreement at every level vector of the plan's slices on the first frames; the worst vector."""
    slices = len(boundaries) - 1
    vectors = evaluation_vectors(level_count, slices, all_vectors=True)
    outcomes = evaluate_model(model, images, reference[: len(images)], boundaries, vectors, mask)
    boot = Bootstrap(len(images), np.ones(len(images), dtype=bool), args.bootstrap, args.seed)
    agreement = {v: boot.interval(o["agree"].astype(np.float64)) for v, o in outcomes.items()}
    worst = min(agreement, key=lambda v: (agreement[v][0], v))
    binary = min((v for v in agreement if set(v) <= {0, level_count - 1}), key=lambda v: (agreement[v][0], v))
    return {
        "images": len(images),
        "worst": {"vector": list(worst), "agreement": agreement[worst]},
        "worstOf0AndLast": {"vector": list(binary), "agreement": agreement[binary]},
        "vectors": {key(v): a for v, a in sorted(agreement.items())},
    }


def fp16_agreement(
    original: TraplineNet, images: np.ndarray, reference: torch.Tensor, bootstrap: Bootstrap
) -> dict[str, Any]:
    """What storing the original's weights in fp16 alone does at full width (the shipped files are fp16)."""
    rounded = copy.deepcopy(original)
    with torch.no_grad():
        for tensor in rounded.state_dict().values():
            tensor.copy_(tensor.half().float())
    with torch.inference_mode():
        logits = torch.cat([rounded(x, [0] * original.arch.unit_count) for x in data.in_order(images, 20)])
    agree = (logits.argmax(1) == reference.argmax(1)).numpy().astype(np.float64)
    return {"agreement": bootstrap.interval(agree)}


def strategy_models(
    robust_path: Path | None, train: data.Dataset, recipe: robust.Recipe, boundaries: Sequence[int]
) -> dict[str, TraplineNet]:
    """The original model and the models of every strategy (`robust` only when a file is given)."""
    original = sorted_model(lite0())
    models = {
        "original": original,
        "baseline": original,
        "recalibrated": robust.recalibrated(original, train, recipe, boundaries),
    }
    if robust_path is not None:
        models["robust"], _ = modelfile.read(robust_path)
    return models


def run(args: argparse.Namespace) -> int:
    """The command."""
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    template = modelfile.read_metadata(args.robust if args.robust else args.template)
    boundaries = template["slicePlans"][PLAN_NODES]
    level_count = len(template["pruneLevels"])
    held_out = data.camtrap(args.data, "eval")
    if args.images is not None and args.images < len(held_out):
        held_out = held_out.subset(range(args.images))
        held_out.description += f" (the first {args.images})"
    train = data.camtrap(args.data, "train")
    images = held_out.load()
    is_animal = held_out.is_animal()
    recipe = robust.Recipe(calibration_images=args.calibration_images, seed=args.seed)
    models = strategy_models(args.robust, train, recipe, boundaries)
    mask = animal_mask(template["classes"]["animalRanges"], template["units"][-1]["classes"])
    with torch.inference_mode():
        reference = torch.cat([models["original"](x, [0] * boundaries[-1]) for x in data.in_order(images, 20)])
    bootstrap = Bootstrap(len(images), is_animal, args.bootstrap, args.seed)
    slices = len(boundaries) - 1
    report: dict[str, Any] = {
        "dataset": held_out.description,
        "images": len(images),
        "animalFrames": int(is_animal.sum()),
        "blankFrames": int((~is_animal).sum()),
        "plan": boundaries,
        "pruneLevels": template["pruneLevels"],
        "bootstrap": args.bootstrap,
        "original": bootstrap.metrics(
            {
                "agree": np.ones(len(images), dtype=bool),
                "kl": np.zeros(len(images)),
                "animal": F.softmax(reference, 1)[:, mask].sum(1).numpy(),
            }
        ),
        "strategies": {},
        "seconds": {},
    }
    for name in STRATEGIES:
        if name not in models:
            continue
        t0 = time.perf_counter()
        vectors = evaluation_vectors(level_count, slices, all_vectors=False)
        outcomes = evaluate_model(models[name], images, reference, boundaries, vectors, mask)
        metrics = {v: bootstrap.metrics(o) for v, o in outcomes.items()}
        report["strategies"][name] = summarise(metrics, level_count, slices, level_count - 1)
        if args.all_vectors and name in args.all_vectors_for:
            report["strategies"][name]["allVectors"] = every_vector(
                models[name], images[: args.all_vectors_images], reference, boundaries, mask, level_count, args
            )
        report["seconds"][name] = round(time.perf_counter() - t0, 1)
        print(f"{name}: evaluated in {report['seconds'][name]:.0f} s", flush=True)
    report["fp16"] = fp16_agreement(models["original"], images, reference, bootstrap)
    report["seconds"]["total"] = round(time.perf_counter() - started, 1)
    if "robust" in report["strategies"]:
        report["accuracy"] = accuracy_metadata(report["strategies"]["robust"], held_out.description, len(images))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (args.out / "report.md").write_text(markdown(report), encoding="utf-8")
    plot(report, args.out / "report.png")
    print(markdown(report))
    if args.write_accuracy and args.robust is not None:
        modelfile.set_accuracy(args.robust, report["accuracy"])
        print(f"wrote the accuracy curves into {args.robust}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder written by trapline_training.camtrap")
    parser.add_argument("--robust", type=Path, default=None, help="model file of the robust strategy")
    parser.add_argument(
        "--template", type=Path, default=Path("Models/efficientnet-lite0.safetensors"), help="plans without --robust"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for report.json, report.md, report.png")
    parser.add_argument("--images", type=int, default=None, help="evaluate only the first N held-out frames")
    parser.add_argument("--all-vectors", action="store_true", help="also every level vector of the plan's slices")
    parser.add_argument("--all-vectors-images", type=int, default=200, help="on the first N frames (200)")
    parser.add_argument("--all-vectors-for", nargs="*", default=list(STRATEGIES), help="strategies for --all-vectors")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (1000)")
    parser.add_argument("--calibration-images", type=int, default=256, help="for the recalibrated strategy (256)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (1)")
    parser.add_argument("--write-accuracy", action="store_true", help="store the robust curves in its model file")
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
