"""The cluster experiment: an emulated 4-Pi ring under a real camera-trap arrival trace, one run per policy.

Run as root on one machine (Benchmarks/cluster-experiment.sh builds trapline and calls this). Four
`trapline run` processes, each in its own network namespace with its own address on a bridge (10.77.0.1-4),
each held to a CPU quota (cgroup v1 `cpu`) so that the four stand in for four equal Raspberry Pi 4B-class
boards; the ring uses its real gRPC transport under mutual TLS. Arrivals replay
../shared/data/orinoquia-day1-trace.csv, time-compressed and superimposed to load the ring near its
capacity, each a distinct copy of a real photo. During a run one node's quota drops (a slowdown: heat
throttling, a competing job) and recovers, and later a burst doubles the arrival rate. The same schedule runs
under each policy (none, static, repartition, adaptive), and the report gives throughput, SLO attainment, latency
percentiles, top-1 agreement with the unpruned model, and levels over time, with a plot per policy.

    python3 Benchmarks/ring/cluster_experiment.py --out Benchmarks/results/cluster-<date>
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import shutil
import subprocess
import threading
import time
from pathlib import Path

import ringlab

NAMES = ["n0", "n1", "n2", "n3"]
TRACE = ringlab.ROOT.parent / "shared" / "data" / "orinoquia-day1-trace.csv"
CGROUP_ROOT = Path("/sys/fs/cgroup/cpu/trapline-experiment")
# A short CFS period: with 100 ms, a 90 ms computation under a 45% quota is throttled in whole periods and
# timings jump in steps; 20 ms keeps a quota close to a slower CPU.
PERIOD_US = 20_000


def sh(*command: str, check: bool = True) -> None:
    subprocess.run(command, check=check, capture_output=True)


class Cluster:
    """Namespaces on a bridge, and a cgroup per node."""

    def __init__(self) -> None:
        self.namespaces = [f"trap-{name}" for name in NAMES]
        self.addresses = [f"10.77.0.{i + 1}" for i in range(len(NAMES))]
        self.cgroups = [CGROUP_ROOT / name for name in NAMES]

    def up(self, quotas: list[float]) -> None:
        self.down()
        sh("ip", "link", "add", "trapbr0", "type", "bridge")
        sh("ip", "link", "set", "trapbr0", "up")
        for i, (namespace, address) in enumerate(zip(self.namespaces, self.addresses, strict=True)):
            sh("ip", "netns", "add", namespace)
            sh(
                "ip",
                "link",
                "add",
                f"trapv{i}",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                namespace,
            )
            sh("ip", "link", "set", f"trapv{i}", "master", "trapbr0", "up")
            sh("ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            sh("ip", "-n", namespace, "link", "set", "eth0", "up")
            sh("ip", "-n", namespace, "link", "set", "lo", "up")
        CGROUP_ROOT.mkdir(exist_ok=True)
        for cgroup, quota in zip(self.cgroups, quotas, strict=True):
            cgroup.mkdir(exist_ok=True)
            self.set_quota(cgroup, quota)

    @staticmethod
    def set_quota(cgroup: Path, cores: float) -> None:
        (cgroup / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        # The kernel's smallest quota is 1 ms.
        (cgroup / "cpu.cfs_quota_us").write_text(str(max(1000, int(cores * PERIOD_US))))

    def prefix(self, index: int) -> list[str]:
        return ["ip", "netns", "exec", self.namespaces[index]]

    def down(self) -> None:
        for namespace in self.namespaces:
            sh("ip", "netns", "del", namespace, check=False)
        # A run killed part way can leave a host end of a pair behind; the next run could not make it again.
        for i in range(len(self.namespaces)):
            sh("ip", "link", "del", f"trapv{i}", check=False)
        sh("ip", "link", "del", "trapbr0", check=False)
        if CGROUP_ROOT.exists():
            for cgroup in self.cgroups:
                if cgroup.exists():
                    for pid in (cgroup / "cgroup.procs").read_text().split():
                        (CGROUP_ROOT.parent / "cgroup.procs").write_text(pid)
                    cgroup.rmdir()
            CGROUP_ROOT.rmdir()


def arrivals(rate: float, duration: float, burst: tuple[float, float], seed: int) -> list[float]:
    """Arrival times: the trace's day compressed so that copies of it, superimposed with random offsets, arrive
    at `rate` images per second on average; each arrival inside the burst window gets a twin."""
    with open(TRACE) as handle:
        times = sorted(dt.datetime.fromisoformat(row["datetime"]).timestamp() for row in csv.DictReader(handle))
    span = times[-1] - times[0]
    relative = [(t - times[0]) / span for t in times]  # 0...1
    copies = max(1, round(rate * duration / len(times)))
    generator = random.Random(seed)
    out: list[float] = []
    for _ in range(copies):
        offset = generator.random()
        out += [((r + offset) % 1.0) * duration for r in relative]
    # Scale to the exact rate by thinning or repeating at random.
    target = int(rate * duration)
    generator.shuffle(out)
    while len(out) < target:
        out.append(out[generator.randrange(len(out))] + generator.random() * 0.05)
    out = sorted(t for t in out[:target] if t < duration)
    twins = [t + generator.random() * 0.2 for t in out if burst[0] <= t < burst[1]]
    return sorted(out + twins)


def unpruned_labels(photos: list[Path]) -> dict[str, tuple[int, tuple[str, str | None]]]:
    """The unpruned model's top class and written label (observation type, scientific name) for each source photo
    (`trapline classify`, level 0)."""
    result = subprocess.run(
        [
            str(ringlab.BINARY),
            "classify",
            "--json",
            "--model",
            str(ringlab.MODEL),
            *map(str, photos),
        ],
        check=True,
        capture_output=True,
        env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    images = json.loads(result.stdout)["images"]
    return {
        photo.name: (
            image["top"][0]["index"],
            (image["observationType"], (image.get("label") or {}).get("scientificName")),
        )
        for photo, image in zip(photos, images, strict=True)
    }


def profile_nodes(cluster: Cluster, config: Path, work: Path, runs: int) -> None:
    """`trapline profile` on every node, one at a time, each under its own quota."""
    for index, name in enumerate(NAMES):
        out = work / f"profile-{name}.json"
        command = [
            "sh",
            "-c",
            f'echo $$ > {cluster.cgroups[index]}/cgroup.procs && exec "$@"',
            "sh",
            *cluster.prefix(index),
            str(ringlab.BINARY),
            "profile",
            "--config",
            str(config),
            "--node",
            name,
            "--runs",
            str(runs),
            "--out",
            str(out),
        ]
        subprocess.run(command, check=True, capture_output=True, env={"OPENBLAS_NUM_THREADS": "1"})


def run_policy(
    policy: str,
    args,
    cluster: Cluster,
    base: Path,
    schedule: list[float],
    photos,
    static,
) -> dict:
    work = base / policy
    control = {"policy": "static" if policy == "static" else policy.split("-")[0]}
    if policy == "static":
        control["staticLevels"] = static
    if policy.startswith("adaptive-floor"):
        control["accuracyFloor"] = float(policy.removeprefix("adaptive-floor")) / 100
    processes = list(start_ring(args, cluster, base, work, control, thermal=args.ramp > 0).values())
    catalog = work / "catalog.db"
    try:
        if not ringlab.wait_for(lambda: ringlab.joined(catalog, NAMES[1:]), 60):
            raise SystemExit(f"{policy}: the ring did not form; see {work}")
        by_name = {process.name: process for process in processes}
        events = drive(args, cluster, work, schedule, photos, by_name)
        ringlab.wait_for(lambda: ringlab.labelled(catalog) >= len(schedule), args.drain)
    finally:
        for cgroup, quota in zip(cluster.cgroups, quotas(args), strict=True):
            Cluster.set_quota(cgroup, quota)
        for process in processes:
            process.stop()
    return {"work": str(work), "events": events}


def start_ring(args, cluster: Cluster, base: Path, work: Path, control: dict, thermal: bool) -> dict:
    """A fresh ring under `work` (its inbox, config and catalog; the credentials and profiles of `base`): the
    four nodes started in their namespaces and cgroups, workers first. Returns the nodes by name."""
    work.mkdir(parents=True)
    (work / "inbox").mkdir()
    nodes = [(name, address, 7401) for name, address in zip(NAMES, cluster.addresses, strict=True)]
    config = work / "ring.yaml"
    ringlab.write_config(
        config,
        work,
        nodes,
        ring={"probeSeconds": 0.5, "maxInFlight": 3},
        batch={"maxSize": 8, "maxWaitSeconds": args.max_wait, "sloSeconds": args.slo},
        control=control,
    )
    config.write_text(config.read_text().replace(str(work / "credentials"), str(base / "credentials")))
    processes = {}
    for index in reversed(range(len(NAMES))):
        env = {"TRAPLINE_CONTROL_PROFILE": str(base / f"profile-{NAMES[index]}.json")}
        if thermal:
            # Each node reads its temperature and throttling flags from a folder the driver writes.
            sysfs = work / f"sysfs-{NAMES[index]}"
            write_thermal(sysfs, 55.0, 0)
            env["TRAPLINE_RING_SYSFS_ROOT"] = str(sysfs)
        processes[NAMES[index]] = ringlab.Node(
            NAMES[index],
            config,
            work / f"{NAMES[index]}.log",
            prefix=cluster.prefix(index),
            cgroup=cluster.cgroups[index],
            env=env,
        )
        time.sleep(0.5)
    return processes


def quotas(args) -> list[float]:
    """CPU cores per node: the head also decodes every JPEG and writes the catalog, so it gets more."""
    return [args.head_quota] + [args.quota] * (len(NAMES) - 1)


def small_photos(folder: Path) -> list[Path]:
    """Half-size copies of the real photos (about 380x290): the head decodes every arrival, and full-size
    decoding on a fraction of a core would make the head, not the slices, the ring's bottleneck."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for photo in ringlab.PHOTOS:
        target = folder / photo.name
        ppm = folder / (photo.stem + ".ppm")
        sh("djpeg", "-scale", "1/2", "-outfile", str(ppm), str(photo))
        sh("cjpeg", "-quality", "90", "-outfile", str(target), str(ppm))
        ppm.unlink()
        out.append(target)
    return out


