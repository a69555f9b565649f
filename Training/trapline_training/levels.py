r"""Measures every slice option of a model against its full width, where it matters, and stores the curves.

    python -m trapline_training.levels --model Models/efficientnet-lite0.safetensors \
        --out Models/evaluation/levels --store

Evaluation sets, none of them ever fitted on (`trapline_training.refit` leaves them out):
- `real`: the held-out real photos of `data/real_photos_truth.json` (stamps flattened on grey as
  `label_eval` does), each as trapline sees it (centre square) and mirrored;
- `camtrap`: the synthetic camera-trap frames of `trapline_training.camtrap`'s eval split (held-out species and
  backgrounds) that hold an animal; `blank`: that split's blank frames.

Against the full width on the same view, each vector of per-unit levels gets: top-1 agreement, top-5
containment (the full width's top-1 among the pruned top 5), mean KL(full || pruned), agreement of the
animal/blank decision and of the label the catalog writes (the Swift `Labeler`'s rule: observation type,
then the deepest taxon whose summed probability reaches the roll-up threshold 0.5), each with a 95% percentile
bootstrap interval that resamples photos (both views of a photo together). Vectors: every unit at each width
level, each slice of a plan alone at each option, and a seeded sample of mixed vectors of the plan, with how
far the independence model (`AccuracyTable`: per-slice ratios multiply) is from them. `--store` writes the
real-photo top-1 curves into the model file's `accuracy`.

Against the hand-checked truth, as the paper measures accuracy: on every set whose views have a true taxon, each
vector's written label is right when its taxon is the true one, an ancestor or below it (`label_eval`'s rule), and
its top-1 class is judged the same way through its deepest taxon; an exact McNemar test on the views' paired
written-label outcomes says whether the vector is significantly worse than (or different from) full width. Views
of one photo are not independent, so the p-values are smaller than a per-photo test's: a "not significant" here is
conservative. Truth sets:
- `real`'s animal photos (held out from every fit);
- `animals`: all 117 animal photos of `data/real_photos_truth.json` as trapline sees them (centre square), as
  `label_eval` scores them; the stamps of the training taxa among them were composited into training views
  (`refit`, `slimmable`), so `real` is the clean subset;
- `bursts`: the animal of every frame of `trapline_training.bursts`'s eval split (held-out species and
  backgrounds) where it is in view and its stamp has a true taxon, cropped around its true box as burst
  localisation crops it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from . import bursts, camtrap, modelfile
from .architecture import INPUT_SIZE, unit_macs
from .images import load_photo, normalise
from .label_eval import TRUTH, Scorer, prepare, truth_lineages, write_report
from .model import TraplineNet, skip_level
from .taxonomy import Taxonomy, read_wordnet

ROLLUP_RANKS = ("species", "genus", "family", "order", "class")
THRESHOLD = 0.5
BOOTSTRAP = 1000
BOX_MARGIN = 1.25  # a burst crop's side: the box's longer side times this, as a square around its centre


def option_levels(meta: dict[str, Any], boundaries: Sequence[int], options: Sequence[int]) -> list[int]:
    """The per-unit level vector of one option per slice: option o below the width-level count runs every unit
    of its slice at width level o; a later one is `sliceOptions[o - levels]`: its slice's skippable units skip,
    the others run at its width level."""
    levels = len(meta["pruneLevels"])
    slice_options = meta.get("sliceOptions") or []
    skippable = set(meta.get("skippableUnits") or [])
    if len(options) != len(boundaries) - 1:
        raise ValueError(f"{len(options)} options for {len(boundaries) - 1} slices")
    vector: list[int] = []
    for (a, b), option in zip(itertools.pairwise(boundaries), options, strict=True):
        if not 0 <= option < levels + len(slice_options):
            raise ValueError(f"option {option} outside 0..<{levels + len(slice_options)}")
        if option < levels:
            vector += [option] * (b - a)
            continue
        spec = slice_options[option - levels]
        vector += [levels if (spec["skip"] and u in skippable) else spec["level"] for u in range(a, b)]
    return vector


def option_names(meta: dict[str, Any]) -> list[str]:
    """`w0.25`-style names of the width levels, then the slice options' names."""
    widths = [f"w{1 - p:g}" for p in meta["pruneLevels"]]
    return widths + [o["name"] for o in meta.get("sliceOptions") or []]


