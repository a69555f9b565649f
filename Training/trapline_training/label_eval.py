"""How often the label trapline writes is right, on hand-checked real photos, at several roll-up thresholds.

The photos and their true taxa are in `data/real_photos_truth.json` (each image viewed by eye; animals at the
most specific rank that could be told, people, vehicles and blank scenes). Tuxpaint's stamps are cut-out photos
with transparency: they are put on a mid-grey background and saved as JPEG. Every photo goes through the real
`trapline classify --json` once per threshold, so what is measured is what the binary writes.

A written taxon is right when it lies on the true taxon's lineage (the truth or an ancestor of it: `Canidae` for
a red fox) or below the truth (`Vulpes vulpes` where the truth says only `Vulpes`: as specific as can be
checked). The plain top-1 is scored the same way through its class's deepest taxon. Observation types are
compared for every photo (animal, human, vehicle, blank).

    python -m trapline_training.label_eval --trapline .build/debug/trapline --out Models/evaluation/labels

`--site-head FILE` passes a site head (`trapline learn`) to `trapline classify`; a taxon it writes that the
model's taxonomy lacks is placed by the head file's lineage.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image

from . import modelfile
from .taxonomy import Taxonomy, read_wordnet

TRUTH = Path(__file__).parent / "data" / "real_photos_truth.json"
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
RANKS = ("species", "genus", "family", "order", "class", "phylum", "kingdom")


def resolve(path: str) -> Path:
    if path.startswith("skimage:"):
        import skimage

        return Path(skimage.__file__).parent / "data" / path.removeprefix("skimage:")
    return Path(path)


def prepare(photos: list[dict[str, Any]], folder: Path) -> list[Path]:
    """A JPEG per photo: JPEGs as they are, others (PNG stamps) flattened on grey and saved at quality 95."""
    files = []
    for n, photo in enumerate(photos):
        source = resolve(photo["path"])
        if not source.exists():
            raise FileNotFoundError(f"{source} is missing: run scripts/setup.sh --test (it installs the photos)")
        if source.suffix.lower() in (".jpg", ".jpeg"):
            files.append(source)
            continue
        image = Image.open(source)
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            grey = Image.new("RGBA", image.size, (128, 128, 128, 255))
            image = Image.alpha_composite(grey, image)
        target = folder / f"{n:03d}.jpg"
        image.convert("RGB").save(target, quality=95)
        files.append(target)
    return files


def classify(
    trapline: Path, model: Path, files: list[Path], threshold: float, site_head: Path | None = None
) -> list[dict[str, Any]]:
    command = [str(trapline), "classify", "--json", "--top", "1", "--model", str(model)]
    if site_head is not None:
        command += ["--site-head", str(site_head)]
    command += ["--rollup-threshold", str(threshold), *map(str, files)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)["images"]


def wilson(successes: int, total: int, z: float = 1.96) -> list[float] | None:
    """The 95% Wilson score interval of a proportion."""
    if total == 0:
        return None
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def truth_lineages(photos: list[dict[str, Any]], wordnet: Taxonomy) -> dict[str, list[str]]:
    """The lineage of every true taxon (names up to the kingdom), from WordNet the way `taxonomy` derives the
    model's; a name WordNet does not hold is an error."""
    by_name: dict[str, list[str]] = {}
    for photo in photos:
        name = photo["scientificName"]
        if photo["type"] != "animal" or name in by_name:
            continue
        lineage = wordnet.lineage_of_name(name, photo["rank"])
        if not lineage:
            raise ValueError(f"WordNet does not hold the true taxon {name} ({photo['rank']})")
        by_name[name] = [name] + [entry[0] for entry in lineage if entry[0] != name]
    return by_name


