"""Resident memory of each node of a local 4-node ring, idle and after labelling (issue 18: every node loads the
whole model so that it can run any range of units).

    python3 Benchmarks/ring/node_memory.py [--images 96]

Needs the release build (`swift build -c release --product trapline`). Starts four `trapline run --node`
processes on 127.0.0.1 under mutual TLS with the adaptive policy, reads VmRSS and VmHWM from /proc once the ring
has formed and again after the images are labelled, and prints JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import ringlab

NAMES = ["n0", "n1", "n2", "n3"]


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--base-port", type=int, default=7610)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="node-memory-"))
    (work / "inbox").mkdir()
    nodes = [(name, "127.0.0.1", args.base_port + i) for i, name in enumerate(NAMES)]
    config = work / "ring.yaml"
    ringlab.write_config(
        config,
        work,
        nodes,
        ring={"probeSeconds": 0.5},
        batch={"maxSize": 8, "maxWaitSeconds": 0.5, "sloSeconds": 60},
        control={"policy": "adaptive"},
    )
    subprocess.run([str(ringlab.BINARY), "ring", "init", "--config", str(config)], check=True, capture_output=True)
    processes = {name: ringlab.Node(name, config, work / f"{name}.log") for name in reversed(NAMES)}
    catalog = work / "catalog.db"
    try:
        if not ringlab.wait_for(lambda: ringlab.joined(catalog, NAMES[1:]), 60):
            raise SystemExit(f"the ring did not form; see {work}")
        idle = {name: memory(node.process.pid) for name, node in processes.items()}
        ringlab.drop_copies(work / "inbox", args.images)
        if not ringlab.wait_for(lambda: ringlab.labelled(catalog) == args.images, 600):
            raise SystemExit(f"not every image was labelled; see {work}")
        busy = {name: memory(node.process.pid) for name, node in processes.items()}
    finally:
        for node in processes.values():
            node.stop()
    print(json.dumps({"images": args.images, "idle": idle, "afterLabelling": busy}, indent=1, sort_keys=True))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
