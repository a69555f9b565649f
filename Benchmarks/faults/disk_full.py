"""Disk full: the catalog lives on a small tmpfs that fills up while images arrive. trapline must log a clear
error, keep running without corrupting the catalog, and carry on by itself once space is freed.

    sudo python3 Benchmarks/faults/disk_full.py [IMAGES]
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


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def main() -> None:
    images = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    work = Path(tempfile.mkdtemp(prefix="disk-full-"))
    state = work / "state"
    state.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(state)], check=True)
    process = None
    try:
        inbox = work / "inbox"
        inbox.mkdir()
        config = work / "trapline.yaml"
        config.write_text(
            f"watch:\n  folder: {inbox}\n  settleSeconds: 1\ncatalog:\n  path: {state / 'catalog.db'}\n"
            f"model:\n  path: {ringlab.MODEL}\nbatch:\n  maxSize: 8\n  maxWaitSeconds: 0.2\n"
        )
        log_path = work / "trapline.log"
        process = ringlab.start_daemon(config, log_path)
        catalog = state / "catalog.db"
        ringlab.wait_for(catalog.exists, 30)
        # Leave about 200 KB: the catalog runs out of room part of the way through the images.
        filler = state / "filler"
        filler.write_bytes(b"\0" * max(0, free_bytes(state) - 200_000))
        sources = [p.read_bytes() for p in ringlab.PHOTOS]
        for n in range(images):
            (inbox / f"{n}.part").write_bytes(ringlab.distinct_jpeg(sources[n % len(sources)], n))
            (inbox / f"{n}.part").rename(inbox / f"img-{n}.jpg")
        full = ringlab.wait_for(
            lambda: "catalog write failed" in log_path.read_text() or "batch not recorded" in log_path.read_text(), 120
        )
        time.sleep(3)
        alive_when_full = process.poll() is None
        labelled_when_full = ringlab.labelled(catalog)
        with closing(sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)) as db:
            integrity_when_full = db.execute("PRAGMA integrity_check").fetchone()[0]
        filler.unlink()
        freed_at = time.time()
        resumed = ringlab.wait_for(lambda: ringlab.labelled(catalog) == images, 300)
        resume_seconds = time.time() - freed_at
        process.send_signal(signal.SIGTERM)
        exit_status = process.wait(timeout=60)
        with closing(sqlite3.connect(catalog)) as db:
            integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
            observations = db.execute("SELECT COUNT(*), COUNT(DISTINCT mediaID) FROM observations").fetchone()
        errors = [line for line in log_path.read_text().splitlines() if " error " in line][:2]
        summary = {
            "images": images,
            "filledUp": full,
            "aliveWhenFull": alive_when_full,
            "labelledWhenFull": labelled_when_full,
            "integrityWhenFull": integrity_when_full,
            "resumedAfterFreeing": resumed,
            "secondsToFinishAfterFreeing": round(resume_seconds, 1),
            "observations": observations,
            "integrity": integrity,
            "exitStatus": exit_status,
            "firstErrors": errors,
        }
        summary["ok"] = (
            full
            and alive_when_full
            and integrity_when_full == "ok"
            and resumed
            and integrity == "ok"
            and observations == (images, images)
            and exit_status == 0
        )
        print(json.dumps(summary))
        if not summary["ok"]:
            sys.exit(1)
    finally:
        if process and process.poll() is None:
            process.kill()
        subprocess.run(["umount", str(state)], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
