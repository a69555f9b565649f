"""The small summary of a cluster experiment that goes into the repository: each policy's figures without the
per-batch series and events, and the targets of issue 18 checked against them.

    python3 Benchmarks/ring/experiment_summary.py Benchmarks/results/cluster-<name>
writes summary.json next to the run's results.json and prints a Markdown table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import ringlab

FIGURES = [
    "labelled",
    "arrivals",
    "throughputSlowedImagesPerSecond",
    "throughputOverallImagesPerSecond",
    "sloAttainment",
    "latencyMs",
    "top1Agreement",
    "writtenLabelAgreement",
    "batchesMissedAfterSlowdown",
    "levelChanges",
    "boundaryMoves",
]


def summarise(results: dict) -> dict:
    policies = {r["policy"]: {k: r.get(k) for k in FIGURES} for r in results["results"]}
    settings = results["settings"]
    arrival_rate = settings["rate"]
    targets = {}
    none = policies.get("none")
    adaptive = policies.get("adaptive")
    if none and adaptive:
        slo_goal = min(3 * none["sloAttainment"], 0.95)
        throughput_goal = min(1.5 * none["throughputSlowedImagesPerSecond"], 0.95 * arrival_rate)
        targets = {
            "sloAttainment": {
                "goal": slo_goal,
                "adaptive": adaptive["sloAttainment"],
                "met": adaptive["sloAttainment"] >= slo_goal,
            },
            "throughputWhileSlowed": {
                "goal": throughput_goal,
                "adaptive": adaptive["throughputSlowedImagesPerSecond"],
                "met": adaptive["throughputSlowedImagesPerSecond"] >= throughput_goal,
            },
            "agreement": {
                "goal": 0.97,
                "adaptive": adaptive["top1Agreement"],
                "met": adaptive["top1Agreement"] >= 0.97,
            },
            "writtenLabelAgreement": {
                "goal": 0.97,
                "adaptive": adaptive.get("writtenLabelAgreement"),
                "met": (adaptive.get("writtenLabelAgreement") or 0) >= 0.97,
            },
            "recoveryBatches": {
                "goal": 3,
                "adaptive": adaptive["batchesMissedAfterSlowdown"],
                "met": adaptive["batchesMissedAfterSlowdown"] <= 3,
            },
            "levelChanges": {"goal": 2, "adaptive": adaptive["levelChanges"], "met": adaptive["levelChanges"] <= 2},
        }
        for other in ("static", "repartition"):
            if other in policies:
                targets[f"sloAttainmentAtLeast{other.capitalize()}"] = {
                    "met": adaptive["sloAttainment"] >= policies[other]["sloAttainment"]
                }
        if "static" in policies:
            targets["agreementAtLeastStatic"] = {
                "met": adaptive["top1Agreement"] >= policies["static"]["top1Agreement"]
            }
    return {
        "date": results["date"],
        "machine": results["machine"],
        "schedule": {
            k: settings[k]
            for k in (
                "duration",
                "rate",
                "quota",
                "head_quota",
                "slow_node",
                "slow_factor",
                "slow_start",
                "slow_end",
                "burst_start",
                "burst_end",
                "slo",
                "ramp",
                "kill_node",
                "kill_at",
            )
            if k in settings
        },
        "policies": policies,
        "targets": targets,
    }


def table(summary: dict) -> str:
    lines = [
        "| policy | labelled | throughput while slowed (img/s) | SLO met | p95 latency (s) | top-1 agreement "
        "| written label as classify | written label as none | batches late after the slowdown | level changes "
        "| boundary moves |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, p in summary["policies"].items():
        lines.append(
            f"| {name} | {p['labelled']}/{p['arrivals']} | {p['throughputSlowedImagesPerSecond']:.1f} "
            f"| {100 * p['sloAttainment']:.1f}% | {p['latencyMs']['p95'] / 1000:.1f} | {100 * p['top1Agreement']:.1f}% "
            f"| {100 * (p.get('writtenLabelAgreement') or float('nan')):.1f}% "
            f"| {100 * p.get('writtenAgreementWithNone', float('nan')):.1f}% "
            f"| {p['batchesMissedAfterSlowdown']} | {p['levelChanges']} | {p.get('boundaryMoves') or 0} |"
        )
    return "\n".join(lines)


def written_labels(catalog: Path) -> dict[str, tuple[str, str | None]]:
    """Each image's written label (observation type, scientific name) in a run's catalog, by file name."""
    rows = ringlab.query(
        catalog,
        "SELECT m.fileName, o.observationType, o.scientificName FROM observations o "
        "JOIN media m ON m.mediaID = o.mediaID",
    )
    return {name: (kind, taxon) for name, kind, taxon in rows}


def agreement_with_none(folder: Path, summary: dict) -> None:
    """Each policy's written labels against the unpruned ring's (the `none` run) for the same files.

    `writtenLabelAgreement` compares with `trapline classify` on the whole photo; the ring's written label also
    depends on the frames around it (a copy's camera folder holds copies of other photos, and the localiser and the
    event-level label see them), so the unpruned ring itself differs from `classify` on some copies. The same
    schedule writes the same files into the same folders under every policy, so the `none` run is the unpruned
    reference for exactly the context each image had.
    """
    reference_catalog = folder / "none" / "catalog.db"
    if not reference_catalog.exists():
        return
    reference = written_labels(reference_catalog)
    for name, figures in summary["policies"].items():
        catalog = folder / name / "catalog.db"
        if not catalog.exists():
            continue
        labels = written_labels(catalog)
        shared = [file for file in labels if file in reference]
        same = sum(labels[file] == reference[file] for file in shared)
        figures["writtenAgreementWithNone"] = same / len(shared) if shared else float("nan")
    adaptive = summary["policies"].get("adaptive")
    if adaptive and "writtenAgreementWithNone" in adaptive:
        summary["targets"]["writtenAgreementWithNone"] = {
            "goal": 0.97,
            "adaptive": adaptive["writtenAgreementWithNone"],
            "met": adaptive["writtenAgreementWithNone"] >= 0.97,
        }


def main() -> None:
    folder = Path(sys.argv[1])
    summary = summarise(json.loads((folder / "results.json").read_text()))
    agreement_with_none(folder, summary)
    (folder / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(table(summary))
    for name, target in summary["targets"].items():
        print(f"{name}: {'met' if target['met'] else 'missed'} {target}")


if __name__ == "__main__":
    main()
