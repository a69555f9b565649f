r"""What a site head's ceiling trades: its right labels of the site's animals against the model's right ones.

    python -m trapline_training.site_ceiling --trapline .build/debug/trapline \
        --model Models/efficientnet-lite0.safetensors --scratch /tmp/site-ceiling

Builds `site_eval`'s frames (seed 0, 20 a class to learn, 40 a class per test set), learns a head with the
ceiling off (`--ceiling 9`), and classifies the held-out frames and `label_eval`'s real animal photos once. With
the ceiling off, `classify --json` still reports what the model alone would have written wherever the head
wrote the label, so each ceiling's outcome follows without running again: the model's label stands where it is
an order, family, genus or species at or above the ceiling that the head's class is not below. Prints, per
ceiling, the held-out frames written with their class (blank frames: blank) and the real photos written right
at their rank.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import label_eval, modelfile, site_frames
from .taxonomy import Taxonomy, read_wordnet

CEILINGS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.01)
SPECIFIC = ("species", "genus", "family", "order")


def classify(trapline: Path, model: Path, head: Path, paths: list[str]) -> list[dict[str, Any]]:
    images: list[dict[str, Any]] = []
    for start in range(0, len(paths), 60):
        command = [str(trapline), "classify", "--json", "--model", str(model), "--site-head", str(head)]
        result = subprocess.run(command + paths[start : start + 60], capture_output=True, text=True, check=False)
        images += json.loads(result.stdout)["images"]
    return images


def written(image: dict[str, Any], ceiling: float, lineages: dict[str, list[str]]) -> tuple[str, str | None]:
    """The type and taxon written under a ceiling, from a run with the ceiling off."""
    label = image.get("label", {})
    if image.get("head") != "site":
        return image.get("observationType", "failed"), label.get("scientificName")
    model = image["model"]
    seen = model["label"]
    site = label.get("scientificName")
    if (
        model["observationType"] == "animal"
        and seen.get("taxonRank") in SPECIFIC
        and seen["probability"] >= ceiling
        and seen.get("scientificName") not in lineages.get(site or "", [])
    ):
        return model["observationType"], seen.get("scientificName")
    return image["observationType"], site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trapline", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=Path("Models/efficientnet-lite0.safetensors"))
    parser.add_argument("--scratch", type=Path, required=True, help="folder for the frames and the head")
    args = parser.parse_args(argv)
    site_frames.build(args.scratch, 0, 20, 40)
    head = args.scratch / "no-ceiling.json"
    learn = [str(args.trapline), "learn", str(args.scratch / "train"), "--out", str(head), "--model", str(args.model)]
    subprocess.run([*learn, "--ceiling", "9"], check=True, capture_output=True)
    classes = json.loads(head.read_text())["classes"]
    lineages = {c["scientificName"]: c["lineage"] for c in classes if c.get("scientificName")}
    held_out = {}
    for folder in sorted((args.scratch / "held-out-backgrounds").iterdir()):
        paths = sorted(str(p) for p in folder.glob("*.jpg"))
        held_out[folder.name] = classify(args.trapline, args.model, head, paths)
    photos = [p for p in json.loads(label_eval.TRUTH.read_text())["photos"] if p["type"] == "animal"]
    (args.scratch / "photos").mkdir(exist_ok=True)
    real = classify(
        args.trapline, args.model, head, [str(p) for p in label_eval.prepare(photos, args.scratch / "photos")]
    )
    taxonomy = modelfile.read_metadata(args.model)["taxonomy"]
    truths = label_eval.truth_lineages(photos, Taxonomy(read_wordnet()))
    scorer = label_eval.Scorer(taxonomy, truths)
    known = {t["name"] for t in taxonomy["taxa"]}
    print("| ceiling | held-out frames written with their class | real animal photos right at their rank |")
    print("| --- | --- | --- |")
    for ceiling in CEILINGS:
        right = total = 0
        for name, images in held_out.items():
            for image in images:
                kind, taxon = written(image, ceiling, lineages)
                total += 1
                right += kind == "blank" if name == "blank" else taxon == name
        good = 0
        for photo, image in zip(photos, real, strict=True):
            kind, taxon = written(image, ceiling, lineages)
            if kind != "animal" or taxon is None:
                continue
            if taxon in known:
                good += bool(scorer.right(taxon, photo))
            else:
                truth = photo["scientificName"]
                good += taxon == truth or taxon in truths.get(truth, []) or truth in lineages.get(taxon, [])
        shown = "off" if ceiling > 1 else f"{ceiling:.1f}"
        frames = f"{right}/{total} ({100 * right / total:.1f}%)"
        animals = f"{good}/{len(photos)} ({100 * good / len(photos):.1f}%)"
        print(f"| {shown} | {frames} | {animals} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
