r"""How well `trapline bursts` finds and labels animals in camera-trap bursts with known boxes.

    python -m trapline_training.bursts --out /tmp/bursts --seed 0 --animal 60 --blank 30
    python -m trapline_training.burst_eval --trapline .build/debug/trapline \
        --model Models/efficientnet-lite0.safetensors --data /tmp/bursts --out Models/evaluation/bursts

Every burst folder of the data set goes through the real binary (`trapline bursts --json`, about 20 folders a
call), and what it prints is scored against `manifest.json` in three modes: the whole-frame label alone
(`whole`), the label of the crops around the boxes alone (`crop`; a frame without a box is blank) and the label
trapline writes (`combined`). Boxes are the same in both modes that have them: a predicted box matches the true
one at an IoU threshold (greedy, by score); boxes on blank frames are false positives.

A frame shows an animal when at least 15% of it is in view (the manifest's truth). A label is right when it is an
animal label whose taxon is the stamp's true taxon (`data/real_photos_truth.json`), an ancestor of it or below it,
as `label_eval` judges; stamps without a true taxon are left out of the label figures. Per-frame figures have 95%
percentile-bootstrap intervals over bursts (a burst's frames share a background and an animal, so they are not
independent); per-burst figures have Wilson intervals.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import modelfile
from .camtrap import STAMPS
from .label_eval import TRUTH, Scorer, truth_lineages, wilson
from .taxonomy import Taxonomy, read_wordnet

MODES = ("whole", "crop", "combined")
IOUS = (0.3, 0.5)
CURVE = tuple(round(0.1 * k, 1) for k in range(1, 10))
CHUNK = 20
RESAMPLES = 2000
SPECIFIC = ("species", "genus", "family")
Box = dict[str, float]
Label = dict[str, Any] | None


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes given as x, y, width, height (any common unit)."""
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    inter = max(w, 0.0) * max(h, 0.0)
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union > 0 else 0.0


def matched(predicted: list[Box], truth: list[Box], threshold: float) -> int:
    """True positives of a greedy matching: predictions by descending score, each to the unmatched true box it
    overlaps most, when that overlap reaches `threshold`."""
    free = list(truth)
    hits = 0
    for box in sorted(predicted, key=lambda b: -float(b.get("score", 0.0))):
        overlaps = [iou(box, t) for t in free]
        if overlaps and max(overlaps) >= threshold:
            free.pop(int(np.argmax(overlaps)))
            hits += 1
    return hits


class Bootstrap:
    """Shares of sums over frames with a percentile interval from resampling whole bursts (seeded)."""

    def __init__(self, groups: np.ndarray, count: int, seed: int = 0) -> None:
        self.groups, self.count = groups, count
        self.draws = np.random.default_rng(seed).integers(0, max(count, 1), (RESAMPLES, max(count, 1)))

    def share(self, hits: np.ndarray, of: np.ndarray) -> dict[str, Any]:
        """`sum(hits) / sum(of)` over the frames (one entry each)."""
        total, part = float(of.sum()), float(hits.sum())
        entry: dict[str, Any] = {"count": int(part), "of": int(total), "value": part / total if total else None}
        entry["ci95"] = None
        if total:
            per_hits = np.bincount(self.groups, weights=hits, minlength=self.count)[self.draws].sum(1)
            per_of = np.bincount(self.groups, weights=of, minlength=self.count)[self.draws].sum(1)
            ratios = per_hits[per_of > 0] / per_of[per_of > 0]
            entry["ci95"] = [float(v) for v in np.percentile(ratios, [2.5, 97.5])]
        return entry


def per_burst(hits: int, of: int) -> dict[str, Any]:
    return {"count": hits, "of": of, "value": hits / of if of else None, "ci95": wilson(hits, of)}


@dataclass
class Judge:
    """Whether a written label is the true taxon at its rank (label_eval's rule), per stamp."""

    scorer: Scorer
    truths: dict[str, dict[str, Any]]  # stamp path under camtrap.STAMPS -> truth entry (scientificName, rank)

    def truth(self, stamp: str | None) -> dict[str, Any] | None:
        return self.truths.get(stamp) if stamp else None

    def right(self, label: Label, truth: dict[str, Any]) -> bool:
        if label is None or label["observationType"] != "animal":
            return False
        return self.scorer.right(label["scientificName"], truth)

    def deep(self, label: Label, truth: dict[str, Any]) -> bool:
        return self.right(label, truth) and (label or {}).get("taxonRank") in SPECIFIC

    def class_right(self, label: Label, truth: dict[str, Any]) -> bool:
        return label is not None and self.scorer.right(self.scorer.class_taxon(int(label["classIndex"])), truth)


