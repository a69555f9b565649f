"""Tables and target checks for a camera_experiment.py run: one table per schedule (mean and range over the
repetitions), then each target of the experiment with its measured figure.

    python3 Benchmarks/ring/camera_report.py DIR [--default adaptive]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cell(entry: dict | None, scale: float = 1, digits: int = 1, unit: str = "") -> str:
    if not entry:
        return "-"
    mean, low, high = (scale * entry[k] for k in ("mean", "min", "max"))
    return f"{mean:.{digits}f}{unit} ({low:.{digits}f}-{high:.{digits}f})"


def table(schedule: dict) -> list[str]:
    lines = [
        "| policy | SLO met | throughput while slowed (img/s) | top-1 agreement | written label | late batches "
        "after start / end (max) | level changes per episode | boundary moves |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for policy, measures in schedule["policies"].items():
        late = (
            f"{max(measures['missedAfterStart']['runs']):.0f} / {max(measures['missedAfterEnd']['runs']):.0f}"
            if "missedAfterStart" in measures
            else "-"
        )
        lines.append(
            f"| {policy} | {cell(measures.get('sloAttainment'), 100, 1, '%')} "
            f"| {cell(measures.get('throughputSlowedImagesPerSecond'))} "
            f"| {cell(measures.get('top1Agreement'), 100, 1, '%')} "
            f"| {cell(measures.get('writtenLabelAgreement'), 100, 1, '%')} | {late} "
            f"| {cell(measures.get('levelChangesPerEpisode'))} | {cell(measures.get('boundaryMoves'), 1, 0)} |"
        )
    return lines


def targets(name: str, schedule: dict, default: str, rates: dict) -> list[str]:
    policies = schedule["policies"]
    out = []
    if name == "dump":
        measures = policies.get(default) or next(iter(policies.values()))
        got = measures["throughputImagesPerSecond"]["mean"]
        need = 0.9 * schedule["sumOfCapacities"]
        verdict = "met" if got >= need else "missed"
        out.append(
            f"- dump throughput {got:.1f} img/s against 0.9 x the nodes' summed capacities {need:.1f}: {verdict}"
        )
        return out
    none, chosen = policies.get("none"), policies.get(default)
    if not none or not chosen:
        return out
    base = none["sloAttainment"]["mean"]
    slo = chosen["sloAttainment"]["mean"]
    need = min(3 * base, 0.95)
    judged = "" if base < 0.5 else " (none meets at least half: not among the judged schedules)"
    out.append(
        f"- SLO {100 * slo:.1f}% against min(3 x none {100 * base:.1f}%, 95%) = {100 * need:.1f}%: "
        f"{'met' if slo >= need else 'missed'}{judged}"
    )
    if "throughputSlowedImagesPerSecond" in none:
        thr = chosen["throughputSlowedImagesPerSecond"]["mean"]
        base_thr = none["throughputSlowedImagesPerSecond"]["mean"]
        rate = rates.get(name) or 0
        need_thr = min(1.5 * base_thr, rate) if rate else 1.5 * base_thr
        out.append(
            f"- throughput while slowed {thr:.1f} img/s against min(1.5 x none {base_thr:.1f}, arrivals {rate:.1f}) "
            f"= {need_thr:.1f}: {'met' if thr >= 0.98 * need_thr else 'missed'} (2% allowed for counting whole batches)"
        )
    for key, label in (("top1Agreement", "top-1 agreement"), ("writtenLabelAgreement", "written label")):
        value = chosen[key]["mean"]
        out.append(f"- {label} {100 * value:.1f}% against 97%: {'met' if value >= 0.97 else 'missed'}")
    late = max(chosen["missedAfterStart"]["runs"] + chosen["missedAfterEnd"]["runs"])
    out.append(
        f"- late batches after a slowdown's start or end, worst run: {late} against 3: "
        f"{'met' if late <= 3 else 'missed'}"
    )
    changes = chosen["levelChangesPerEpisode"]["max"]
    out.append(
        f"- level changes per episode, worst run: {changes:.1f} against 2: {'met' if changes <= 2 else 'missed'}"
    )
    for policy, measures in policies.items():
        span = 100 * (measures["sloAttainment"]["max"] - measures["sloAttainment"]["min"])
        out.append(
            f"- {policy}: SLO range over the repetitions {span:.1f} points against 10: "
            f"{'met' if span <= 10 else 'missed'}"
        )
    floor = policies.get(f"{default}-floor97")
    if floor and chosen["levelChangesPerEpisode"]["max"] == 0 and floor["levelChangesPerEpisode"]["max"] == 0:
        gap = 100 * abs(chosen["sloAttainment"]["mean"] - floor["sloAttainment"]["mean"])
        out.append(
            f"- {default} and its floor variant, neither pruning: {gap:.1f} points apart against 10: "
            f"{'met' if gap <= 10 else 'missed'}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--default", default="adaptive")
    args = parser.parse_args()
    overall = json.loads((args.folder / "summary.json").read_text())
    for name, schedule in overall["schedules"].items():
        reps = sorted((args.folder / name).glob("rep*/results.json"))
        rate_values = [json.loads(r.read_text()).get("arrivalRateImagesPerSecond") for r in reps]
        rate_values = [r for r in rate_values if r]
        rates = {name: sum(rate_values) / len(rate_values)} if rate_values else {}
        print(f"### {name}")
        if rate_values:
            print(f"arrivals {', '.join(f'{r:.1f}' for r in rate_values)} img/s (70% of each repetition's probe)")
        print()
        print("\n".join(table(schedule)))
        print()
        print("\n".join(targets(name, schedule, args.default, rates)))
        print()


if __name__ == "__main__":
    main()