class Scorer:
    """Right-at-rank checks against the model's taxonomy (and a site head's classes, whose taxa it may lack)."""

    def __init__(
        self, taxonomy: dict[str, Any], truth: dict[str, list[str]], extra: dict[str, list[str]] | None = None
    ) -> None:
        self.taxonomy = taxonomy
        self.truth = truth
        self.index = {t["name"]: i for i, t in enumerate(taxonomy["taxa"])}
        self.extra = extra or {}

    def lineage(self, name: str) -> list[str]:
        if name not in self.index and name in self.extra:
            return self.extra[name]
        result, at = [], self.index.get(name)
        while at is not None:
            result.append(self.taxonomy["taxa"][at]["name"])
            at = self.taxonomy["taxa"][at]["parent"]
        return result

    def right(self, written: str | None, truth: dict[str, Any]) -> bool:
        """`written` is the truth, above it, or below it."""
        if not written:
            return False
        return written in self.truth[truth["scientificName"]] or truth["scientificName"] in self.lineage(written)

    def rank_of(self, name: str | None) -> str | None:
        return None if name is None or name not in self.index else self.taxonomy["taxa"][self.index[name]]["rank"]

    def class_taxon(self, index: int) -> str | None:
        taxon = self.taxonomy["classes"][index]["taxon"]
        return None if taxon is None else self.taxonomy["taxa"][taxon]["name"]


def score(photos: list[dict[str, Any]], results: list[dict[str, Any]], scorer: Scorer) -> dict[str, Any]:
    animals = [(p, r) for p, r in zip(photos, results, strict=True) if p["type"] == "animal"]
    typed = sum(p["type"] == r["observationType"] for p, r in zip(photos, results, strict=True))
    called_animal = [(p, r) for p, r in animals if r["observationType"] == "animal"]
    # Scored over every animal photo, like the top-1 class: an animal called blank counts as wrong.
    right = [(p, r) for p, r in called_animal if scorer.right(r["label"].get("scientificName"), p)]
    ranks = Counter(r["label"].get("taxonRank") or "none" for _, r in called_animal)
    specific = ("species", "genus", "family")
    deep = [(p, r) for p, r in right if (r["label"].get("taxonRank") or "kingdom") in specific]
    deep_written = [(p, r) for p, r in called_animal if (r["label"].get("taxonRank") or "kingdom") in specific]
    top1 = sum(scorer.right(scorer.class_taxon(r["top"][0]["index"]), p) for p, r in animals)
    top1_deep = sum(
        scorer.right(scorer.class_taxon(r["top"][0]["index"]), p)
        and scorer.rank_of(scorer.class_taxon(r["top"][0]["index"])) in specific
        for p, r in animals
    )
    top1_deep_given = sum(scorer.rank_of(scorer.class_taxon(r["top"][0]["index"])) in specific for p, r in animals)
    wrong = [
        {
            "path": p["path"],
            "truth": p["scientificName"],
            "written": r["label"].get("scientificName"),
            "rank": r["label"].get("taxonRank"),
        }
        for p, r in called_animal
        if not scorer.right(r["label"].get("scientificName"), p)
    ]

    def share(count: int, total: int) -> dict[str, Any]:
        return {"count": count, "of": total, "value": count / total if total else None, "ci95": wilson(count, total)}

    return {
        "observationTypeAgreement": share(typed, len(photos)),
        "animalsCalledAnimal": share(len(called_animal), len(animals)),
        "writtenRightAtItsRank": share(len(right), len(animals)),
        "writtenRightAtFamilyOrDeeper": share(len(deep), len(animals)),
        "top1ClassRight": share(top1, len(animals)),
        "top1ClassRightAtFamilyOrDeeper": share(top1_deep, len(animals)),
        # Of the labels that name a family, genus or species, the share that is right (precision).
        "writtenFamilyOrDeeperPrecision": share(len(deep), len(deep_written)),
        "top1FamilyOrDeeperPrecision": share(top1_deep, top1_deep_given),
        "writtenRanks": dict(ranks),
        "typeConfusion": dict(
            Counter(f"{p['type']}->{r['observationType']}" for p, r in zip(photos, results, strict=True))
        ),
        "wrong": wrong,
    }


def site_head_lineages(path: Path) -> dict[str, list[str]]:
    """Each animal class of a site head file by scientific name: the name and its ancestors, nearest first."""
    return class_lineages(json.loads(path.read_text(encoding="utf-8"))["classes"])


