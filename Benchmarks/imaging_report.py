"""Summarises an imaging benchmark run (JSON lines) as a Markdown table of medians and ratios."""

import collections
import json
import os
import statistics
import subprocess
import sys


def size_of(path: str) -> str:
    out = subprocess.run(["exiftool", "-s3", "-ImageSize", path], capture_output=True, text=True).stdout.strip()
    return out.replace("x", "x") or "?"


def main() -> None:
    runs: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    with open(sys.argv[1]) as lines:
        for line in lines:
            row = json.loads(line)
            runs[(row["file"], row["method"])].append(row["ms"])
    files = sorted({file for file, _ in runs})
    print("| photo | size | trapline scaled (ms) | Pillow draft (ms) | trapline full-res (ms) | Pillow full-res (ms) "
          "| Pillow draft / trapline | full-res / trapline scaled |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for file in files:
        med = {method: statistics.median(runs[(file, method)]) for (f, method) in runs if f == file}
        name = file.split("/")[4] if file.startswith("/usr/share/wallpapers/") else os.path.basename(file)
        print(f"| {name} | {size_of(file)} | {med['trapline-scaled']:.1f} | {med['pillow-draft']:.1f} "
              f"| {med['trapline-full']:.1f} | {med['pillow-full']:.1f} "
              f"| {med['pillow-draft'] / med['trapline-scaled']:.2f}x "
              f"| {med['trapline-full'] / med['trapline-scaled']:.2f}x |")


if __name__ == "__main__":
    main()