def load_judge(model: Path, truth_file: Path, stamps: set[str]) -> Judge:
    """The judge for these stamps, from the model's taxonomy and the hand-checked truth (WordNet lineages)."""
    taxonomy = modelfile.read_metadata(model).get("taxonomy")
    if taxonomy is None:
        raise ValueError(f"{model} has no taxonomy (run trapline_training.taxonomy)")
    photos = json.loads(truth_file.read_text(encoding="utf-8"))["photos"]
    truths = {}
    for photo in photos:
        path = Path(photo["path"])
        if photo["type"] == "animal" and path.is_relative_to(STAMPS):
            truths[path.relative_to(STAMPS).as_posix()] = photo
    truths = {k: v for k, v in truths.items() if k in stamps}
    return Judge(Scorer(taxonomy, truth_lineages(list(truths.values()), Taxonomy(read_wordnet()))), truths)


def not_blank(label: dict[str, Any] | None) -> bool:
    return label is not None and label["observationType"] != "blank"


@dataclass
class Frames:
    """The labeled frames, flattened: truth from the manifest, result from trapline, the burst they belong to."""

    bursts: list[dict[str, Any]]  # the manifest's entries
    truth: list[dict[str, Any]]
    result: list[dict[str, Any]]
    burst: np.ndarray
    failed: list[dict[str, str]]

    def of_burst(self, key: str) -> list[Any]:
        """A field of each frame's burst."""
        return [self.bursts[i].get(key) for i in self.burst]

    def flag(self, key: str) -> np.ndarray:
        return np.array(self.of_burst(key), dtype=np.float64)

    def animal(self) -> np.ndarray:
        """1 where the frame shows an animal (its truth box is set), else 0."""
        return np.array([t["box"] is not None for t in self.truth], dtype=np.float64)


def pair(bursts: list[dict[str, Any]], output: dict[str, Any], folders: list[str]) -> Frames:
    """Lines trapline's frames up with the manifest's, by burst folder and file name; failed frames left out."""
    by_path = {b["path"]: b for b in output["bursts"]}
    frames = Frames(bursts, [], [], np.zeros(0, dtype=np.int64), [])
    owners = []
    for index, (entry, folder) in enumerate(zip(bursts, folders, strict=True)):
        if folder not in by_path:
            raise ValueError(f"trapline did not report the burst {folder}")
        reported = {Path(f["file"]).name: f for f in by_path[folder]["frames"]}
        for truth in entry["frames"]:
            result = reported.get(Path(truth["file"]).name)
            if result is None or result.get("status") != "labeled":
                frames.failed.append({"file": truth["file"], "error": (result or {}).get("error", "not reported")})
                continue
            frames.truth.append(truth)
            frames.result.append(result)
            owners.append(index)
    frames.burst = np.array(owners, dtype=np.int64)
    return frames


def localisation(frames: Frames, boot: Bootstrap) -> dict[str, Any]:
    """Recall and precision of the boxes at IoU thresholds, and how often a blank frame gets a box."""
    truths = [[t["box"]] if t["box"] else [] for t in frames.truth]
    boxes = [r.get("boxes") or [] for r in frames.result]
    animal = frames.animal()
    predicted = np.array([len(b) for b in boxes], dtype=np.float64)

    def at(threshold: float) -> dict[str, Any]:
        hits = np.array([matched(b, t, threshold) for b, t in zip(boxes, truths, strict=True)], dtype=np.float64)
        return {"recall": boot.share(hits, animal), "precision": boot.share(hits, predicted)}

    blank = 1 - animal
    still = np.array([bool(s) for s in frames.of_burst("stationary")], dtype=np.float64)
    hits3 = np.array([matched(b, t, 0.3) for b, t in zip(boxes, truths, strict=True)], dtype=np.float64)
    motion = np.array([bool(r.get("motion")) for r in frames.result], dtype=np.float64)
    localised = np.array([bool(r.get("localised")) for r in frames.result], dtype=np.float64)
    # Disturbances alone (blank bursts: infrared, flicker and noise in all; sway and strips in some) must not
    # read as motion: frames of blank bursts given a box, by condition.
    boxed = (predicted > 0).astype(np.float64)
    empty = np.array([kind == "blank" for kind in frames.of_burst("kind")], dtype=np.float64)
    conditions = {"all": np.ones_like(empty)}
    for key in ("ir", "sway", "strip"):
        flag = np.array([bool(v) for v in frames.of_burst(key)], dtype=np.float64)
        conditions[key], conditions[f"no_{key}"] = flag, 1 - flag
    return {
        "boxesInBlankBursts": {k: boot.share(boxed * empty * c, empty * c) for k, c in conditions.items()},
        **{f"iou{t}": at(t) for t in IOUS},
        "blankFramesWithBox": boot.share(blank * (predicted > 0), blank),
        # Motion cannot show an animal that stands still: recall split by the kind of burst.
        "recall0.3MovingBursts": boot.share(hits3 * (1 - still), animal * (1 - still)),
        "recall0.3StationaryBursts": boot.share(hits3 * still, animal * still),
        "motionOnAnimalFrames": boot.share(motion * animal, animal),
        "motionOnBlankFrames": boot.share(motion * blank, blank),
        "localisedFrames": boot.share(localised, np.ones_like(localised)),
        "curve": [{"iou": t, **at(t)} for t in CURVE],
    }