def write_thermal(root: Path, celsius: float, flags: int) -> None:
    """A node's sysfs files as a Raspberry Pi kernel lays them out (see Sources/Ring/Node/Thermal.swift)."""
    zone = root / "class/thermal/thermal_zone0"
    firmware = root / "devices/platform/soc/soc:firmware"
    zone.mkdir(parents=True, exist_ok=True)
    firmware.mkdir(parents=True, exist_ok=True)
    (zone / ".temp").write_text(f"{round(celsius * 1000)}\n")
    (zone / ".temp").rename(zone / "temp")
    (firmware / ".get_throttled").write_text(f"0x{flags:x}\n")
    (firmware / ".get_throttled").rename(firmware / "get_throttled")


# The firmware's flags while it holds the clock down at the soft temperature limit (bits 1 and 3, and the same
# since boot in bits 17 and 19), and after it lets go (only the since-boot bits).
THROTTLING, THROTTLED_SINCE_BOOT = 0xA000A, 0xA0000


def changes_of(args) -> list[tuple[float, int, float, tuple[float, int] | None]]:
    """The schedule's quota changes: (time, node, cores, (temperature, flags) to write first or None).

    A step slowdown drops each slowed node's quota at `slow_start` and restores it at `slow_end`. With `ramp`, the
    first slowed node heats up instead: its temperature climbs from 70 to 80 degC over the 10 s up to
    `slow_start` (a leading signal: nothing is slower yet), then its quota steps down in six steps over the next
    `ramp` seconds while it reads 80-85 degC with the firmware's throttling flags, and at `slow_end` it has cooled
    and runs at full quota again.
    """
    nodes = [int(x) for x in str(args.slow_node).split(",")]
    factors = [float(x) for x in str(args.slow_factor).split(",")]
    if len(factors) == 1:
        factors *= len(nodes)
    changes: list[tuple[float, int, float, tuple[float, int] | None]] = []
    for position, (node, factor) in enumerate(zip(nodes, factors, strict=True)):
        normal = quotas(args)[node]
        if args.ramp > 0 and position == 0:
            for k in range(10):
                changes.append((args.slow_start - 10 + k, node, normal, (70.0 + k, 0)))
            changes.append((args.slow_start, node, normal, (80.0, 0)))
            for k in range(1, 7):
                share = 1 - (1 - factor) * k / 6
                at = args.slow_start + args.ramp * k / 6
                changes.append((at, node, normal * share, (80.0 + 5 * k / 6, THROTTLING)))
            changes.append((args.slow_end, node, normal, (65.0, THROTTLED_SINCE_BOOT)))
        else:
            changes += [(args.slow_start, node, normal * factor, None), (args.slow_end, node, normal, None)]
    changes.sort(key=lambda change: change[0])
    return changes


