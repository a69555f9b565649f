r"""How many frames of a live burst are on disk when their batch starts: a replay of a real arrival trace.

    python -m trapline_training.burst_arrivals [--trace ../shared/data/orinoquia-day1-trace.csv]

Each image arrives at its capture time (a camera writing to the appliance as it shoots). Batches form as
trapline's `BatchFormer` forms them: a batch closes when it holds `--batch` images or its first image has waited
`--wait` seconds. For every frame of a sequence (burst) of at least 3 frames, it counts whether its whole
sequence, and at least 3 frames of it, had arrived when its batch closed: what `labels.localise` can use then
(docs/localisation.md). The trace (Orinoquia Camera Traps via LILA BC, MIT-licensed extract by Jenna Kline) is in
the project's shared data, not in the repository.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

TRACE = Path(__file__).resolve().parents[3] / "shared" / "data" / "orinoquia-day1-trace.csv"


def batch_closes(times: list[float], size: int, wait: float) -> list[float]:
    """When each arrival's batch closes (arrivals sorted by time)."""
    closes = [0.0] * len(times)
    start = 0
    while start < len(times):
        end = start
        while end + 1 < len(times) and end + 1 - start < size and times[end + 1] <= times[start] + wait:
            end += 1
        close = times[end] if end + 1 - start == size else times[start] + wait
        for k in range(start, end + 1):
            closes[k] = close
        start = end + 1
    return closes


def replay(rows: list[dict[str, str]], size: int, wait: float) -> dict[str, Any]:
    """The shares of frames of sequences of 3 or more whose whole sequence (or 3 frames of it) had arrived."""
    rows = sorted(rows, key=lambda r: r["datetime"])
    times = [datetime.datetime.fromisoformat(r["datetime"]).timestamp() for r in rows]
    closes = batch_closes(times, size, wait)
    by_sequence: dict[str, list[float]] = defaultdict(list)
    for row, time in zip(rows, times, strict=True):
        by_sequence[row["seq_id"]].append(time)
    frames = whole = three = 0
    for row, close in zip(rows, closes, strict=True):
        sequence = by_sequence[row["seq_id"]]
        if len(sequence) < 3:
            continue
        arrived = sum(t <= close for t in sequence)
        frames += 1
        whole += arrived == len(sequence)
        three += arrived >= 3
    return {
        "frames": frames,
        "sequences": sum(len(s) >= 3 for s in by_sequence.values()),
        "wholeSequenceArrived": whole / frames if frames else None,
        "atLeastThreeArrived": three / frames if frames else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trace", type=Path, default=TRACE)
    parser.add_argument("--batch", type=int, default=8, help="batch.maxSize (8)")
    parser.add_argument("--wait", type=float, default=2.0, help="batch.maxWaitSeconds (2)")
    args = parser.parse_args(argv)
    with open(args.trace, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    result = replay(rows, args.batch, args.wait)
    whole, three = result["wholeSequenceArrived"], result["atLeastThreeArrived"]
    print(
        f"{result['frames']} frames in {result['sequences']} sequences of 3 or more: whole sequence on disk when "
        f"their batch closed {whole:.1%}, at least 3 frames {three:.1%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
