"""Crash injection: SIGKILL `trapline run` at random moments while it ingests a few hundred images, many
times, restarting it each time; then check that nothing was lost or doubled.

    python3 Benchmarks/faults/crash_injection.py [KILLS] [IMAGES]

At the end: every file has exactly one media row, every good image exactly one observation, nothing failed
but the deliberately bad files, and `PRAGMA integrity_check` says ok. Prints a JSON summary.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ring"))
import ringlab


def main() -> None:
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    images = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    work = Path(tempfile.mkdtemp(prefix="crash-injection-"))
    inbox = work / "inbox"
    inbox.mkdir()
    config = work / "trapline.yaml"
    config.write_text(
        f"watch:\n  folder: {inbox}\n  settleSeconds: 1\ncatalog:\n  path: {work / 'catalog.db'}\n"
        f"model:\n  path: {ringlab.MODEL}\nbatch:\n  maxSize: 8\n  maxWaitSeconds: 0.2\n"
    )
    sources = [p.read_bytes() for p in ringlab.PHOTOS]
    generator = random.Random(5)
    bad = {
        "truncated.jpg": sources[0][: len(sources[0]) // 3],
        "not-a-jpeg.jpg": b"GIF89a" + bytes(100),
    }
    # Images keep arriving while the daemon is killed and restarted: a third before the first start, the rest
    # in bursts between restarts.
    pending = [(f"cam{n % 4}/img-{n}.jpg", ringlab.distinct_jpeg(sources[n % len(sources)], n)) for n in range(images)]
    pending += [(f"cam0/{name}", data) for name, data in bad.items()]
    generator.shuffle(pending)

    def drop(count: int) -> None:
        for _ in range(min(count, len(pending))):
            name, data = pending.pop()
            path = inbox / name
            path.parent.mkdir(exist_ok=True)
            path.with_suffix(".part").write_bytes(data)
            path.with_suffix(".part").rename(path)

    drop(images // 3)
    catalog = work / "catalog.db"
    killed_at_labelled = []
    started = time.time()
    for _ in range(kills):
        process = ringlab.start_daemon(config, work / "trapline.log")
        drop(generator.randrange(0, 12))
        time.sleep(generator.uniform(0.05, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed_at_labelled.append(ringlab.labelled(catalog))
    drop(len(pending))
    process = ringlab.start_daemon(config, work / "trapline.log")
    total = images + len(bad)
    finished = ringlab.wait_for(lambda: ringlab.labelled(catalog) == total, 600)
    process.send_signal(signal.SIGTERM)
    process.wait()
    with closing(sqlite3.connect(catalog)) as db:
        media = db.execute("SELECT COUNT(*), COUNT(DISTINCT filePath) FROM media").fetchone()
        observations = db.execute("SELECT COUNT(*), COUNT(DISTINCT mediaID) FROM observations").fetchone()
        failed = sorted(r[0] for r in db.execute("SELECT fileName FROM media WHERE status = 'failed'"))
        pending_rows = db.execute("SELECT COUNT(*) FROM media WHERE status = 'pending'").fetchone()[0]
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    summary = {
        "kills": kills,
        "files": total,
        "finished": finished,
        "mediaRows": media[0],
        "distinctPaths": media[1],
        "observations": observations[0],
        "distinctObservedMedia": observations[1],
        "failed": failed,
        "pending": pending_rows,
        "integrity": integrity,
        "labelledWhenKilled": killed_at_labelled,
        "seconds": round(time.time() - started, 1),
    }
    ok = (
        finished
        and media == (total, total)
        and observations == (images, images)
        and failed == sorted(bad)
        and pending_rows == 0
        and integrity == "ok"
    )
    summary["ok"] = ok
    print(json.dumps(summary))
    if ok:
        shutil.rmtree(work)
    else:
        print(f"kept {work} for inspection", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
