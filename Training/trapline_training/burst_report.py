"""The burst evaluation's table and plots (`burst_eval` computes the figures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MODES = ("whole", "crop", "combined")
NONE = "—"


def pct(entry: dict[str, Any] | None) -> str:
    """`81.2% (75-86), 123/150`: the share, its 95% interval and its counts."""
    if entry is None or entry["value"] is None:
        return NONE
    text = f"{100 * entry['value']:.1f}%"
    if entry.get("ci95"):
        low, high = entry["ci95"]
        text += f" ({100 * low:.0f}-{100 * high:.0f})"
    return f"{text}, {entry['count']}/{entry['of']}"


def rows(report: dict[str, Any]) -> list[tuple[str, list[dict[str, Any] | None]]]:
    """The table's rows: a name and one entry per mode (None where the mode has no such figure)."""
    local, modes, bursts = report["localisation"], report["modes"], report["perBurst"]

    def boxes(entry: dict[str, Any]) -> list[dict[str, Any] | None]:
        return [None, entry, entry]  # the whole-frame mode has no boxes; crop and combined share them

    def each(section: str, key: str) -> list[dict[str, Any] | None]:
        return [modes[m][section][key] for m in MODES]

    table = []
    for iou in (0.3, 0.5):
        table.append((f"box recall, IoU ≥ {iou}", boxes(local[f"iou{iou}"]["recall"])))
        table.append((f"box precision, IoU ≥ {iou}", boxes(local[f"iou{iou}"]["precision"])))
    table.append(("box recall, IoU ≥ 0.3, bursts where the animal moves", boxes(local["recall0.3MovingBursts"])))
    table.append(
        ("box recall, IoU ≥ 0.3, bursts where it stands still a while", boxes(local["recall0.3StationaryBursts"]))
    )
    table.append(("blank frames with a box (lower is better)", boxes(local["blankFramesWithBox"])))
    disturbed = local["boxesInBlankBursts"]
    for key, name in (
        ("all", "all"),
        ("ir", "infrared"),
        ("no_ir", "day"),
        ("sway", "swaying vegetation"),
        ("no_sway", "no sway"),
        ("strip", "info strip"),
        ("no_strip", "no strip"),
    ):
        table.append((f"frames of blank bursts with a box, {name} (lower is better)", boxes(disturbed[key])))
    names = {
        "all": "animal/blank right, all frames",
        "animalFrames": "animal/blank right, animal frames",
        "blankFrames": "animal/blank right, blank frames",
        "blankFramesNothingInView": "animal/blank right, blank frames with nothing of the animal in view",
        "ir": "animal/blank right, infrared frames",
        "day": "animal/blank right, day frames",
        "strip": "animal/blank right, frames with an info strip",
        "noStrip": "animal/blank right, frames without",
    }
    table += [(name, each("animalVsBlank", key)) for key, name in names.items()]
    table.append(("label right at its rank (animal frames)", each("label", "rightAtItsRank")))
    table.append(("label right at family or deeper", each("label", "rightAtFamilyOrDeeper")))
    table.append(("top-1 class's taxon right", each("label", "classTaxonRight")))
    table.append(("animal bursts with a frame not blank", [bursts[m]["animalBurstsWithAFrameNotBlank"] for m in MODES]))
    table.append(
        (
            "blank bursts with a frame not blank (lower is better)",
            [bursts[m]["blankBurstsWithAFrameNotBlank"] for m in MODES],
        )
    )
    event = bursts["event"]
    table.append(("event label not blank, animal bursts", [None, None, event["animalBurstsNotBlank"]]))
    table.append(("event label right at its rank, animal bursts", [None, None, event["animalBurstsRightAtItsRank"]]))
    if "animalBurstsRightAtFamilyOrDeeper" in event:
        deeper = event["animalBurstsRightAtFamilyOrDeeper"]
        table.append(("event label right at family or deeper, animal bursts", [None, None, deeper]))
    table.append(("event label not blank, blank bursts (lower is better)", [None, None, event["blankBurstsNotBlank"]]))
    return table


