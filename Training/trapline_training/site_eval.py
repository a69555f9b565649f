r"""How well a site head (`trapline learn`) labels animals ImageNet-1k lacks, on camera-trap-like frames and photos.

    python -m trapline_training.site_eval --trapline .build/debug/trapline \
        --model Models/efficientnet-lite0.safetensors --out Models/evaluation/site

`site_frames` builds the frames as `camtrap` builds its own (real animal cut-outs composited on real backgrounds,
then night, low light, motion blur, noise, focus blur and JPEG quality drawn per frame), deterministically from
the seed, in a scratch folder that is never committed (the stamps' and wallpapers' licences forbid shipping them):

- `train/<class>/NNN.jpg`: `--per-class` frames per class on the training backgrounds;
- `held-out-backgrounds/<class>/NNN.jpg`: the same stamps (and blank frames) on the held-out backgrounds;
- `held-out-stamps/<class>/NNN.jpg`: other stamps of the same taxon (a fawn and a caribou for the deer, a
  grazing donkey) on the held-out backgrounds.

`trapline learn` runs twice on `train` (once as it is, once pinned to one core with `taskset -c 0`): both are
timed by the wall clock and their head files compared byte for byte. Every test frame then goes through
`trapline classify --json` with the head and without it. A written label is right when its taxon is the true
one or below it (the written class's lineage holds the truth); it is right at its rank when it is also or
instead an ancestor of the truth (`Artiodactyla` for a deer: the most a model without the class can say).
A blank frame is right when it is written blank. Finally the hand-checked real photos of `label_eval` are
classified with and without the head at each of its roll-up thresholds.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import camtrap, label_eval, modelfile, site_report
from .site_frames import BLANK, SETS, TRAIN_STAMPS, build
from .taxonomy import Taxonomy, read_wordnet

CHUNK = 50
DEFAULT_ROLLUP = 0.5  # `trapline classify --rollup-threshold`'s default


# Scoring: pure functions of the classify results, the head file's classes and the model's taxonomy.


def truth_of(classes: list[dict[str, Any]]) -> dict[str, str]:
    """The true taxon (scientific name, or `blank`) of each class folder name of a head file."""
    return {c["name"]: c.get("scientificName", BLANK) for c in classes}


def verdict(
    result: dict[str, Any], truth: str, lineages: dict[str, list[str]], model: Callable[[str], list[str]]
) -> str:
    """`right` (the written taxon is the truth or below it), `ancestor` (an ancestor of it) or `wrong`; a blank
    frame is right when written blank. A taxon the site head wrote is placed by `lineages`, the model's by
    `model` (a name to its lineage)."""
    if truth == BLANK:
        return "right" if result["observationType"] == BLANK else "wrong"
    written = written_name(result)
    if result["observationType"] != "animal" or written == "animal":
        return "wrong"
    placed = lineages.get(written, [written]) if result.get("head") == "site" else [written, *model(written)]
    if truth in placed:
        return "right"
    return "ancestor" if written in lineages.get(truth, [truth]) else "wrong"


def share(count: int, total: int) -> dict[str, Any]:
    """A proportion with its count, total and 95% Wilson interval."""
    return {
        "count": count,
        "of": total,
        "value": count / total if total else None,
        "ci95": label_eval.wilson(count, total),
    }


def written_name(result: dict[str, Any]) -> str:
    """What a result writes: the animal's taxon, else its observation type (`blank`, `human`, `animal`)."""
    name = result["label"].get("scientificName") if result["observationType"] == "animal" else None
    return name or result["observationType"]