def mode_scores(frames: Frames, mode: str, boot: Bootstrap, judge: Judge) -> dict[str, Any]:
    """Animal-vs-blank accuracy (overall and by condition) and label agreement of one mode."""
    labels = [r.get(mode) for r in frames.result]
    animal, ir, strip = frames.animal(), frames.flag("ir"), frames.flag("strip")
    nothing = np.array([not (t.get("visible") or 0) for t in frames.truth], dtype=np.float64)
    right = np.array([not_blank(lab) == bool(a) for lab, a in zip(labels, animal, strict=True)], dtype=np.float64)
    accuracy = {
        "all": boot.share(right, np.ones_like(right)),
        "animalFrames": boot.share(right * animal, animal),
        "blankFrames": boot.share(right * (1 - animal), 1 - animal),
        # A frame with under 15% of the animal in view counts as blank in the truth; most errors on blank frames
        # are those, so the frames with nothing of the animal in view are counted apart.
        "blankFramesNothingInView": boot.share(right * nothing, nothing),
        "ir": boot.share(right * ir, ir),
        "day": boot.share(right * (1 - ir), 1 - ir),
        "strip": boot.share(right * strip, strip),
        "noStrip": boot.share(right * (1 - strip), 1 - strip),
    }
    truths = [judge.truth(s) if a else None for s, a in zip(frames.of_burst("stamp"), animal, strict=True)]
    judged = np.array([t is not None for t in truths], dtype=np.float64)

    def rate(test: Callable[[Label, dict[str, Any]], bool]) -> dict[str, Any]:
        hits = [t is not None and test(lab, t) for lab, t in zip(labels, truths, strict=True)]
        return boot.share(np.array(hits, dtype=np.float64), judged)

    label = {
        "rightAtItsRank": rate(judge.right),
        "rightAtFamilyOrDeeper": rate(judge.deep),
        "classTaxonRight": rate(judge.class_right),
    }
    return {"animalVsBlank": accuracy, "label": label}


def burst_scores(frames: Frames, output: dict[str, Any], folders: list[str], judge: Judge) -> dict[str, Any]:
    """Per burst: whether any frame is called not blank, per mode; and trapline's event label (animal bursts: not
    blank, right; blank bursts: not blank)."""
    animal = np.array([b["kind"] == "animal" for b in frames.bursts])
    scores: dict[str, Any] = {}
    for mode in MODES:
        flagged = np.zeros(len(frames.bursts), dtype=bool)
        for index, result in zip(frames.burst, frames.result, strict=True):
            flagged[index] |= not_blank(result.get(mode))
        scores[mode] = {
            "animalBurstsWithAFrameNotBlank": per_burst(int((flagged & animal).sum()), int(animal.sum())),
            "blankBurstsWithAFrameNotBlank": per_burst(int((flagged & ~animal).sum()), int((~animal).sum())),
        }
    events = {b["path"]: b.get("event") for b in output["bursts"]}
    labels = [events.get(folder) for folder in folders]
    truths = [judge.truth(b.get("stamp")) for b in frames.bursts]
    on_animals = [lab for lab, a in zip(labels, animal, strict=True) if a]
    judged = [(lab, t) for lab, t in zip(labels, truths, strict=True) if t is not None]
    on_blanks = [lab for lab, a in zip(labels, animal, strict=True) if not a]
    scores["event"] = {
        "animalBurstsNotBlank": per_burst(sum(map(not_blank, on_animals)), len(on_animals)),
        "animalBurstsRightAtItsRank": per_burst(sum(judge.right(lab, t) for lab, t in judged), len(judged)),
        "animalBurstsRightAtFamilyOrDeeper": per_burst(sum(judge.deep(lab, t) for lab, t in judged), len(judged)),
        "blankBurstsNotBlank": per_burst(sum(map(not_blank, on_blanks)), len(on_blanks)),
    }
    return scores