def class_lineages(classes: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each animal class of a site head's `classes` by scientific name: the name and its ancestors, nearest first."""
    return {c["scientificName"]: [c["scientificName"], *c["lineage"]] for c in classes if c.get("scientificName")}


def markdown(report: dict[str, Any]) -> str:
    def pct(entry: dict[str, Any]) -> str:
        if entry["value"] is None:
            return "n/a"
        low, high = entry["ci95"]
        return f"{100 * entry['value']:.1f}% ({100 * low:.0f}-{100 * high:.0f}), {entry['count']}/{entry['of']}"

    lines = [
        "# The written label on real photos",
        "",
        f"{report['photos']} hand-checked photos ({report['byType']}); `{report['command']}`; {report['date']}.",
        "Right at its rank: the written taxon is the true one, an ancestor of it, or below it. 95% Wilson intervals.",
        "",
        "Written and top-1 figures are over every animal photo (an animal called blank is wrong).",
        "",
        "| roll-up threshold | type agrees | animals called animal | written right at its rank | "
        "written right at family or deeper | top-1 class right | top-1 right at family or deeper | "
        "family-or-deeper labels right: written / top-1 | ranks written |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t, s in report["thresholds"].items():
        ranks = ", ".join(f"{k} {v}" for k, v in sorted(s["writtenRanks"].items(), key=lambda kv: -kv[1]))
        lines.append(
            f"| {t} | {pct(s['observationTypeAgreement'])} | {pct(s['animalsCalledAnimal'])} | "
            f"{pct(s['writtenRightAtItsRank'])} | {pct(s['writtenRightAtFamilyOrDeeper'])} | "
            f"{pct(s['top1ClassRight'])} | {pct(s['top1ClassRightAtFamilyOrDeeper'])} | "
            f"{pct(s['writtenFamilyOrDeeperPrecision'])} / {pct(s['top1FamilyOrDeeperPrecision'])} | {ranks} |"
        )
    lines += ["", "Observation types (truth->written) at each threshold (the roll-up does not change them):", ""]
    first = next(iter(report["thresholds"].values()))
    lines.append(", ".join(f"{k} {v}" for k, v in sorted(first["typeConfusion"].items())))
    return "\n".join(lines) + "\n"


def write_report(folder: Path, report: dict[str, Any], text: str) -> None:
    """`report.json` and `report.md` in `folder` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (folder / "report.md").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trapline", type=Path, required=True, help="the trapline binary")
    parser.add_argument("--model", type=Path, default=Path("Models/efficientnet-lite0.safetensors"))
    parser.add_argument("--truth", type=Path, default=TRUTH)
    parser.add_argument("--thresholds", type=float, nargs="+", default=list(THRESHOLDS))
    parser.add_argument("--out", type=Path, help="folder for report.json and report.md")
    parser.add_argument("--site-head", type=Path, help="a site head file passed to `trapline classify`")
    args = parser.parse_args(argv)
    taxonomy = modelfile.read_metadata(args.model).get("taxonomy")
    if taxonomy is None:
        print(f"label_eval: {args.model} has no taxonomy (run trapline_training.taxonomy)", file=sys.stderr)
        return 1
    photos = json.loads(args.truth.read_text(encoding="utf-8"))["photos"]
    extra = site_head_lineages(args.site_head) if args.site_head else None
    scorer = Scorer(taxonomy, truth_lineages(photos, Taxonomy(read_wordnet())), extra)
    report: dict[str, Any] = {
        "photos": len(photos),
        "byType": ", ".join(f"{k} {v}" for k, v in Counter(p["type"] for p in photos).items()),
        "command": "python -m trapline_training.label_eval " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": __import__("datetime").date.today().isoformat(),
        "thresholds": {},
    }
    if args.site_head:
        report["siteHead"] = str(args.site_head)
    with tempfile.TemporaryDirectory() as folder:
        files = prepare(photos, Path(folder))
        for threshold in args.thresholds:
            results = classify(args.trapline, args.model, files, threshold, args.site_head)
            failed = [r["path"] for r in results if not r["ok"]]
            if failed:
                print(f"label_eval: trapline could not read {failed}", file=sys.stderr)
                return 1
            report["thresholds"][str(threshold)] = score(photos, results, scorer)
    text = markdown(report)
    print(text)
    if args.out:
        write_report(args.out, report, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
