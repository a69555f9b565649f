"""The markdown of `site_eval`'s report: tables of the learning runs, the test sets and the real photos."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any


def pct(entry: dict[str, Any]) -> str:
    """`85.0% (71-93), 34/40`: a share with its 95% interval and counts."""
    if entry["value"] is None:
        return "n/a"
    low, high = entry["ci95"]
    return f"{100 * entry['value']:.1f}% ({100 * low:.0f}-{100 * high:.0f}), {entry['count']}/{entry['of']}"


def top(written: dict[str, int], count: int = 3) -> str:
    """The most written labels, `Cervidae 30, blank 6`."""
    return ", ".join(f"{name} {n}" for name, n in list(written.items())[:count])


def set_table(result: dict[str, Any]) -> list[str]:
    """The markdown table of one test set: per class and overall, with and without the head."""
    lines = [
        "| class | site head: right | site head: right at its rank | model only: right | "
        "model only: right at its rank | written with head | written without |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    with_head, without = result["withHead"], result["withoutHead"]
    for name in [*with_head["classes"], "overall"]:
        a = with_head["overall"] if name == "overall" else with_head["classes"][name]
        b = without["overall"] if name == "overall" else without["classes"][name]
        label = "**overall**" if name == "overall" else name
        lines.append(
            f"| {label} | {pct(a['right'])} | {pct(a['rightAtItsRank'])} | {pct(b['right'])} | "
            f"{pct(b['rightAtItsRank'])} | {top(a['written'])} | {top(b['written'])} |"
        )
    return lines


def real_tables(real: dict[str, Any], subsets: dict[str, str]) -> list[str]:
    """The markdown tables of the real photos: written right at its rank without and with the head, by subset at
    roll-up 0.5 (classify's default), then over every animal at each threshold."""
    key, typed = "writtenRightAtItsRank", "observationTypeAgreement"
    at_default = real["thresholds"]["0.5"]
    lines = ["| photos (roll-up 0.5) | without head | with head |", "| --- | --- | --- |"]
    for name, words in subsets.items():
        lines.append(
            f"| {words} | {pct(at_default['withoutHead'][name][key])} | {pct(at_default['withHead'][name][key])} |"
        )
    lines.append(
        f"| observation type agrees, all {real['photos']} photos | {pct(at_default['withoutHead']['all'][typed])} | "
        f"{pct(at_default['withHead']['all'][typed])} |"
    )
    lines += [
        "",
        "| roll-up threshold | every animal: without head | with head | other animals: without | with | changed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for threshold, row in real["thresholds"].items():
        without, with_head = row["withoutHead"], row["withHead"]
        lines.append(
            f"| {threshold} | {pct(without['all'][key])} | {pct(with_head['all'][key])} | "
            f"{pct(without['otherAnimals'][key])} | {pct(with_head['otherAnimals'][key])} | {row['changedCount']} |"
        )
    return lines


def outcome(right_without: bool, right_with: bool) -> str:
    """What the head did to one label: `made right`, `made wrong`, `right both ways` or `wrong both ways`."""
    if right_without != right_with:
        return "made right" if right_with else "made wrong"
    return "right both ways" if right_with else "wrong both ways"


def changed_lines(changed: list[dict[str, Any]], head_taxa: set[str]) -> list[str]:
    """What the head changed at roll-up 0.5: counts by outcome and written label, and each change on a photo of
    the head's taxa (report.json lists them all)."""
    outcomes = Counter(outcome(c["withoutRight"], c["withRight"]) for c in changed)
    lines = [
        f"The head changed {len(changed)} written labels at roll-up 0.5: "
        + ", ".join(f"{n} {what}" for what, n in outcomes.most_common())
        + "; it wrote "
        + top(dict(Counter(c["with"] for c in changed).most_common()), 10)
        + ". On photos of the head's taxa (truth: without → with):",
        "",
    ]
    mark = {True: "right", False: "wrong"}
    for c in changed:
        if c["path"] in head_taxa:
            lines.append(
                f"- {Path(c['path']).name} ({c['truth']}): {c['without']} ({mark[c['withoutRight']]}) → "
                f"{c['with']} ({mark[c['withRight']]})"
            )
    return lines


def learn_lines(report: dict[str, Any]) -> list[str]:
    """The markdown of the learning runs: timing, determinism, cross-validation."""
    learned = report["learn"]
    lines = ["| run | command | wall clock | 1-min load before |", "| --- | --- | --- | --- |"]
    for name, run in zip(("as it is", "one core"), learned["runs"], strict=True):
        lines.append(f"| {name} | `{run['command']}` | {run['wallSeconds']:.1f} s | {run['loadAverage1minBefore']} |")
    validation = learned["validation"]
    recall = ", ".join(
        f"{c['name']} {100 * r:.0f}%" for c, r in zip(learned["classes"], validation["recall"], strict=True)
    )
    same = "byte-identical" if learned["identical"] else "**different**"
    lines += [
        "",
        f"The two head files are {same} (SHA-256 {learned['headSha256'][:16]}…).",
        f"Cross-validated accuracy ({validation['folds']} folds, printed by `learn`): "
        f"{100 * validation['accuracy']:.1f}%; recall {recall}.",
    ]
    return lines


def markdown(report: dict[str, Any], subsets: dict[str, str]) -> str:
    """The whole report as markdown; `subsets` names the real photos' subsets."""
    lines = [
        "# A site head for animals ImageNet-1k lacks",
        "",
        f"{report['date']}; {report['machine']}; `{report['command']}`; trapline SHA-256 "
        f"{report['traplineSha256'][:16]}…. Frames from `camtrap`'s stamps and backgrounds (seed {report['seed']}): "
        f"{report['perClass']} per class to learn, {report['testPerClass']} per class per test set. Right: the written "
        "taxon is the class or below it. Right at its rank: also an ancestor of it. 95% Wilson intervals.",
        "",
        "## Learning",
        "",
        *learn_lines(report),
    ]
    titles = {
        "held-out-backgrounds": "(a) Held-out backgrounds, the training stamps",
        "held-out-stamps": "(b) Held-out stamps of the same taxon (doe, caribou; donkey_eating), held-out backgrounds",
    }
    for name, title in titles.items():
        timing = report["sets"][name]["classifySeconds"]
        lines += ["", f"## {title}", "", *set_table(report["sets"][name]), ""]
        lines.append(
            f"Classify wall clock: {timing['withHead']:.0f} s with the head, {timing['withoutHead']:.0f} s without."
        )
    real = report["realPhotos"]
    lines += [
        "",
        "## Real photos (`label_eval`'s hand-checked set)",
        "",
        f"{real['photos']} photos, {real['animals']} of animals; {real['trainingStampPhotos']} of them are the very "
        "stamps that trained the head (on grey, uncomposited). Written right at its rank, as `label_eval` scores it:",
        "",
        *real_tables(real, subsets),
    ]
    lines += ["", *changed_lines(real["thresholds"]["0.5"]["changed"], set(real["headTaxaPhotos"]))]
    if report.get("notes"):
        lines += ["", report["notes"].rstrip()]
    return "\n".join(lines) + "\n"
