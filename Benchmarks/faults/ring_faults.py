"""Ring faults on the emulated cluster (network namespaces, CPU quotas; see docs/experiment.md): a node killed
and restarted, a node's network cut (its link set down inside its namespace) and restored, and a node made very
slow and then normal again, while images keep arriving. Nothing may be lost or labelled twice, and each event
must be in `controller_events`.

    sudo python3 Benchmarks/faults/ring_faults.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ring"))
import ringlab
from cluster_experiment import NAMES, Cluster, small_photos

HEAD_QUOTA, WORKER_QUOTA = 0.6, 0.4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp/trapline-ring-faults"))
    parser.add_argument("--rate", type=float, default=8, help="arrivals per second")
    parser.add_argument("--duration", type=float, default=120)
    args = parser.parse_args()
    subprocess.run(["rm", "-rf", str(args.out)], check=True)
    args.out.mkdir(parents=True)
    (args.out / "inbox").mkdir()
    photos = small_photos(args.out / "photos")
    cluster = Cluster()
    cluster.up([HEAD_QUOTA] + [WORKER_QUOTA] * 3)
    nodes: dict[str, ringlab.Node] = {}
    try:
        config = args.out / "ring.yaml"
        members = [(name, address, 7401) for name, address in zip(NAMES, cluster.addresses, strict=True)]
        ringlab.write_config(
            config,
            args.out,
            members,
            ring={"probeSeconds": 0.5, "probeTimeoutSeconds": 1, "failAfter": 2, "resendSeconds": 8},
            batch={"maxSize": 8, "maxWaitSeconds": 0.5, "sloSeconds": 10},
            control={"policy": "none"},
        )
        subprocess.run([str(ringlab.BINARY), "ring", "init", "--config", str(config)], check=True, capture_output=True)

        def start(index: int, suffix: str = "") -> None:
            name = NAMES[index]
            nodes[name] = ringlab.Node(
                name,
                config,
                args.out / f"{name}{suffix}.log",
                prefix=cluster.prefix(index),
                cgroup=cluster.cgroups[index],
            )

        for index in reversed(range(len(NAMES))):
            start(index)
            time.sleep(0.5)
        catalog = args.out / "catalog.db"
        if not ringlab.wait_for(lambda: ringlab.joined(catalog, NAMES[1:]), 60):
            raise SystemExit("the ring did not form")
        began = time.time()
        log: list[tuple[float, str]] = []

        def at(seconds: float, what: str, action) -> None:
            time.sleep(max(0, began + seconds - time.time()))
            action()
            log.append((round(time.time() - began, 1), what))

        def faults() -> None:
            at(15, "kill n1 (SIGKILL)", lambda: (nodes["n1"].process.kill(), nodes["n1"].process.wait()))
            at(35, "restart n1", lambda: start(1, "-restarted"))
            cut = ["ip", "-n", cluster.namespaces[2], "link", "set", "eth0"]
            at(50, "cut n2's network", lambda: subprocess.run([*cut, "down"], check=True))
            at(70, "restore n2's network", lambda: subprocess.run([*cut, "up"], check=True))
            at(85, "slow n3 to 0.05 core", lambda: Cluster.set_quota(cluster.cgroups[3], 0.05))
            at(105, "restore n3", lambda: Cluster.set_quota(cluster.cgroups[3], WORKER_QUOTA))

        thread = threading.Thread(target=faults)
        thread.start()
        sources = [p.read_bytes() for p in photos]
        count = int(args.rate * args.duration)
        for n in range(count):
            time.sleep(max(0, began + n / args.rate - time.time()))
            part = args.out / "inbox" / f".{n}.part"
            part.write_bytes(ringlab.distinct_jpeg(sources[n % len(sources)], n))
            part.rename(args.out / "inbox" / f"img-{n}.jpg")
        thread.join()
        finished = ringlab.wait_for(lambda: ringlab.labelled(catalog) == count, 180)
        media = ringlab.query(catalog, "SELECT COUNT(*), SUM(status = 'labeled'), SUM(status = 'failed') FROM media")[0]
        observations = ringlab.query(catalog, "SELECT COUNT(*), COUNT(DISTINCT mediaID) FROM observations")[0]
        events = ringlab.query(catalog, "SELECT at, kind, node, reason FROM controller_events ORDER BY eventID")
        resent = ringlab.query(catalog, "SELECT COUNT(*) FROM batches WHERE nodeTimings LIKE '%\"attempts\": 2%'")[0][0]
    finally:
        for node in nodes.values():
            node.stop()
        cluster.down()
    integrity = ringlab.query(catalog, "PRAGMA integrity_check")[0][0]
    kinds = [(kind, node) for _, kind, node, _ in events]
    summary = {
        "arrivals": count,
        "finished": finished,
        "media": media,
        "observations": observations,
        "integrity": integrity,
        "batchesSentTwice": resent,
        "faults": log,
        "events": [list(e) for e in events],
    }
    expected = [("bypass", "n1"), ("readmit", "n1"), ("bypass", "n2"), ("readmit", "n2")]
    summary["ok"] = (
        finished
        and media[0] == count
        and media[1] == count
        and observations == (count, count)
        and integrity == "ok"
        and all(e in kinds for e in expected)
    )
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "events"}))
    for event in events:
        print("  ", *event)
    if not summary["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