def macs(model: TraplineNet, vector: Sequence[int]) -> int:
    """Multiply-accumulates per image of a per-unit level vector (a skipped unit costs nothing)."""
    skip = skip_level(model.arch)
    widths = [0 if level == skip else level for level in vector]
    return sum(m for m, level in zip(unit_macs(model.arch, widths), vector, strict=True) if level != skip)


class Labels:
    """The written label of the Swift `Labeler` (observation type, roll-up at 0.5), vectorised over images."""

    def __init__(self, meta: dict[str, Any]) -> None:
        taxonomy = meta.get("taxonomy")
        classes = len(meta["classes"]["names"])
        self.types = np.array([c["type"] for c in taxonomy["classes"]]) if taxonomy else None
        if taxonomy is None:
            animal = np.zeros(classes, dtype=bool)
            for low, high in meta["classes"]["animalRanges"]:
                animal[low : high + 1] = True
            self.types = np.where(animal, "animal", "unknown")
            self.taxa, self.membership = [], np.zeros((classes, 0))
            return
        self.taxa = taxonomy["taxa"]
        self.membership = np.zeros((classes, len(self.taxa)))
        for index, entry in enumerate(taxonomy["classes"]):
            at = entry["taxon"] if entry["type"] == "animal" else None
            while at is not None:
                self.membership[index, at] = 1
                at = self.taxa[at]["parent"]
        self.rank_columns = [
            np.array([i for i, t in enumerate(self.taxa) if t["rank"] == rank], dtype=int) for rank in ROLLUP_RANKS
        ]

    def written(self, probabilities: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """(is the observation an animal, the written label) of each row of probabilities."""
        mass = {kind: probabilities[:, self.types == kind].sum(1) for kind in ("animal", "human", "vehicle")}
        taxon_mass = probabilities @ self.membership
        labels = []
        for n in range(len(probabilities)):
            if mass["animal"][n] >= THRESHOLD:
                labels.append(self._animal(taxon_mass[n]))
            elif max(mass["human"][n], mass["vehicle"][n]) >= THRESHOLD:
                kind = "human" if mass["human"][n] >= mass["vehicle"][n] else "vehicle"
                best = max(np.flatnonzero(self.types == kind), key=lambda i: probabilities[n, i])
                labels.append(f"{kind}:{best}")
            else:
                labels.append("blank")
        return mass["animal"] >= THRESHOLD, labels

    def _animal(self, taxon_mass: np.ndarray) -> str:
        for columns in self.rank_columns if self.taxa else []:
            if len(columns):
                best = columns[int(np.argmax(taxon_mass[columns]))]
                if taxon_mass[best] >= THRESHOLD:
                    return self.taxa[best]["name"]
        return "Animalia"


def held_out_photos() -> list[dict[str, Any]]:
    """The photos of `data/real_photos_truth.json` that the refit never fits on: all but the animal stamps of
    the taxa it fits (`refit.fitted_stamps`)."""
    from .refit import fitted_stamps  # imported here: refit imports this module's neighbours

    fitted = {str(s.path.resolve()) for s in fitted_stamps()}
    photos = json.loads(TRUTH.read_text(encoding="utf-8"))["photos"]
    return [p for p in photos if p["path"].startswith("skimage:") or str(Path(p["path"]).resolve()) not in fitted]


def real_views(folder: Path) -> tuple[torch.Tensor, np.ndarray]:
    """The held-out photos as trapline sees them (centre square), mirrored, and the centre 80% of that square:
    (NCHW input, photo index of each view)."""
    files = prepare(held_out_photos(), folder)
    images = np.stack([load_photo(f) for f in files])
    zoomed = np.stack([zoom(image, 0.8) for image in images])
    views = np.concatenate([images, images[:, :, ::-1], zoomed])
    groups = np.tile(np.arange(len(files)), 3)
    return normalise(views), groups


def truth_photos() -> list[dict[str, Any]]:
    """Every hand-checked photo of `data/real_photos_truth.json`."""
    return json.loads(TRUTH.read_text(encoding="utf-8"))["photos"]


def real_truths(groups: np.ndarray) -> list[dict[str, Any] | None]:
    """The true entry of each `real` view whose photo shows an animal (None for the others)."""
    photos = held_out_photos()
    return [photos[g] if photos[g]["type"] == "animal" else None for g in groups]


def animal_views(folder: Path) -> tuple[torch.Tensor, np.ndarray, list[dict[str, Any] | None]]:
    """All animal photos of the truth file as trapline sees them (centre square): input, groups, truths."""
    photos = [p for p in truth_photos() if p["type"] == "animal"]
    files = prepare(photos, folder)
    return normalise(np.stack([load_photo(f) for f in files])), np.arange(len(files)), list(photos)


def burst_views(count: int, seed: int, folder: Path) -> tuple[torch.Tensor, np.ndarray, list[dict[str, Any] | None]]:
    """The animal of every frame of `count` eval-split animal bursts (640x480) where it is in view and its stamp
    has a true taxon, as a square of `BOX_MARGIN` times the true box's longer side around its centre (inside the
    frame): input, burst of each view, truths."""
    by_stamp = {}
    for photo in truth_photos():
        path = Path(photo["path"])
        if photo["type"] == "animal" and path.is_relative_to(camtrap.STAMPS):
            by_stamp[path.relative_to(camtrap.STAMPS).as_posix()] = photo
    manifest = bursts.build(folder, seed, count, 0, size=(640, 480), log=False)
    crops, groups, truths = [], [], []
    for index, burst in enumerate(manifest["bursts"]):
        truth = by_stamp.get(burst.get("stamp") or "")
        for frame in burst["frames"] if truth is not None else []:
            if (box := frame["box"]) is None:
                continue
            with Image.open(folder / frame["file"]) as opened:
                image = opened.convert("RGB")
            width, height = image.size
            side = min(max(box["width"] * width, box["height"] * height) * BOX_MARGIN, width, height)
            left = min(max((box["x"] + box["width"] / 2) * width - side / 2, 0), width - side)
            top = min(max((box["y"] + box["height"] / 2) * height - side / 2, 0), height - side)
            square = (left, top, left + side, top + side)
            crops.append(np.asarray(image.resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR, box=square), np.uint8))
            groups.append(index)
            truths.append(truth)
    return normalise(np.stack(crops)), np.array(groups), truths