def markdown(report: dict[str, Any]) -> str:
    data, frames, excluded, cost = report["data"], report["frames"], report["labelExcluded"], report["cost"]
    lines = [
        "# `trapline bursts` on camera-trap-like bursts with known boxes",
        "",
        f"{report['bursts']['animal']} animal and {report['bursts']['blank']} blank bursts "
        f"({data['split']} split, seed {data['seed']}, {data['frame'][0]}x{data['frame'][1]}): {frames['labeled']} "
        f"frames labeled ({frames['animal']} with an animal in view, {frames['blank']} blank), {frames['failed']} "
        f"failed. Model `{report['model']}`; `{report['command']}`; {report['date']}; "
        f"{report['machine']['machine']}, {report['machine']['cpus']} CPUs.",
        "",
        f"95% intervals: {report['ci95']}. Whole: the whole-frame label alone; crop: the crops' label alone (no box: "
        "blank); combined: the label trapline writes. Event rows: trapline's one label per burst. A label is right "
        "when its taxon is the true one, an ancestor or below it; "
        f"{excluded['bursts']} animal bursts ({excluded['animalFrames']} frames) of stamps without a true taxon "
        f"({', '.join(excluded['species']) or 'none'}) are left out of the label rows.",
        "",
        "| metric | whole | crop | combined |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {name} | " + " | ".join(pct(e) for e in entries) + " |" for name, entries in rows(report)]
    per = cost["msPerImage"]
    lines += [
        "",
        f"Cost per image ({cost['frames']} frames, {cost['cropsPerFrame']:.2f} crops a frame): "
        + ", ".join(f"{k.removesuffix('Ms')} {v:.1f} ms" for k, v in per.items())
        + f"; {cost['totalMsPerImage']:.1f} ms in all.",
    ]
    return "\n".join(lines) + "\n"


def plot_recall(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = report["localisation"]["curve"]
    ious = [c["iou"] for c in curve]
    figure, axes = plt.subplots(figsize=(6, 4))
    for key, colour in (("recall", "tab:blue"), ("precision", "tab:orange")):
        values = [c[key]["value"] or 0.0 for c in curve]
        low = [(c[key]["ci95"] or [0, 0])[0] for c in curve]
        high = [(c[key]["ci95"] or [0, 0])[1] for c in curve]
        axes.plot(ious, values, marker="o", color=colour, label=key)
        axes.fill_between(ious, low, high, color=colour, alpha=0.2)
    axes.set(xlabel="IoU threshold", ylabel="share", ylim=(0, 1), title="Boxes of `trapline bursts` (crop, combined)")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_accuracy(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {
        "animal/blank,\nall frames": ("animalVsBlank", "all"),
        "animal/blank,\nanimal frames": ("animalVsBlank", "animalFrames"),
        "animal/blank,\nblank frames": ("animalVsBlank", "blankFrames"),
        "label right\nat its rank": ("label", "rightAtItsRank"),
    }
    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.26
    for k, mode in enumerate(MODES):
        entries = [report["modes"][mode][section][key] for section, key in groups.values()]
        values = [e["value"] or 0.0 for e in entries]
        errors = [
            [v - (e["ci95"] or [v, v])[0] for v, e in zip(values, entries, strict=True)],
            [(e["ci95"] or [v, v])[1] - v for v, e in zip(values, entries, strict=True)],
        ]
        positions = [g + (k - 1) * width for g in range(len(groups))]
        axes.bar(positions, values, width, yerr=errors, capsize=3, label=mode)
    axes.set_xticks(range(len(groups)), list(groups))
    axes.set(ylabel="share right", ylim=(0, 1), title="Per frame, by mode (95% intervals)")
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_report(folder: Path, report: dict[str, Any]) -> str:
    """`report.json`, `table.md`, `recall_iou.png` and `accuracy.png` in `folder` (created); returns the table."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    text = markdown(report)
    (folder / "table.md").write_text(text, encoding="utf-8")
    plot_recall(report, folder / "recall_iou.png")
    plot_accuracy(report, folder / "accuracy.png")
    return text