def summarise(rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Per class and overall: right (the class or below), right at its rank (also an ancestor), and the labels
    written; `rows` holds (class, verdict, written name)."""
    names = dict.fromkeys(name for name, _, _ in rows)
    by_class = {name: tally([(v, w) for n, v, w in rows if n == name]) for name in names}
    return {"classes": by_class, "overall": tally([(v, w) for _, v, w in rows])}


def tally(rows: list[tuple[str, str]]) -> dict[str, Any]:
    """Right and right-at-its-rank shares of a list of (verdict, written name)."""
    right = sum(v == "right" for v, _ in rows)
    at_rank = sum(v in ("right", "ancestor") for v, _ in rows)
    return {
        "right": share(right, len(rows)),
        "rightAtItsRank": share(at_rank, len(rows)),
        "written": dict(Counter(w for _, w in rows).most_common()),
    }


# Running trapline.


def learn(trapline: Path, model: Path, train: Path, out: Path, threads: int | None, one_core: bool) -> dict[str, Any]:
    """Runs `trapline learn` on `train`, writing `out`; returns its command, wall-clock seconds, load and output."""
    command = [str(trapline), "learn", str(train), "--out", str(out), "--model", str(model)]
    command += ["--threads", str(threads)] if threads else []
    command = ["taskset", "-c", "0", *command] if one_core else command
    load = os.getloadavg()[0]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    return {
        "command": " ".join(command),
        "wallSeconds": round(seconds, 2),
        "loadAverage1minBefore": round(load, 2),
        "stdout": result.stdout,
        "stderr": result.stderr,
    }


def classify(trapline: Path, model: Path, files: list[Path], head: Path | None, threads: int | None) -> dict:
    """`trapline classify --json` of every file, `CHUNK` paths per call; the results in order and the seconds."""
    results: list[dict[str, Any]] = []
    start = time.perf_counter()
    for at in range(0, len(files), CHUNK):
        command = [str(trapline), "classify", "--json", "--top", "3", "--model", str(model)]
        command += ["--site-head", str(head)] if head else []
        command += ["--threads", str(threads)] if threads else []
        result = subprocess.run([*command, *map(str, files[at : at + CHUNK])], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"trapline classify failed ({result.returncode}): {result.stderr.strip()}")
        results += json.loads(result.stdout)["images"]
    return {"results": results, "seconds": round(time.perf_counter() - start, 2)}


def score_set(
    frames: list[dict[str, Any]], results: list[dict[str, Any]], classes: list[dict], model: Callable
) -> dict:
    """The summary of one test set's results (in the order of `frames`)."""
    truth, lineages = truth_of(classes), label_eval.class_lineages(classes)
    rows = []
    for frame, result in zip(frames, results, strict=True):
        if not result["ok"] or Path(result["path"]).name != Path(frame["file"]).name:
            raise RuntimeError(f"trapline did not classify {frame['file']}: {result}")
        name = truth[frame["name"]]
        rows.append((frame["name"], verdict(result, name, lineages, model), written_name(result)))
    return summarise(rows)


SUBSETS = {
    "all": "every animal photo",
    "headTaxa": "animals of the head's taxa (the class or below)",
    "headTaxaUnseen": "those of them the head never saw as a training stamp",
    "otherAnimals": "every other animal",
}


def photo_subsets(
    photos: list[dict[str, Any]], truth: dict[str, list[str]], head_taxa: set[str], trained: set[str]
) -> dict[str, list[int]]:
    """The indices of the photos in each of `SUBSETS` (`all` holds the people, vehicles and blanks too: they count
    for the observation type); `truth` holds each true taxon's lineage, `trained` the training stamps' paths."""
    animals = [k for k, p in enumerate(photos) if p["type"] == "animal"]
    in_taxa = [k for k in animals if set(truth[photos[k]["scientificName"]]) & head_taxa]
    return {
        "all": list(range(len(photos))),
        "headTaxa": in_taxa,
        "headTaxaUnseen": [k for k in in_taxa if photos[k]["path"] not in trained],
        "otherAnimals": [k for k in animals if k not in in_taxa],
    }


def real_photos(trapline: Path, model: Path, head: Path, taxonomy: dict[str, Any]) -> dict[str, Any]:
    """`label_eval`'s scores on its hand-checked photos with and without the head, at each roll-up threshold, over
    each of `SUBSETS`; and, at classify's default roll-up (0.5), the photos whose written label the head changed."""
    photos = json.loads(label_eval.TRUTH.read_text(encoding="utf-8"))["photos"]
    truth = label_eval.truth_lineages(photos, Taxonomy(read_wordnet()))
    trained = {str(stamp.path) for stamp in camtrap.find_stamps() if stamp.species in sum(TRAIN_STAMPS.values(), ())}
    lineages = label_eval.site_head_lineages(head)
    subsets = photo_subsets(photos, truth, set(lineages), trained)
    report: dict[str, Any] = {
        "photos": len(photos),
        "animals": sum(p["type"] == "animal" for p in photos),
        "trainingStampPhotos": sum(p["path"] in trained for p in photos),
        "subsets": {name: len(chosen) for name, chosen in subsets.items()},
        "headTaxaPhotos": [photos[k]["path"] for k in subsets["headTaxa"]],
        "thresholds": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        files = label_eval.prepare(photos, Path(folder))
        for threshold in label_eval.THRESHOLDS:
            row: dict[str, Any] = {}
            written: list[list[tuple[str, bool]]] = []
            for mode, site_head in (("withoutHead", None), ("withHead", head)):
                results = label_eval.classify(trapline, model, files, threshold, site_head)
                scorer = label_eval.Scorer(taxonomy, truth, lineages if site_head else None)
                row[mode] = {name: subset_score(photos, results, chosen, scorer) for name, chosen in subsets.items()}
                pairs = zip(photos, results, strict=True)
                written.append([(written_name(r), photo_right(p, r, scorer)) for p, r in pairs])
            changed = [
                {"path": p["path"], "truth": p["scientificName"] or p["type"], "without": a, "withoutRight": a_right,
                 "with": b, "withRight": b_right}
                for p, (a, a_right), (b, b_right) in zip(photos, *written, strict=True)
                if a != b
            ]  # fmt: skip
            row["changedCount"] = len(changed)
            if threshold == DEFAULT_ROLLUP:
                row["changed"] = changed
            report["thresholds"][str(threshold)] = row
    return report


def photo_right(photo: dict[str, Any], result: dict[str, Any], scorer: label_eval.Scorer) -> bool:
    """Whether `label_eval` counts a photo's result right: an animal's written taxon right at its rank, else the
    observation type."""
    if photo["type"] != "animal":
        return result["observationType"] == photo["type"]
    return result["observationType"] == "animal" and scorer.right(result["label"].get("scientificName"), photo)


def subset_score(photos: list[dict], results: list[dict], chosen: list[int], scorer: label_eval.Scorer) -> dict:
    """`label_eval.score` over the chosen photos, less its list of wrong labels."""
    scored = label_eval.score([photos[k] for k in chosen], [results[k] for k in chosen], scorer)
    scored.pop("wrong")
    return scored


def sha256(path: Path) -> str:
    """The file's SHA-256 in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def machine() -> str:
    """The operating system, architecture, processor and core count, in words."""
    release = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    cpu_lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpu_lines if line.startswith("model name")), "")
    return f"{release.get('PRETTY_NAME', '').strip(chr(34))} {os.uname().machine}, {cpu}, {os.cpu_count()} cores"


def learn_twice(args: argparse.Namespace, scratch: Path) -> tuple[Path, dict[str, Any]]:
    """Learns the head as it is and pinned to one core; the head file and what the runs showed."""
    # The same file name in two folders: a head file holds its name (the file's stem).
    heads = [scratch / "learn" / "head.json", scratch / "learn-one-core" / "head.json"]
    runs = []
    for head_file, one_core in ((heads[0], False), (heads[1], True)):
        head_file.parent.mkdir(parents=True, exist_ok=True)
        runs.append(learn(args.trapline, args.model, scratch / "train", head_file, args.threads, one_core))
    head = json.loads(heads[0].read_text(encoding="utf-8"))
    return heads[0], {
        "runs": runs,
        "identical": heads[0].read_bytes() == heads[1].read_bytes(),
        "headSha256": sha256(heads[0]),
        "classes": head["classes"],
        "validation": head["validation"],
        "threshold": head["threshold"],
    }


def test_sets(args: argparse.Namespace, scratch: Path, frames: list[dict], head: Path, taxonomy: dict) -> dict:
    """Both test sets classified with and without the head, scored."""
    classes = json.loads(head.read_text(encoding="utf-8"))["classes"]
    model_lineage = label_eval.Scorer(taxonomy, {}).lineage
    sets: dict[str, Any] = {}
    for name in SETS[1:]:
        chosen = [f for f in frames if f["set"] == name]
        files = [scratch / f["file"] for f in chosen]
        entry: dict[str, Any] = {"frames": len(chosen), "classifySeconds": {}}
        for mode, site_head in (("withHead", head), ("withoutHead", None)):
            run = classify(args.trapline, args.model, files, site_head, args.threads)
            entry[mode] = score_set(chosen, run["results"], classes, model_lineage)
            entry["classifySeconds"][mode] = run["seconds"]
        sets[name] = entry
    return sets


def evaluate(args: argparse.Namespace, scratch: Path, argv: list[str]) -> dict[str, Any]:
    """Builds the frames in `scratch`, learns, classifies and scores; returns the report."""
    taxonomy = modelfile.read_metadata(args.model).get("taxonomy")
    if taxonomy is None:
        raise ValueError(f"{args.model} has no taxonomy (run trapline_training.taxonomy)")
    frames = build(scratch, args.seed, args.per_class, args.test_per_class)
    print(f"built {len(frames)} frames in {scratch}", flush=True)
    head, learned = learn_twice(args, scratch)
    print(learned["runs"][0]["stdout"], flush=True)
    report: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "command": "python -m trapline_training.site_eval " + " ".join(argv),
        "trapline": str(args.trapline),
        "traplineSha256": sha256(args.trapline),
        "model": str(args.model),
        "seed": args.seed,
        "perClass": args.per_class,
        "testPerClass": args.test_per_class,
        "learn": learned,
        "sets": test_sets(args, scratch, frames, head, taxonomy),
    }
    print("classified the test sets", flush=True)
    report["realPhotos"] = real_photos(args.trapline, args.model, head, taxonomy)
    if args.notes:
        report["notes"] = args.notes.read_text(encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trapline", type=Path, required=True, help="the trapline binary")
    parser.add_argument("--model", type=Path, default=Path("Models/efficientnet-lite0.safetensors"))
    parser.add_argument("--out", type=Path, help="folder for report.json and report.md")
    parser.add_argument("--per-class", type=int, default=20, help="training frames per class (20)")
    parser.add_argument("--test-per-class", type=int, default=40, help="test frames per class and set (40)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--threads", type=int, help="--threads for trapline (its default when left out)")
    parser.add_argument("--scratch", type=Path, help="folder for the frames and heads (kept; a temporary one if not)")
    parser.add_argument("--notes", type=Path, help="markdown appended to the report (what the figures mean)")
    args = parser.parse_args(argv)
    argv = argv if argv is not None else sys.argv[1:]
    if args.scratch:
        args.scratch.mkdir(parents=True, exist_ok=True)
        report = evaluate(args, args.scratch, argv)
    else:
        with tempfile.TemporaryDirectory() as folder:
            report = evaluate(args, Path(folder), argv)
    text = site_report.markdown(report, SUBSETS)
    print(text)
    if args.out:
        label_eval.write_report(args.out, report, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