def mcnemar(full: np.ndarray, pruned: np.ndarray) -> dict[str, float]:
    """Exact two-sided McNemar test of paired right/wrong outcomes: views right at full width only, right pruned
    only, and the binomial p-value of that split under equal chances."""
    full_only = int((full & ~pruned).sum())
    pruned_only = int((pruned & ~full).sum())
    n = full_only + pruned_only
    tail = sum(math.comb(n, k) for k in range(min(full_only, pruned_only) + 1)) / 2**n if n else 1.0
    return {"fullOnly": full_only, "prunedOnly": pruned_only, "p": round(min(1.0, 2 * tail), 4)}


class Truth:
    """Judges written labels and top-1 classes against the true taxa of a set's views."""

    def __init__(self, meta: dict[str, Any], truths: Sequence[dict[str, Any] | None], wordnet: Taxonomy) -> None:
        taxonomy = meta.get("taxonomy")
        if taxonomy is None:
            raise ValueError("judging against the truth needs the model's taxonomy")
        known = [t for t in truths if t is not None]
        self.scorer = Scorer(taxonomy, truth_lineages(known, wordnet))
        self.truths = list(truths)
        self.judged = np.array([t is not None for t in truths])

    def outcomes(self, labels: Sequence[str], top1: torch.Tensor) -> dict[str, np.ndarray]:
        """Per view: written label right, top-1 class right (NaN where the view has no truth)."""
        written = np.full(len(self.truths), np.nan)
        classes = np.full(len(self.truths), np.nan)
        for n, truth in enumerate(self.truths):
            if truth is not None:
                written[n] = float(self.scorer.right(labels[n], truth))
                classes[n] = float(self.scorer.right(self.scorer.class_taxon(int(top1[n])), truth))
        return {"truthWritten": written, "truthTop1": classes}