def drive(
    args,
    cluster: Cluster,
    work: Path,
    schedule: list[float],
    photos: list[Path],
    processes: dict,
) -> dict:
    """Writes each arrival's file at its time, changes the slowed nodes' quotas (and temperatures) on schedule,
    and kills a node when the schedule says so."""
    sources = [p.read_bytes() for p in photos]
    inbox = work / "inbox"
    start = time.time()
    changes = changes_of(args)

    def environment() -> None:
        for at, node, cores, thermal in changes:
            time.sleep(max(0, start + at - time.time()))
            if thermal is not None:
                write_thermal(work / f"sysfs-{NAMES[node]}", *thermal)
            Cluster.set_quota(cluster.cgroups[node], cores)

    def killer() -> None:
        time.sleep(max(0, start + args.kill_at - time.time()))
        processes[NAMES[args.kill_node]].process.kill()

    if args.kill_node is not None:
        threading.Thread(target=killer).start()

    thread = threading.Thread(target=environment)
    thread.start()
    names = []
    for n, at in enumerate(schedule):
        time.sleep(max(0, start + at - time.time()))
        source = n % len(sources)
        camera = f"C{n % 10:02d}"
        folder = inbox / camera
        folder.mkdir(exist_ok=True)
        name = f"{camera}/{photos[source].stem}-{n}.jpg"
        (inbox / f"{camera}/.{n}.part").write_bytes(ringlab.distinct_jpeg(sources[source], n))
        (inbox / f"{camera}/.{n}.part").rename(inbox / name)
        names.append(name)
    thread.join()
    return {"start": start, "arrivals": len(schedule)}


