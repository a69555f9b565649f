"""Load: 10,000 distinct images dropped into the watch folder at once (renamed in from a staging folder on the
same file system, while the daemon is stopped with SIGSTOP), with the kernel's inotify queue shrunk to 1024
events, so that it overflows. Every image must be catalogued
once; the peak resident memory and the open file descriptors are sampled throughout.

    sudo python3 Benchmarks/faults/load_10k.py [IMAGES]
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ring"))
import ringlab

QUEUE = Path("/proc/sys/fs/inotify/max_queued_events")


def small_source(work: Path) -> bytes:
    ppm, jpeg = work / "s.ppm", work / "s.jpg"
    subprocess.run(["djpeg", "-scale", "1/2", "-outfile", str(ppm), str(ringlab.PHOTOS[1])], check=True)
    subprocess.run(["cjpeg", "-quality", "85", "-outfile", str(jpeg), str(ppm)], check=True)
    return jpeg.read_bytes()


def sample(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def main() -> None:
    images = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    work = Path(tempfile.mkdtemp(prefix="load-10k-"))
    inbox, staging = work / "inbox", work / "staging"
    inbox.mkdir()
    staging.mkdir()
    source = small_source(work)
    for n in range(images):
        (staging / f"img-{n:05d}.jpg").write_bytes(ringlab.distinct_jpeg(source, n))
    config = work / "trapline.yaml"
    config.write_text(
        f"watch:\n  folder: {inbox}\n  settleSeconds: 1\ncatalog:\n  path: {work / 'catalog.db'}\n"
        f"model:\n  path: {ringlab.MODEL}\nbatch:\n  maxSize: 16\n  maxWaitSeconds: 0.5\n  sloSeconds: 3600\n"
    )
    saved_queue = QUEUE.read_text()
    QUEUE.write_text("1024")  # the default is 16384: make 10,000 arrivals overflow it
    log_path = work / "trapline.log"
    try:
        process = ringlab.start_daemon(config, log_path)
        catalog = work / "catalog.db"
        ringlab.wait_for(lambda: "watching" in log_path.read_text(), 60)
        time.sleep(1)
        baseline_rss, baseline_fds = sample(process.pid)
        started = time.time()
        # Stopped while the files arrive, the daemon cannot drain its inotify queue, which overflows for certain.
        process.send_signal(signal.SIGSTOP)
        for path in sorted(staging.iterdir()):
            path.rename(inbox / path.name)
        process.send_signal(signal.SIGCONT)
        peak_rss, peak_fds = baseline_rss, baseline_fds
        while time.time() - started < 3600:
            rss, fds = sample(process.pid)
            peak_rss, peak_fds = max(peak_rss, rss), max(peak_fds, fds)
            if ringlab.labelled(catalog) == images:
                break
            time.sleep(0.5)
        seconds = time.time() - started
        time.sleep(2)
        end_rss, end_fds = sample(process.pid)
        process.send_signal(signal.SIGTERM)
        exit_status = process.wait(timeout=60)
    finally:
        QUEUE.write_text(saved_queue)
    with closing(sqlite3.connect(catalog)) as db:
        media = db.execute("SELECT COUNT(*), SUM(status = 'labeled') FROM media").fetchone()
        observations = db.execute("SELECT COUNT(*), COUNT(DISTINCT mediaID) FROM observations").fetchone()
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    text = log_path.read_text()
    summary = {
        "images": images,
        "secondsToCatalogueAll": round(seconds, 1),
        "imagesPerSecond": round(images / seconds, 1),
        "mediaRows": media[0],
        "labelled": media[1],
        "observations": observations,
        "inotifyOverflowRescans": text.count("overflow"),
        "rssKiB": {"baseline": baseline_rss, "peak": peak_rss, "end": end_rss},
        "openFiles": {"baseline": baseline_fds, "peak": peak_fds, "end": end_fds},
        "integrity": integrity,
        "exitStatus": exit_status,
    }
    summary["ok"] = (
        media == (images, images) and observations == (images, images) and integrity == "ok" and exit_status == 0
    )
    summary["ok"] = summary["ok"] and end_fds <= baseline_fds + 2
    print(json.dumps(summary))
    if summary["ok"]:
        shutil.rmtree(work)
    else:
        print(f"kept {work}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