def zoom(image: np.ndarray, share: float) -> np.ndarray:
    """The centre `share` of a square uint8 image, resized back to its size (bilinear)."""
    size = image.shape[0]
    margin = size * (1 - share) / 2
    box = (margin, margin, size - margin, size - margin)
    return np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR, box=box), dtype=np.uint8)


def camtrap_views(count: int, seed: int, folder: Path) -> dict[str, tuple[torch.Tensor, np.ndarray]]:
    """The camera-trap eval frames split into those with an animal and the blank ones."""
    manifest = camtrap.build(folder, seed, {"eval": count}, log=False)
    out = {}
    for name, label in (("camtrap", "animal"), ("blank", "blank")):
        files = [folder / f["file"] for f in manifest["frames"] if f["label"] == label]
        out[name] = (normalise(np.stack([load_photo(f) for f in files])), np.arange(len(files)))
    return out


class Outcomes:
    """Per-view outcomes of vectors against the full width on one evaluation set."""

    def __init__(
        self, full_logits: torch.Tensor, groups: np.ndarray, labels: Labels, seed: int, truth: Truth | None = None
    ) -> None:
        self.full = full_logits
        self.full_probs = torch.softmax(full_logits.double(), 1)
        self.full_top1 = full_logits.argmax(1)
        self.full_animal, self.full_label = labels.written(self.full_probs.numpy())
        self.labels = labels
        self.truth = truth
        self.full_truth = truth.outcomes(self.full_label, self.full_top1) if truth is not None else {}
        rng = np.random.default_rng(seed)
        photos = np.unique(groups)
        members = [np.flatnonzero(groups == p) for p in photos]
        self.samples = [
            np.concatenate([members[i] for i in rng.integers(0, len(photos), len(photos))]) for _ in range(BOOTSTRAP)
        ]

    def per_view(self, logits: torch.Tensor) -> dict[str, np.ndarray]:
        """Each metric's per-view values for one vector's logits."""
        probs = torch.softmax(logits.double(), 1)
        top5 = logits.topk(5, 1).indices
        kl = (self.full_probs * (self.full_probs.clamp_min(1e-30).log() - probs.clamp_min(1e-30).log())).sum(1)
        animal, label = self.labels.written(probs.numpy())
        values = {
            "top1": (logits.argmax(1) == self.full_top1).numpy().astype(float),
            "top5": (top5 == self.full_top1[:, None]).any(1).numpy().astype(float),
            "kl": kl.numpy(),
            "animalBlank": (animal == self.full_animal).astype(float),
            "writtenLabel": np.array([a == b for a, b in zip(label, self.full_label, strict=True)], dtype=float),
        }
        if self.truth is not None:
            values |= self.truth.outcomes(label, logits.argmax(1))
        return values

    def summary(self, values: dict[str, np.ndarray]) -> dict[str, Any]:
        """[mean, low, high] of each metric (95% bootstrap over photos; truth metrics over the views that have a
        truth), and the McNemar test of the written label against full width's where there is a truth."""
        out: dict[str, Any] = {}
        for name, v in values.items():
            with np.errstate(invalid="ignore"):
                means = np.array([np.nanmean(v[s]) if np.isfinite(v[s]).any() else np.nan for s in self.samples])
            low, high = np.nanpercentile(means, [2.5, 97.5])
            out[name] = [round(float(np.nanmean(v)), 4), round(float(low), 4), round(float(high), 4)]
        if self.truth is not None and "truthWritten" in values:
            judged = self.truth.judged
            full = self.full_truth["truthWritten"][judged] > 0.5
            out["mcnemar"] = mcnemar(full, values["truthWritten"][judged] > 0.5)
        return out