def cost(timing: dict[str, Any]) -> dict[str, Any]:
    """Milliseconds per image (the call totals over the frames) and crops per frame."""
    frames = int(timing.get("frames", 0))
    per = {k: v / max(frames, 1) for k, v in timing.items() if k.endswith("Ms")}
    return {
        "frames": frames,
        "cropsPerFrame": timing.get("crops", 0) / max(frames, 1),
        "msPerImage": per,
        "totalMsPerImage": sum(per.values()),
    }


def score(bursts: list[dict[str, Any]], output: dict[str, Any], folders: list[str], judge: Judge) -> dict[str, Any]:
    """Every figure of the report for these manifest bursts (each given to trapline as its entry of `folders`)."""
    frames = pair(bursts, output, folders)
    boot = Bootstrap(frames.burst, len(bursts))
    animal = frames.animal()
    unjudged = [b for b in bursts if b["kind"] == "animal" and judge.truth(b["stamp"]) is None]
    stamps = frames.of_burst("stamp")
    unjudged_frames = sum(bool(a) and judge.truth(s) is None for a, s in zip(animal, stamps, strict=True))
    return {
        "bursts": {
            "animal": sum(b["kind"] == "animal" for b in bursts),
            "blank": sum(b["kind"] == "blank" for b in bursts),
        },
        "frames": {
            "labeled": len(frames.truth),
            "animal": int(animal.sum()),
            "blank": int(len(animal) - animal.sum()),
            "failed": len(frames.failed),
            "failures": frames.failed[:20],
        },
        "labelExcluded": {
            "species": sorted({b["species"] for b in unjudged}),
            "bursts": len(unjudged),
            "animalFrames": unjudged_frames,
        },
        "localisation": localisation(frames, boot),
        "modes": {m: mode_scores(frames, m, boot, judge) for m in MODES},
        "perBurst": burst_scores(frames, output, folders, judge),
        "cost": cost(output.get("timing") or {}),
    }


def run_trapline(
    trapline: Path, model: Path, folders: list[str], chunk: int = CHUNK, options: list[str] | None = None
) -> dict[str, Any]:
    """`trapline bursts --json` over the folders, `chunk` a call; the calls' bursts joined, timings summed."""
    merged: dict[str, Any] = {"model": None, "bursts": [], "timing": {}}
    for start in range(0, len(folders), chunk):
        command = [str(trapline), "bursts", "--json", "--model", str(model), *(options or [])]
        command += folders[start : start + chunk]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        try:
            output = json.loads(result.stdout)
        except json.JSONDecodeError as error:
            message = f"trapline bursts exited {result.returncode}: {result.stderr.strip()[-2000:]}"
            raise RuntimeError(message) from error
        merged["model"] = merged["model"] or output.get("model")
        merged["bursts"] += output["bursts"]
        for key, value in (output.get("timing") or {}).items():
            merged["timing"][key] = merged["timing"].get(key, 0) + value
    return merged


def machine() -> dict[str, Any]:
    """The machine the figures were measured on (no host name)."""
    return {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    from .burst_report import write_report

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trapline", type=Path, required=True, help="the trapline binary")
    parser.add_argument("--model", type=Path, default=Path("Models/efficientnet-lite0.safetensors"))
    parser.add_argument("--data", type=Path, required=True, help="a folder written by trapline_training.bursts")
    parser.add_argument("--out", type=Path, help="folder for report.json, table.md and the plots")
    parser.add_argument("--limit", type=int, help="evaluate only the first N bursts")
    parser.add_argument("--chunk", type=int, default=CHUNK, help=f"burst folders per trapline call ({CHUNK})")
    parser.add_argument("--truth", type=Path, default=TRUTH, help="hand-checked true taxa of the stamps")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="ARG",
        help="an argument passed on to `trapline bursts` (repeat: --option=--crop-threshold --option=0.3)",
    )
    args = parser.parse_args(argv)
    manifest = json.loads((args.data / "manifest.json").read_text(encoding="utf-8"))
    bursts = manifest["bursts"][: args.limit]
    folders = [str(args.data / b["folder"]) for b in bursts]
    judge = load_judge(args.model, args.truth, {b["stamp"] for b in bursts if b.get("stamp")})
    output = run_trapline(args.trapline, args.model, folders, args.chunk, args.option)
    report = {
        "command": "python -m trapline_training.burst_eval " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "model": output.get("model"),
        "data": {k: manifest[k] for k in ("builder", "seed", "split", "frame", "counts", "visibleThreshold")},
        "ci95": f"per frame: percentile bootstrap over bursts ({RESAMPLES} resamples, seed 0); per burst: Wilson",
        **score(bursts, output, folders, judge),
    }
    text = write_report(args.out, report) if args.out else None
    print(text or json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
