"""Start-up time to READY=1 and idle resident memory of `trapline run`, for several builds side by side (issue 20,
section 1: before and after removing Foundation).

    python3 Benchmarks/footprint/startup.py --binary before=PATH --binary after=PATH [--runs 7]

Each run starts `trapline run` with the shipped config file (Configs/trapline.yaml), a fresh catalog and an empty
watch folder, with NOTIFY_SOCKET set as systemd would; the time to READY=1 is measured from the spawn. Five
seconds after READY=1 it reads VmRSS from /proc, then stops the process with SIGTERM. The builds take turns, so a
busy moment of the shared machine falls on all of them alike. Prints JSON: each build's runs, median and range.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def resident_mib(pid: int) -> float:
    """VmRSS of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def one_run(binary: Path, work: Path, idle_seconds: float, port: int) -> dict[str, float]:
    """Starts the binary, waits for READY=1, reads its memory once idle, stops it."""
    for name in ("inbox", "catalog.db", "catalog.db-wal", "catalog.db-shm", "notify"):
        path = work / name
        if path.is_dir():
            continue
        path.unlink(missing_ok=True)
    (work / "inbox").mkdir(exist_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(work / "notify"))
    listener.settimeout(60)
    environment = dict(os.environ, NOTIFY_SOCKET=str(work / "notify"), TRAPLINE_HTTP_LISTEN=f"127.0.0.1:{port}")
    command = [
        str(binary), "run", "--config", str(ROOT / "Configs/trapline.yaml"), "--catalog", str(work / "catalog.db"),
        "--model", str(ROOT / "Models/efficientnet-lite0.safetensors"), "--watch", str(work / "inbox"),
    ]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            message = listener.recv(4096).decode()
            if "READY=1" in message.split("\n"):
                ready = time.monotonic() - started
                break
        time.sleep(idle_seconds)
        rss = resident_mib(process.pid)
    finally:
        listener.close()
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    if process.returncode != 0:
        raise RuntimeError(f"{binary} exited {process.returncode}: {errors.decode()[-2000:]}")
    return {"readySeconds": round(ready, 3), "idleRSSMiB": round(rss, 1)}


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", action="append", required=True, help="NAME=PATH, one per build")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--idle-seconds", type=float, default=5)
    parser.add_argument("--port", type=int, default=18470)
    args = parser.parse_args()
    builds = dict(entry.split("=", 1) for entry in args.binary)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in builds}
    with tempfile.TemporaryDirectory(prefix="trapline-startup-") as folder:
        for _ in range(args.runs):
            for name, path in builds.items():
                runs[name].append(one_run(Path(path), Path(folder), args.idle_seconds, args.port))
    report = {
        name: {
            "binary": builds[name],
            "binaryBytes": Path(builds[name]).stat().st_size,
            "readySeconds": summary([run["readySeconds"] for run in results]),
            "idleRSSMiB": summary([run["idleRSSMiB"] for run in results]),
            "runs": results,
        }
        for name, results in runs.items()
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
