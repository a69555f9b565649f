"""Summarises an inference benchmark run (JSON lines) as Markdown tables: medians over passes, and ratios."""

import collections
import json
import statistics
import sys


def main() -> None:
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
    runs: dict[tuple, list[float]] = collections.defaultdict(list)
    for row in rows:
        if "runtime" in row:
            runs[(row["runtime"], row["threads"], row["batch"], row["level"])].append(row["ms"])
    med = {key: statistics.median(values) for key, values in runs.items()}

    print(
        "| threads | batch | onnxruntime img/s | trapline img/s (level 0) | trapline / onnxruntime "
        "| GEMM floor img/s | trapline / GEMM floor |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    batches = sorted({key[2] for key in med})
    for threads in (1, 2):
        for batch in batches:
            ort = med.get(("onnxruntime", threads, batch, 0.0))
            ours = med.get(("trapline", threads, batch, 0.0))
            floor = med.get(("gemm-floor", threads, batch, 0.0))
            if ort and ours:
                floor_cells = f"{1000 * batch / floor:.1f} | {floor / ours:.2f}" if floor else "- | -"
                print(
                    f"| {threads} | {batch} | {1000 * batch / ort:.1f} | {1000 * batch / ours:.1f} | {ort / ours:.2f}x "
                    f"| {floor_cells} |"
                )

    levels = sorted({key[3] for key in med if key[0] == "trapline"})
    print()
    print("| threads | batch | " + " | ".join(f"level {lv} img/s" for lv in levels) + " | level 0.5 speed-up over 0 |")
    print("| --- | --- | " + " | ".join("---" for _ in levels) + " | --- |")
    for threads in (1, 2):
        for batch in (1, 8):
            cells = [med.get(("trapline", threads, batch, lv)) for lv in levels]
            if all(cells):
                rates = " | ".join(f"{1000 * batch / ms:.1f}" for ms in cells)
                speedup = med[("trapline", threads, batch, 0.0)] / med[("trapline", threads, batch, 0.5)]
                print(f"| {threads} | {batch} | {rates} | {speedup:.2f}x |")

    for row in rows:
        if row.get("switch"):
            print()
            print(
                f"Level switch (batch 8, 1 thread, level 0.5): {row['sameLevelMs']:.2f} ms after a call at the same "
                f"level, {row['afterSwitchMs']:.2f} ms right after a call at level 0.25 "
                f"({100 * (row['afterSwitchMs'] / row['sameLevelMs'] - 1):+.1f}%)."
            )

    layers = [row for row in rows if "unit" in row]
    if layers:
        print()
        print("| unit | level 0 (ms, batch 8, 1 thread) | level 0.5 (ms) |")
        print("| --- | --- | --- |")
        for unit in sorted({row["unit"] for row in layers}):
            at = {row["level"]: row["ms"] for row in layers if row["unit"] == unit}
            print(f"| {unit} | {at.get(0, 0):.1f} | {at.get(2, 0):.1f} |")


if __name__ == "__main__":
    main()