@torch.no_grad()
def logits_of(model: TraplineNet, x: torch.Tensor, vector: Sequence[int], chunk: int = 32) -> torch.Tensor:
    """Logits of a per-unit level vector over `x`, in chunks."""
    return torch.cat([model(x[i : i + chunk], list(vector)) for i in range(0, len(x), chunk)])


def evaluate(
    model: TraplineNet,
    meta: dict[str, Any],
    sets: dict[str, tuple[torch.Tensor, np.ndarray]],
    plan: int,
    mixed: int,
    seed: int,
    truths: dict[str, Truth] | None = None,
) -> dict[str, Any]:
    """The report: per set, every-unit levels and per-slice options, judged against the truth where `truths`
    has the set; on `real`, `mixed` sampled mixed vectors."""
    boundaries = meta["slicePlans"][str(plan)]
    slices = len(boundaries) - 1
    names = option_names(meta)
    labels = Labels(meta)
    full_vector = [0] * model.arch.unit_count
    vectors: dict[str, list[int]] = {}
    for level in range(1, model.arch.level_count):
        vectors[f"all:{names[level]}"] = [level] * model.arch.unit_count
    for s in range(slices):
        for option in range(1, len(names)):
            chosen = [0] * slices
            chosen[s] = option
            vector = option_levels(meta, boundaries, chosen)
            if vector != full_vector:
                vectors[f"slice{s}:{names[option]}"] = vector
    full_macs = macs(model, full_vector)
    report: dict[str, Any] = {"plan": boundaries, "options": names, "fullMacs": full_macs, "sets": {}}
    for set_name, (x, groups) in sets.items():
        truth = (truths or {}).get(set_name)
        outcomes = Outcomes(logits_of(model, x, full_vector), groups, labels, seed, truth)
        rows = {}
        if truth is not None:
            rows["full"] = {"macs": full_macs, **outcomes.summary(outcomes.per_view(outcomes.full))}
        for name, vector in vectors.items():
            rows[name] = {
                "macs": macs(model, vector),
                **outcomes.summary(outcomes.per_view(logits_of(model, x, vector))),
            }
        report["sets"][set_name] = {"views": len(x), "photos": len(np.unique(groups)), "vectors": rows}
        if set_name == "real" and mixed:
            report["mixed"] = mixed_vectors(model, meta, boundaries, x, outcomes, rows, mixed, seed)
    return report


def mixed_vectors(
    model: TraplineNet,
    meta: dict[str, Any],
    boundaries: Sequence[int],
    x: torch.Tensor,
    outcomes: Outcomes,
    rows: dict[str, Any],
    count: int,
    seed: int,
) -> dict[str, Any]:
    """A seeded sample of vectors with two or more slices pruned: measured top-1 agreement against the
    independence model's prediction from the per-slice rows."""
    names = option_names(meta)
    slices = len(boundaries) - 1
    rng = np.random.default_rng(seed)
    every = [v for v in itertools.product(range(len(names)), repeat=slices) if sum(o > 0 for o in v) >= 2]
    chosen = [every[i] for i in sorted(rng.choice(len(every), min(count, len(every)), replace=False))]
    results = []
    for options in chosen:
        vector = option_levels(meta, boundaries, list(options))
        measured = outcomes.summary(outcomes.per_view(logits_of(model, x, vector)))
        predicted = 1.0
        for s, option in enumerate(options):
            key = f"slice{s}:{names[option]}"
            predicted *= rows[key]["top1"][0] if key in rows else 1.0
        results.append(
            {
                "options": [names[o] for o in options],
                "macs": macs(model, vector),
                **measured,
                "predictedTop1": round(predicted, 4),
            }
        )
    errors = np.array([r["top1"][0] - r["predictedTop1"] for r in results])
    worst = min(results, key=lambda r: r["top1"][0]) if results else None
    return {
        "sampled": len(results),
        "of": len(every),
        "vectors": results,
        "worst": worst,
        "independenceError": {
            "meanAbs": round(float(np.abs(errors).mean()), 4) if len(errors) else None,
            "max": round(float(np.abs(errors).max()), 4) if len(errors) else None,
            "meanSigned": round(float(errors.mean()), 4) if len(errors) else None,
        },
    }


