"""The arm64 binary, under qemu-user on each emulated Pi CPU, writes the same labels as the amd64 binary.

The photos are the hand-checked label-evaluation set (Training/trapline_training/data/real_photos_truth.json),
prepared exactly as `trapline_training.label_eval` prepares them. Each binary classifies all of them in one
`trapline classify --json --top 3` run. What must be equal, photo by photo: the observation type and the written
label (scientific name, rank, vernacular name) and the top-1 class. The probabilities are printed as the largest
difference: float32 sums in another order (NEON against AVX kernels) differ in the last bits, which only
matters where a label sits on a threshold; that is what this check would catch.

    python3 Tests/Arm64/labels.py --amd64 .build/debug/trapline --arm64 PKG/usr/bin/trapline --sysroot ROOT [--every N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Training"))
from trapline_training.label_eval import TRUTH, prepare

CPUS = ("cortex-a72", "cortex-a76")
# The sysroot's libopenblas.so.0 is an absolute link through /etc/alternatives, which qemu's prefix does not follow.
OPENBLAS_DIR = "/usr/lib/aarch64-linux-gnu/openblas-pthread"


def classify(command: list[str], env: dict[str, str], model: str, files: list[Path]) -> list[dict[str, Any]]:
    arguments = [*command, "classify", "--json", "--top", "3", "--model", model, *map(str, files)]
    result = subprocess.run(arguments, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"labels.py: {' '.join(arguments[:2])} exited {result.returncode}: {result.stderr[-2000:]}")
    return json.loads(result.stdout)["images"]


def written(image: dict[str, Any]) -> tuple[Any, ...]:
    label = image.get("label") or {}
    top = image.get("top") or [{}]
    return (
        image.get("ok"),
        image.get("observationType"),
        label.get("scientificName"),
        label.get("taxonRank"),
        label.get("vernacularName"),
        top[0].get("index"),
    )


def largest_difference(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> float:
    largest = 0.0
    for x, y in zip(a, b, strict=True):
        if not (x.get("ok") and y.get("ok")):
            continue
        largest = max(largest, abs(x["animalProbability"] - y["animalProbability"]))
        by_index = {score["index"]: score["probability"] for score in y["top"]}
        for score in x["top"]:
            if score["index"] in by_index:
                largest = max(largest, abs(score["probability"] - by_index[score["index"]]))
    return largest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amd64", required=True)
    parser.add_argument("--arm64", required=True)
    parser.add_argument("--sysroot", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--every", type=int, default=1, help="every Nth photo only (the test command's subset)")
    arguments = parser.parse_args()
    photos = json.loads(TRUTH.read_text())["photos"][:: arguments.every]
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        files = prepare(photos, Path(folder))
        base = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        reference = classify([arguments.amd64], base, arguments.model, files)
        print(f"  labels: {len(files)} photos, amd64 reference written")

        def emulated(cpu: str) -> list[dict[str, Any]]:
            env = dict(base, QEMU_CPU=cpu, QEMU_LD_PREFIX=arguments.sysroot, LD_LIBRARY_PATH=OPENBLAS_DIR)
            return classify([arguments.arm64], env, arguments.model, files)

        # One emulated process per CPU, side by side: each runs on one core.
        with ThreadPoolExecutor(len(CPUS)) as pool:
            results = list(pool.map(emulated, CPUS))
        for cpu, images in zip(CPUS, results, strict=True):
            if len(images) != len(reference):
                print(f"  labels: {cpu}: {len(images)} results for {len(reference)} photos")
                failures += 1
                continue
            pairs = zip(reference, images, strict=True)
            differing = [(r["path"], written(r), written(i)) for r, i in pairs if written(r) != written(i)]
            print(
                f"  labels: {cpu}: {len(files) - len(differing)}/{len(files)} written alike; largest probability"
                f" difference {largest_difference(reference, images):.2e}"
            )
            for path, want, got in differing:
                print(f"    {path}: amd64 {want}, arm64 {got}")
            failures += len(differing)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