def iso(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def measure(policy: str, run: dict, args, truth: dict, levels: list[float]) -> dict:
    catalog = Path(run["work"]) / "catalog.db"
    start = run["events"]["start"]
    batches = [
        {
            "completed": iso(c) - start,
            "firstArrival": iso(f) - start,
            "latencyMs": latency,
            "met": bool(met),
            "size": size,
            "levels": json.loads(lv),
        }
        for c, f, latency, met, size, lv in ringlab.query(
            catalog,
            "SELECT completed, firstArrival, latencyMs, met, size, levels FROM batches ORDER BY completed",
        )
    ]
    rows = ringlab.query(
        catalog,
        "SELECT m.fileName, o.classIndex, o.observationType, o.scientificName "
        "FROM observations o JOIN media m ON m.mediaID = o.mediaID",
    )
    agree = [truth[name.rsplit("-", 1)[0] + ".jpg"][0] == index for name, index, _, _ in rows]
    written = [truth[name.rsplit("-", 1)[0] + ".jpg"][1] == (kind, taxon) for name, _, kind, taxon in rows]
    labelled = sum(b["size"] for b in batches)
    window = (args.slow_start, args.slow_end)
    in_slow = sum(b["size"] for b in batches if window[0] <= b["completed"] < window[1])
    latencies = sorted(b["latencyMs"] for b in batches)

    def percentile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")

    # Recovery: batches completed after the slowdown began until one meets its deadline again, counting
    # only once a deadline has been missed.
    after = [b for b in batches if b["completed"] >= args.slow_start]
    missed_run = 0
    first_miss = next((i for i, b in enumerate(after) if not b["met"]), None)
    if first_miss is not None:
        for b in after[first_miss:]:
            if b["met"]:
                break
            missed_run += 1
    events = ringlab.query(
        catalog,
        "SELECT at, kind, node, levels, reason FROM controller_events ORDER BY eventID",
    )
    return {
        "policy": policy,
        "arrivals": run["events"]["arrivals"],
        "labelled": labelled,
        "batches": len(batches),
        "throughputSlowedImagesPerSecond": in_slow / (window[1] - window[0]),
        "throughputOverallImagesPerSecond": labelled / max(b["completed"] for b in batches),
        "sloAttainment": sum(b["met"] for b in batches) / len(batches),
        "latencyMs": {
            "p50": percentile(0.5),
            "p95": percentile(0.95),
            "p99": percentile(0.99),
        },
        "top1Agreement": sum(agree) / len(agree) if agree else float("nan"),
        "writtenLabelAgreement": sum(written) / len(written) if written else float("nan"),
        "batchesMissedAfterSlowdown": missed_run if first_miss is not None else 0,
        "levelChanges": sum(1 for e in events if e[1] == "levels"),
        "boundaryMoves": sum(1 for e in events if e[1] == "boundaries"),
        "series": [{"t": b["completed"], "latencyMs": b["latencyMs"], "levels": b["levels"]} for b in batches],
        "events": [list(e) for e in events],
    }


def plotted_level(level) -> float:
    """A slice's option on the plot: its pruned fraction, or 1 for a skipped block (a depth option)."""
    return float(level) if isinstance(level, int | float) else 1.0


def plot(results: list[dict], args, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(results), 2, figsize=(13, 3.2 * len(results)), squeeze=False)
    for row, result in enumerate(results):
        series = result["series"]
        t = [s["t"] for s in series]
        latency = axes[row][0]
        latency.plot(t, [s["latencyMs"] / 1000 for s in series], ".", markersize=3)
        latency.axhline(args.slo, color="red", linewidth=0.8, label="SLO")
        latency.set_ylabel("batch latency (s)")
        latency.set_title(f"{result['policy']}: SLO met {100 * result['sloAttainment']:.0f}%")
        level = axes[row][1]
        for slice_index in range(len(NAMES)):
            level.step(
                t,
                [plotted_level(s["levels"][slice_index]) if s["levels"] else 0 for s in series],
                where="post",
                label=NAMES[slice_index],
            )
        level.set_ylabel("prune level (fraction)")
        level.set_ylim(-0.05, 1.05)
        level.set_yticks([0, 0.25, 0.5, 0.75, 1], ["0", "0.25", "0.5", "0.75", "skip"])
        level.set_title(f"top-1 agreement {100 * result['top1Agreement']:.1f}%")
        for axis in (latency, level):
            axis.axvspan(args.slow_start, args.slow_end, color="orange", alpha=0.15)
            axis.axvspan(args.burst_start, args.burst_end, color="purple", alpha=0.1)
            if args.kill_node is not None:
                axis.axvline(args.kill_at, color="black", linestyle="--", linewidth=0.8)
            axis.set_xlabel("seconds into the run")
        level.legend(loc="upper right", fontsize=7)
    figure.tight_layout()
    figure.savefig(out, dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--policies", default="none,static,adaptive")
    parser.add_argument(
        "--static",
        default="0,0,0.25,0",
        help="static levels (fractions), one per slice",
    )
    parser.add_argument("--duration", type=float, default=150)
    parser.add_argument("--rate", type=float, default=30, help="mean arrivals per second")
    parser.add_argument("--quota", type=float, default=0.4, help="CPU cores per worker node")
    parser.add_argument("--head-quota", type=float, default=0.6, help="CPU cores of the head")
    parser.add_argument("--slow-node", default="2", help="the slowed node, or several: 1,2")
    parser.add_argument(
        "--slow-factor",
        default="0.33",
        help="the slowed node's share of its quota (one per slowed node, or one for all)",
    )
    parser.add_argument("--slow-start", type=float, default=20)
    parser.add_argument("--slow-end", type=float, default=100)
    parser.add_argument("--burst-start", type=float, default=115)
    parser.add_argument("--burst-end", type=float, default=135)
    parser.add_argument(
        "--ramp",
        type=float,
        default=0,
        help="seconds over which the first slowed node's quota steps down as it heats up (0: a step)",
    )
    parser.add_argument("--kill-node", type=int, help="a node to kill (SIGKILL) during the run")
    parser.add_argument("--kill-at", type=float, default=40, help="when to kill it, seconds into the run")
    parser.add_argument("--slo", type=float, default=3)
    parser.add_argument("--max-wait", type=float, default=0.5)
    parser.add_argument("--drain", type=float, default=60)
    parser.add_argument("--profile-runs", type=int, default=3)
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    photos = small_photos(args.out / "photos")
    truth = unpruned_labels(photos)
    cluster = Cluster()
    cluster.up(quotas(args))
    try:
        credentials_config = args.out / "init.yaml"
        nodes = [(name, address, 7401) for name, address in zip(NAMES, cluster.addresses, strict=True)]
        ringlab.write_config(credentials_config, args.out, nodes)
        sh(str(ringlab.BINARY), "ring", "init", "--config", str(credentials_config))
        profile_nodes(cluster, credentials_config, args.out, args.profile_runs)
        schedule = arrivals(args.rate, args.duration, (args.burst_start, args.burst_end), seed=1)
        static = [float(x) for x in args.static.split(",")]
        results = []
        for policy in args.policies.split(","):
            print(
                f"running {policy} ({len(schedule)} arrivals over {args.duration:.0f} s)",
                flush=True,
            )
            run = run_policy(policy, args, cluster, args.out, schedule, photos, static)
            results.append(measure(policy, run, args, truth, static))
            r = results[-1]
            print(
                f"  labelled {r['labelled']}/{r['arrivals']}, slowed-window throughput "
                f"{r['throughputSlowedImagesPerSecond']:.1f}/s, SLO {100 * r['sloAttainment']:.1f}%, "
                f"p95 {r['latencyMs']['p95'] / 1000:.1f} s, agreement {100 * r['top1Agreement']:.1f}%",
                flush=True,
            )
    finally:
        cluster.down()
    summary = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": subprocess.run(["uname", "-srm"], check=False, capture_output=True, text=True).stdout.strip(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "results": results,
    }
    (args.out / "results.json").write_text(json.dumps(summary, indent=1))
    plot(results, args, args.out / "timeline.png")
    base = {r["policy"]: r for r in results}
    if "none" in base and "adaptive" in base:
        none, adaptive = base["none"], base["adaptive"]
        throughput = adaptive["throughputSlowedImagesPerSecond"] / max(none["throughputSlowedImagesPerSecond"], 1e-9)
        attainment = adaptive["sloAttainment"] / max(none["sloAttainment"], 1e-9)
        print(f"adaptive vs none: throughput while slowed x{throughput:.2f}, SLO attainment x{attainment:.2f}")
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()
