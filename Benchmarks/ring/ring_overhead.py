"""Per-hop overhead of the ring on loopback (encoding, transport, decoding) next to the slices' compute.

A 4-node ring of real `trapline run` processes on 127.0.0.1 under mutual TLS; batches of 1 and of 8 real
photos; float16 and float32 on the wire; activations over gRPC and over the framed TLS stream, one transport
right after the other for each case, so that the machine's load falls on both alike. Each batch's trace
(batches.nodeTimings) gives, for every hop, the sender's encode plus transport plus the receiver's decode
(`<node>.link` + `<node>.decode`), and every node's compute time.
Usage: python3 Benchmarks/ring/ring_overhead.py [IMAGES] [OUT.json] [--encodings float16,float32]
       [--transports grpc,framed] [--batches 1,8]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

import ringlab

NAMES = ["pi1", "pi2", "pi3", "pi4"]


def run_case(batch: int, encoding: str, transport: str, images: int, base_port: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="ring-overhead-"))
    (work / "inbox").mkdir()
    nodes = [(name, "127.0.0.1", base_port + i) for i, name in enumerate(NAMES)]
    config = work / "ring.yaml"
    ringlab.write_config(
        config,
        work,
        nodes,
        ring={"encoding": encoding, "transport": transport, "maxInFlight": 1, "probeSeconds": 0.5},
        batch={"maxSize": batch, "maxWaitSeconds": 0.5, "sloSeconds": 60},
        control={"policy": "none"},
    )
    subprocess.run(
        [str(ringlab.BINARY), "ring", "init", "--config", str(config)],
        check=True,
        capture_output=True,
    )
    processes = [ringlab.Node(name, config, work / f"{name}.log") for name in reversed(NAMES)]
    catalog = work / "catalog.db"
    try:
        if not ringlab.wait_for(lambda: ringlab.joined(catalog, NAMES[1:]), 60):
            raise SystemExit(f"ring did not form; see {work}")
        # One batch at a time (maxInFlight 1), each full: the hops carry nothing else.
        ringlab.drop_copies(work / "inbox", images)
        if not ringlab.wait_for(lambda: ringlab.labelled(catalog) == images, 600):
            raise SystemExit(f"not every image was labelled; see {work}")
        rows = [json.loads(r[0]) for r in ringlab.query(catalog, "SELECT nodeTimings FROM batches")]
    finally:
        for process in processes:
            process.stop()
    rows = [r for r in rows if all(f"{n}.compute" in r for n in NAMES)][1:]  # the first batch warms up
    result = {"batch": batch, "encoding": encoding, "transport": transport, "batches": len(rows), "hops": []}
    for index, name in enumerate(NAMES):
        compute = statistics.median(r[f"{name}.compute"] for r in rows) * 1000
        hop = {"node": name, "computeMs": compute}
        if index > 0:
            overhead = [(r[f"{name}.link"] + r[f"{name}.decode"]) * 1000 for r in rows]
            hop["overheadMs"] = statistics.median(overhead)
            sender = NAMES[index - 1]
            hop["encodeMs"] = statistics.median(r[f"{sender}.encode"] for r in rows) * 1000
            hop["decodeMs"] = statistics.median(r[f"{name}.decode"] for r in rows) * 1000
            hop["transportMs"] = statistics.median((r[f"{name}.link"] - r[f"{sender}.encode"]) * 1000 for r in rows)
            hop["overheadShareOfSenderCompute"] = hop["overheadMs"] / result["hops"][-1]["computeMs"]
        result["hops"].append(hop)
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="?", type=int, default=96)
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--encodings", default="float16,float32")
    parser.add_argument("--transports", default="grpc,framed")
    parser.add_argument("--batches", default="1,8")
    args = parser.parse_args()
    results = []
    port = 27400
    for encoding in args.encodings.split(","):
        for batch in (int(b) for b in args.batches.split(",")):
            for transport in args.transports.split(","):
                # Each node's framed data port is its port + 100: keep the cases' ports apart.
                port += 10
                count = args.images if batch == 8 else args.images // 4
                results.append(run_case(batch, encoding, transport, count, port))
                r = results[-1]
                print(f"{encoding} batch {batch} over {transport}: {r['batches']} batches", flush=True)
                for hop in r["hops"]:
                    extra = ""
                    if "overheadMs" in hop:
                        share = 100 * hop["overheadShareOfSenderCompute"]
                        extra = (
                            f"  hop overhead {hop['overheadMs']:.2f} ms = {share:.1f}% of the sender's compute"
                            f" (encode {hop['encodeMs']:.2f}, transport {hop['transportMs']:.2f},"
                            f" decode {hop['decodeMs']:.2f})"
                        )
                    print(f"  {hop['node']}: compute {hop['computeMs']:.2f} ms{extra}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