def full_width_agreement(
    model: TraplineNet, reference: Path, sets: dict[str, tuple[torch.Tensor, np.ndarray]]
) -> dict[str, Any]:
    """Per set: top-1 agreement and the largest logit difference between this model's full width and the
    reference file's (the refit must leave full width as it was, up to float rounding of the new order)."""
    other, other_meta = modelfile.read(reference)
    out: dict[str, Any] = {"reference": other_meta["name"], "sha256": modelfile.sha256(reference)}
    for name, (x, _groups) in sets.items():
        a, b = logits_of(model, x, [0] * model.arch.unit_count), logits_of(other, x, [0] * other.arch.unit_count)
        out[name] = {
            "top1Agreement": round(float((a.argmax(1) == b.argmax(1)).float().mean()), 4),
            "maxAbsLogitDifference": float((a - b).abs().max()),
        }
    return out


def accuracy_document(report: dict[str, Any], meta: dict[str, Any], plan: int) -> dict[str, Any]:
    """The model file's `accuracy`: real-photo top-1 agreement per slice and option, and per level for every
    unit; the full width agrees with itself."""
    names = option_names(meta)
    rows = report["sets"]["real"]["vectors"]
    slices = len(meta["slicePlans"][str(plan)]) - 1
    curves = []
    for s in range(slices):
        curve = [1.0]
        for option in range(1, len(names)):
            key = f"slice{s}:{names[option]}"
            curve.append(rows[key]["top1"][0] if key in rows else 1.0)
        curves.append(curve)
    uniform = [1.0] + [rows[f"all:{names[level]}"]["top1"][0] for level in range(1, len(meta["pruneLevels"]))]
    return {
        "metric": "top1-agreement",
        "plan": plan,
        "slices": curves,
        "uniform": uniform,
        "evaluatedOn": "held-out real photos (data/real_photos_truth.json less the stamps the refit fits on), "
        "centre square, mirrored and zoomed to its centre 80%, "
        f"{report['sets']['real']['views']} views",
        "images": report["sets"]["real"]["views"],
    }


def markdown(report: dict[str, Any]) -> str:
    """The report as tables."""

    def cell(entry: list[float], scale: float = 100, digits: int = 1) -> str:
        return f"{entry[0] * scale:.{digits}f} [{entry[1] * scale:.{digits}f}, {entry[2] * scale:.{digits}f}]"

    lines = [
        f"# Pruned levels against full width ({report['model']})",
        "",
        f"Command: `{report['command']}`",
        f"Date: {report['date']}; plan {report['plan']}; full width {report['fullMacs'] / 1e6:.1f} M MACs; "
        "95% bootstrap intervals over photos.",
        "",
    ]
    for set_name, entry in report["sets"].items():
        judged = "full" in entry["vectors"]
        header = "| vector | M MACs | top-1 % | top-5 % | KL | animal/blank % | written label % |"
        rule = "| --- | --- | --- | --- | --- | --- | --- |"
        if judged:
            header += " written right (truth) % | top-1 right (truth) % | McNemar: full only / pruned only, p |"
            rule += " --- | --- | --- |"
        lines += [f"## {set_name} ({entry['photos']} photos or bursts, {entry['views']} views)", "", header, rule]
        for name, row in entry["vectors"].items():
            line = (
                f"| {name} | {row['macs'] / 1e6:.1f} | {cell(row['top1'])} | {cell(row['top5'])} | "
                f"{cell(row['kl'], 1, 3)} | {cell(row['animalBlank'])} | {cell(row['writtenLabel'])} |"
            )
            if judged:
                test = row["mcnemar"]
                line += (
                    f" {cell(row['truthWritten'])} | {cell(row['truthTop1'])} | "
                    f"{test['fullOnly']} / {test['prunedOnly']}, {test['p']:.3g} |"
                )
            lines.append(line)
        lines.append("")
    if "fullWidthAgainstReference" in report:
        ref = report["fullWidthAgainstReference"]
        lines += [f"## Full width against {ref['reference']}", ""]
        for name, entry in ref.items():
            if isinstance(entry, dict):
                lines.append(
                    f"- {name}: top-1 agreement {entry['top1Agreement'] * 100:.1f}%, largest |logit "
                    f"difference| {entry['maxAbsLogitDifference']:.2e}"
                )
        lines.append("")
    if "mixed" in report:
        mixed = report["mixed"]
        error = mixed["independenceError"]
        lines += [
            f"## Mixed vectors on real photos ({mixed['sampled']} of {mixed['of']}, seeded sample)",
            "",
            f"Independence model (per-slice ratios multiply) against measured top-1: mean |error| "
            f"{error['meanAbs']}, max {error['max']}, mean signed (measured - predicted) {error['meanSigned']}.",
            f"Worst: {mixed['worst']['options']} top-1 {cell(mixed['worst']['top1'])} %.",
            "",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.levels", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="model file (format 1, 2 or 3)")
    parser.add_argument("--out", type=Path, help="folder for report.json and report.md")
    parser.add_argument("--plan", type=int, default=4, help="nodes of the slice plan to evaluate (4)")
    parser.add_argument("--camtrap", type=int, default=300, help="camera-trap eval frames to build (300; 0: none)")
    parser.add_argument("--mixed", type=int, default=40, help="mixed vectors to sample on real photos (40)")
    parser.add_argument("--bursts", type=int, default=0, help="eval-split animal bursts to crop (0: none)")
    parser.add_argument("--animals", action="store_true", help="also every animal photo of the truth file")
    parser.add_argument("--photos", type=int, default=0, help="use only the first N held-out photos (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of frames, samples and bootstrap (0)")
    parser.add_argument("--store", action="store_true", help="write the real-photo curves into the model file")
    parser.add_argument(
        "--reference", type=Path, help="another model file: report how often its full width agrees with this one's"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    model, meta = modelfile.read(args.model)
    if str(args.plan) not in meta["slicePlans"]:
        parser.error(f"{args.model} has no {args.plan}-node plan")
    with tempfile.TemporaryDirectory() as folder:
        x, groups = real_views(Path(folder))
        if args.photos:
            keep = groups < args.photos
            x, groups = x[torch.from_numpy(keep)], groups[keep]
        sets = {"real": (x, groups)}
        judged: dict[str, list[dict[str, Any] | None]] = {"real": real_truths(groups)}
        if args.animals:
            (Path(folder) / "animals").mkdir()
            x_animals, groups_animals, judged["animals"] = animal_views(Path(folder) / "animals")
            sets["animals"] = (x_animals, groups_animals)
        if args.bursts:
            x_bursts, groups_bursts, judged["bursts"] = burst_views(args.bursts, args.seed, Path(folder) / "bursts")
            sets["bursts"] = (x_bursts, groups_bursts)
        if args.camtrap:
            sets |= camtrap_views(args.camtrap, args.seed, Path(folder) / "camtrap")
        truths = None
        if meta.get("taxonomy"):
            wordnet = Taxonomy(read_wordnet())
            truths = {name: Truth(meta, views, wordnet) for name, views in judged.items()}
        report = evaluate(model, meta, sets, args.plan, args.mixed, args.seed, truths)
        if args.reference:
            report["fullWidthAgainstReference"] = full_width_agreement(model, args.reference, sets)
    report = {
        "model": meta["name"],
        "sha256": modelfile.sha256(args.model),
        "command": "python -m trapline_training.levels " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "seconds": round(time.monotonic() - started),
        **report,
    }
    text = markdown(report)
    print(text)
    if args.out:
        write_report(args.out, report, text)
    if args.store:
        modelfile.set_accuracy(args.model, accuracy_document(report, meta, args.plan))
        print(f"stored the real-photo curves in {args.model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
