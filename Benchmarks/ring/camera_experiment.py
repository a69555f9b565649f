"""The ring experiment at a camera's pace: the emulated 4-Pi ring of cluster_experiment.py, driven by camera triggers
instead of a compressed day, at 70% of the ring's measured capacity, under slowdown schedules, three repetitions.

Each repetition (its own seed) first probes the unslowed ring's capacity: a ring under `none` is given 240 photos at
once, and its steady throughput is measured from the catalog. Then arrivals are drawn for that repetition: camera
triggers at random (a Poisson process) at a rate that makes 70% of the capacity in images, each trigger 3-10 frames
of one scene at that camera's frame interval (0.5-1 s), in one of ten camera folders. Every policy runs those same
arrivals, each in a fresh ring (the policies' order rotates between repetitions). A slowdown schedule then changes
the nodes' CPU quotas while it runs. The `dump` schedule instead drops thousands of photos at once (a memory card)
and is judged on throughput against the sum of the nodes' own capacities.

    python3 Benchmarks/ring/camera_experiment.py --out DIR [--schedules one-third,...] [--repetitions 3]

Writes DIR/<schedule>/rep<k>/results.json and timeline.png, DIR/<schedule>/summary.json (mean and range over the
repetitions per policy) and DIR/summary.json; prints a table per schedule. Run as root (namespaces and cgroups).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import cluster_experiment as cx
import ringlab

NAMES = cx.NAMES
WARMUP = 16
PROBE_IMAGES = 240


@dataclass
class Schedule:
    """What happens to the ring during a run: quota changes (time, node, share of its normal quota), an optional
    kill, an optional thermal ramp on one node, or a dump of `dump` photos at once."""

    name: str
    duration: float = 70
    slow: list[tuple[int, float, float, float]] = field(default_factory=list)  # node, factor, start, end
    ramp: float = 0  # seconds over which the first slowed node's quota steps down, with temperatures
    kill: tuple[int, float] | None = None  # node, time
    dump: int = 0

    @property
    def windows(self) -> list[tuple[float, float]]:
        return [(start, end) for _, _, start, end in self.slow]

    @property
    def slowed(self) -> tuple[float, float]:
        """The union of the slowdown windows (one span: the schedules' windows overlap)."""
        return (min(s for s, _ in self.windows), max(e for _, e in self.windows)) if self.slow else (0, self.duration)


SCHEDULES = {
    "one-third": Schedule("one-third", slow=[(2, 1 / 3, 15, 55)]),
    "two-overlap": Schedule("two-overlap", slow=[(1, 0.5, 15, 45), (2, 1 / 3, 30, 60)]),
    "head-half": Schedule("head-half", slow=[(0, 0.5, 15, 55)]),
    "thermal": Schedule("thermal", slow=[(2, 1 / 3, 15, 60)], ramp=24),
    "kill-slow": Schedule("kill-slow", slow=[(2, 0.5, 15, 55)], kill=(3, 30)),
    "dump": Schedule("dump", duration=0, dump=1500),
}


# Cameras the triggers are spread over, in turn. Bursts and events are per camera (a gap of `eventGapSeconds`, 60 s,
# ends one): at about 4 triggers/s, 300 cameras trigger each about once a minute, a busy site's pace. With 10 cameras
# each would trigger every 2 s, every trigger would join one endless event, and the head would localise every frame
# against ten neighbours and re-assign ever longer events at every commit: a load no real camera makes.
CAMERAS = 300


def camera_arrivals(rate: float, duration: float, seed: int, within: float = 0.02) -> list[tuple[float, int, int]]:
    """Camera arrivals (``draw``) whose realised rate is within `within` of `rate`: a 70 s run holds about 160
    triggers, whose count alone varies by 8%, and near saturation that moved SLO attainment more than any policy.
    Draws again (seed, seed + 10000, ...) until one is close enough; deterministic for a seed."""
    for attempt in range(1000):
        frames = draw(rate, duration, seed + 10_000 * attempt)
        if not within or abs(len(frames) / duration - rate) <= within * rate:
            return frames
    return frames


def draw(rate: float, duration: float, seed: int) -> list[tuple[float, int, int]]:
    """(time, camera, scene) of every frame: triggers as a Poisson process, each 3-10 frames of one scene at its
    camera's frame interval (0.5-1 s), at `rate` images per second on average; camera k takes trigger k, k + 300, ..."""
    generator = random.Random(seed)
    intervals = [generator.uniform(0.5, 1.0) for _ in range(CAMERAS)]
    trigger_rate = rate / 6.5  # 3-10 frames: 6.5 on average
    out: list[tuple[float, int, int]] = []
    t = generator.expovariate(trigger_rate)
    trigger = 0
    while t < duration:
        camera = trigger % CAMERAS
        scene = generator.randrange(len(ringlab.PHOTOS))
        frames = generator.randint(3, 10)
        out += [(t + k * intervals[camera], camera, scene) for k in range(frames)]
        t += generator.expovariate(trigger_rate)
        trigger += 1
    return sorted(a for a in out if a[0] < duration)


def quota_changes(schedule: Schedule, quotas: list[float]) -> list[tuple[float, int, float, tuple[float, int] | None]]:
    """(time, node, cores, (temperature, flags) or None) in time order, as cluster_experiment.changes_of."""
    changes: list[tuple[float, int, float, tuple[float, int] | None]] = []
    for position, (node, factor, start, end) in enumerate(schedule.slow):
        normal = quotas[node]
        if schedule.ramp > 0 and position == 0:
            for k in range(10):
                changes.append((start - 10 + k, node, normal, (70.0 + k, 0)))
            changes.append((start, node, normal, (80.0, 0)))
            for k in range(1, 7):
                share = 1 - (1 - factor) * k / 6
                changes.append((start + schedule.ramp * k / 6, node, normal * share, (80 + 5 * k / 6, cx.THROTTLING)))
            changes.append((end, node, normal, (65.0, cx.THROTTLED_SINCE_BOOT)))
        else:
            changes += [(start, node, normal * factor, None), (end, node, normal, None)]
    return sorted(changes, key=lambda change: change[0])


class Ring:
    """One fresh ring (catalog, config, four nodes) under a policy, in the cluster's namespaces and cgroups."""

    def __init__(self, args, cluster: cx.Cluster, base: Path, work: Path, policy: str, thermal: bool):
        self.work = work
        self.cluster = cluster
        control: dict = {"policy": policy.split("-")[0]}
        if policy.startswith("adaptive-floor"):
            control["accuracyFloor"] = float(policy.removeprefix("adaptive-floor")) / 100
        self.catalog = work / "catalog.db"
        self.processes: dict[str, ringlab.Node] = cx.start_ring(args, cluster, base, work, control, thermal)
        if not ringlab.wait_for(lambda: ringlab.joined(self.catalog, NAMES[1:]), 60):
            self.stop()
            raise SystemExit(f"{policy}: the ring did not form; see {work}")
        # Warm-up: a few photos before the clock starts (first batches load weights, fill caches, open
        # connections), in a folder of their own and left out of every measure.
        self.write(Path("warm-up"), [(f"warm-{n}.jpg", n % len(ringlab.PHOTOS), 10_000 + n) for n in range(WARMUP)])
        if not ringlab.wait_for(lambda: ringlab.labelled(self.catalog) >= WARMUP, 120):
            self.stop()
            raise SystemExit(f"{policy}: the warm-up photos were not labelled; see {work}")

    def write(self, folder: Path, files: list[tuple[str, int, int]], taken: list[float] | None = None) -> None:
        """Writes (name, scene, number) files into an inbox folder, each as `*.part` renamed into place; `taken`
        sets their modification times (a card's files keep their capture times: these photos have no EXIF)."""
        target = self.work / "inbox" / folder
        target.mkdir(parents=True, exist_ok=True)
        for index, (name, scene, number) in enumerate(files):
            part = target / f".{number}.part"
            part.write_bytes(ringlab.distinct_jpeg(SOURCES[scene], number))
            if taken is not None:
                os.utime(part, (taken[index], taken[index]))
            part.rename(target / name)

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()


SOURCES: list[bytes] = []


def probe_capacity(args, cluster: cx.Cluster, base: Path, work: Path, seed: int) -> float:
    """The unslowed ring's throughput under `none` with a full queue: 240 frames shaped like the run's (triggers of
    3-10 frames, one camera each) written at once; images/s from the first arrival to the last batch's completion,
    so reading, hashing and cataloguing them counts as it does in the run."""
    ring = Ring(args, cluster, base, work, "none", thermal=False)
    frames = draw(40, 3600, seed + 1000)[:PROBE_IMAGES]
    try:
        start = time.time()
        for n, (_, camera, scene) in enumerate(frames):
            ring.write(Path(f"C{camera:03d}"), [(f"{ringlab.PHOTOS[scene].stem}-{n}.jpg", scene, n)])
        ringlab.wait_for(lambda: ringlab.labelled(ring.catalog) >= WARMUP + PROBE_IMAGES, 300)
    finally:
        ring.stop()
    rows = ringlab.query(
        ring.catalog,
        "SELECT MIN(firstArrival), MAX(completed), SUM(size) FROM batches WHERE firstArrival >= ?",
        (iso(start),),
    )
    first, last, images = rows[0]
    return images / max(1e-9, cx.iso(last) - cx.iso(first))


def iso(seconds: float) -> str:
    return (
        dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(seconds * 1000) % 1000:03d}Z"
    )


def drive(args, ring: Ring, schedule: Schedule, arrivals: list[tuple[float, int, int]]) -> float:
    """Writes each arrival at its time, changes quotas and temperatures on schedule, kills a node on schedule.
    Returns the start time."""
    start = time.time()
    changes = quota_changes(schedule, cx_quotas(args))

    def environment() -> None:
        for at, node, cores, thermal in changes:
            time.sleep(max(0, start + at - time.time()))
            if thermal is not None:
                cx.write_thermal(ring.work / f"sysfs-{NAMES[node]}", *thermal)
            cx.Cluster.set_quota(ring.cluster.cgroups[node], cores)

    threads = [threading.Thread(target=environment)]
    if schedule.kill is not None:
        node, at = schedule.kill

        def killer() -> None:
            time.sleep(max(0, start + at - time.time()))
            ring.processes[NAMES[node]].process.kill()

        threads.append(threading.Thread(target=killer))
    for thread in threads:
        thread.start()
    if schedule.dump:
        frames = dump_frames(schedule)
        for card in range(20):
            mine = [(n, frame) for n, frame in enumerate(frames) if frame[1] % 20 == card]
            ring.write(
                Path(f"card{card:02d}"),
                [(f"{ringlab.PHOTOS[scene].stem}-{n}.jpg", scene, n) for n, (_, _, scene) in mine],
                taken=[start - 7 * 86400 + at for _, (at, _, _) in mine],
            )
    for n, (at, camera, scene) in enumerate(arrivals):
        time.sleep(max(0, start + at - time.time()))
        ring.write(Path(f"C{camera:03d}"), [(f"{ringlab.PHOTOS[scene].stem}-{n}.jpg", scene, n)])
    for thread in threads:
        thread.join()
    return start


def dump_frames(schedule: Schedule) -> list[tuple[float, int, int]]:
    """A dump's frames: twenty cameras' cards, their triggers (3-10 frames each) spread over the week before."""
    week = 7 * 86400
    if not schedule.dump:
        return []
    return draw(1.2 * schedule.dump / week, week, 7)[: schedule.dump]


def cx_quotas(args) -> list[float]:
    return [args.head_quota] + [args.quota] * (len(NAMES) - 1)


def measure(policy: str, ring: Ring, start: float, schedule: Schedule, args, truth: dict, count: int) -> dict:
    """The run's measures from the head's catalog (batches whose first photo arrived after the start)."""
    rows = ringlab.query(
        ring.catalog,
        "SELECT completed, firstArrival, latencyMs, met, size, levels FROM batches WHERE firstArrival >= ? "
        "ORDER BY completed",
        (iso(start),),
    )
    batches = [
        {
            "completed": cx.iso(c) - start,
            "firstArrival": cx.iso(f) - start,
            "latencyMs": latency,
            "met": bool(met),
            "size": size,
            "levels": json.loads(levels),
        }
        for c, f, latency, met, size, levels in rows
    ]
    labels = ringlab.query(
        ring.catalog,
        "SELECT m.fileName, o.classIndex, o.observationType, o.scientificName FROM observations o "
        "JOIN media m ON m.mediaID = o.mediaID WHERE m.fileName NOT LIKE 'warm-%'",
    )
    agree = [truth[name.rsplit("-", 1)[0] + ".jpg"][0] == index for name, index, _, _ in labels]
    written = [truth[name.rsplit("-", 1)[0] + ".jpg"][1] == (kind, taxon) for name, _, kind, taxon in labels]
    window = schedule.slowed
    in_window = sum(b["size"] for b in batches if window[0] <= b["completed"] < window[1])
    latencies = sorted(b["latencyMs"] for b in batches)

    def percentile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")

    def missed_after(t0: float) -> int:
        """Missed batches from the first miss after t0 (within 10 s of it) until one meets its deadline."""
        after = [b for b in batches if b["completed"] >= t0]
        first = next((i for i, b in enumerate(after) if not b["met"] and b["completed"] < t0 + 10), None)
        if first is None:
            return 0
        run = 0
        for b in after[first:]:
            if b["met"]:
                break
            run += 1
        return run

    events = ringlab.query(
        ring.catalog,
        "SELECT at, kind, node, levels, reason FROM controller_events WHERE at >= ? ORDER BY eventID",
        (iso(start),),
    )
    timings = subprocess.run(
        [str(ringlab.BINARY), "timings", "--json", "--catalog", str(ring.catalog), "--since", iso(start)[:19]],
        check=False,
        capture_output=True,
        text=True,
    )
    # Batches include frames labelled again once their burst closed: count photos, not batch slots.
    labelled = ringlab.query(
        ring.catalog, "SELECT COUNT(*) FROM media WHERE status = 'labeled' AND fileName NOT LIKE 'warm-%'"
    )[0][0]
    slots = sum(b["size"] for b in batches)
    span = (max(b["completed"] for b in batches) - min(b["firstArrival"] for b in batches)) if batches else 0
    level_changes = sum(1 for e in events if e[1] == "levels")
    return {
        "policy": policy,
        "arrivals": count,
        "labelled": labelled,
        "batches": len(batches),
        "throughputSlowedImagesPerSecond": in_window / (window[1] - window[0]) if schedule.slow else None,
        "relabelled": slots - labelled,
        "throughputImagesPerSecond": slots / span if span > 0 else 0,
        "sloAttainment": sum(b["met"] for b in batches) / len(batches) if batches else 0,
        "latencyMs": {"p50": percentile(0.5), "p95": percentile(0.95), "p99": percentile(0.99)},
        "top1Agreement": sum(agree) / len(agree) if agree else float("nan"),
        "writtenLabelAgreement": sum(written) / len(written) if written else float("nan"),
        "missedAfterStart": max((missed_after(s) for s, _ in schedule.windows), default=0),
        "missedAfterEnd": max((missed_after(e) for _, e in schedule.windows), default=0),
        "levelChanges": level_changes,
        "levelChangesPerEpisode": level_changes / max(1, len(schedule.windows)),
        "boundaryMoves": sum(1 for e in events if e[1] == "boundaries"),
        "headTimings": json.loads(timings.stdout) if timings.returncode == 0 else None,
        "series": [
            {"t": b["completed"], "latencyMs": b["latencyMs"], "levels": b["levels"], "met": b["met"]} for b in batches
        ],
        "events": [list(e) for e in events],
    }


def plot(results: list[dict], schedule: Schedule, args, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(results), 2, figsize=(13, 3.0 * len(results)), squeeze=False)
    for row, result in enumerate(results):
        series = result["series"]
        t = [s["t"] for s in series]
        latency, level = axes[row]
        latency.plot(t, [s["latencyMs"] / 1000 for s in series], ".", markersize=3)
        latency.axhline(args.slo, color="red", linewidth=0.8)
        latency.set_ylabel("batch latency (s)")
        latency.set_title(f"{result['policy']}: SLO met {100 * result['sloAttainment']:.0f}%")
        for slice_index in range(len(NAMES)):
            level.step(
                t,
                [cx.plotted_level(s["levels"][slice_index]) if s["levels"] else 0 for s in series],
                where="post",
                label=NAMES[slice_index],
            )
        level.set_ylim(-0.05, 1.05)
        level.set_ylabel("prune level")
        level.set_title(f"top-1 agreement {100 * result['top1Agreement']:.1f}%")
        for axis in (latency, level):
            for start, end in schedule.windows:
                axis.axvspan(start, end, color="orange", alpha=0.12)
            if schedule.kill is not None:
                axis.axvline(schedule.kill[1], color="black", linestyle="--", linewidth=0.8)
            axis.set_xlabel("seconds into the run")
        level.legend(loc="upper right", fontsize=7)
    figure.tight_layout()
    figure.savefig(out, dpi=80)


def node_capacities(base: Path) -> dict[str, float]:
    """Each node's own capacity, images/s: the whole network at full width, batch 8, from its profile (the sum of
    its slices' profiled times), under the node's quota."""
    out = {}
    for name in NAMES:
        profile = json.loads((base / f"profile-{name}.json").read_text())
        total = 0.0
        for slice_profile in profile["slices"]:
            row = slice_profile["batchSizes"].index(8)
            total += slice_profile["serviceMs"][row][0]
        out[name] = 8 * 1000 / total
    return out


def summarise(per_rep: list[list[dict]]) -> dict:
    """Mean and range over the repetitions, per policy, of the headline measures."""
    keys = [
        "sloAttainment",
        "throughputSlowedImagesPerSecond",
        "throughputImagesPerSecond",
        "top1Agreement",
        "writtenLabelAgreement",
        "missedAfterStart",
        "missedAfterEnd",
        "levelChangesPerEpisode",
        "boundaryMoves",
    ]
    policies = [r["policy"] for r in per_rep[0]]
    out = {}
    for policy in policies:
        runs = [next(r for r in rep if r["policy"] == policy) for rep in per_rep]
        out[policy] = {}
        for key in keys:
            values = [r[key] for r in runs if r[key] is not None]
            if values:
                out[policy][key] = {
                    "mean": statistics.fmean(values),
                    "min": min(values),
                    "max": max(values),
                    "runs": values,
                }
        out[policy]["p95LatencyMs"] = {"runs": [r["latencyMs"]["p95"] for r in runs]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--schedules", default=",".join(SCHEDULES))
    parser.add_argument("--policies", default="none,adaptive,adaptive-floor97")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--load", type=float, default=0.7, help="arrivals as a share of the probed capacity")
    parser.add_argument("--quota", type=float, default=0.4, help="CPU cores per worker node")
    parser.add_argument("--head-quota", type=float, default=0.6, help="CPU cores of the head")
    parser.add_argument("--slo", type=float, default=3)
    parser.add_argument("--max-wait", type=float, default=0.5)
    parser.add_argument("--drain", type=float, default=45)
    parser.add_argument("--profile-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1, help="repetition k uses seed + k")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    photos = cx.small_photos(args.out / "photos")
    ringlab.PHOTOS[:] = photos
    SOURCES[:] = [p.read_bytes() for p in photos]
    truth = cx.unpruned_labels(photos)
    cluster = cx.Cluster()
    cluster.up(cx_quotas(args))
    policies = args.policies.split(",")
    overall: dict = {}
    try:
        init = args.out / "init.yaml"
        nodes = [(name, address, 7401) for name, address in zip(NAMES, cluster.addresses, strict=True)]
        ringlab.write_config(init, args.out, nodes)
        cx.sh(str(ringlab.BINARY), "ring", "init", "--config", str(init))
        cx.profile_nodes(cluster, init, args.out, args.profile_runs)
        capacities = node_capacities(args.out)
        probed: dict[int, float] = {}
        for name in args.schedules.split(","):
            schedule = SCHEDULES[name]
            per_rep = []
            for rep in range(args.repetitions):
                seed = args.seed + rep
                folder = args.out / name / f"rep{rep + 1}"
                folder.mkdir(parents=True)
                if schedule.dump:
                    capacity, arrivals = None, []
                else:
                    # One probe per repetition, shared by its schedules (the unslowed ring is the same).
                    if seed not in probed:
                        probed[seed] = probe_capacity(args, cluster, args.out, args.out / f"probe-rep{rep + 1}", seed)
                    capacity = probed[seed]
                    arrivals = camera_arrivals(args.load * capacity, schedule.duration, seed)
                order = policies[rep % len(policies) :] + policies[: rep % len(policies)]
                if schedule.dump:
                    # A dump is judged on throughput alone, under the default policy.
                    order = ["adaptive"]
                results = []
                for policy in order:
                    ring = Ring(args, cluster, args.out, folder / policy, policy, thermal=schedule.ramp > 0)
                    try:
                        start = drive(args, ring, schedule, arrivals)
                        total = len(dump_frames(schedule)) + len(arrivals)
                        # A dump needs time to drain at any rate the ring can reach (10 images/s at the least).
                        drain = max(args.drain, schedule.dump / 10)
                        ringlab.wait_for(lambda r=ring, n=total: ringlab.labelled(r.catalog) >= WARMUP + n, drain)
                    finally:
                        for cgroup, quota in zip(cluster.cgroups, cx_quotas(args), strict=True):
                            cx.Cluster.set_quota(cgroup, quota)
                        ring.stop()
                    result = measure(policy, ring, start, schedule, args, truth, total)
                    result["order"] = order.index(policy)
                    results.append(result)
                    print(
                        f"{name} rep{rep + 1} {policy}: {result['labelled']}/{total} labelled, SLO "
                        f"{100 * result['sloAttainment']:.1f}%, throughput {result['throughputImagesPerSecond']:.1f}/s"
                        f", agreement {100 * result['top1Agreement']:.1f}%, level changes {result['levelChanges']}, "
                        f"moves {result['boundaryMoves']}",
                        flush=True,
                    )
                results.sort(key=lambda r: policies.index(r["policy"]) if r["policy"] in policies else -1)
                document = {
                    "schedule": name,
                    "seed": seed,
                    "capacityImagesPerSecond": capacity,
                    "arrivalRateImagesPerSecond": len(arrivals) / schedule.duration if arrivals else None,
                    "arrivals": arrivals,
                    "results": results,
                }
                (folder / "results.json").write_text(json.dumps(document, indent=1))
                plot(results, schedule, args, folder / "timeline.png")
                per_rep.append(results)
                for policy in order:
                    shutil.rmtree(folder / policy / "inbox", ignore_errors=True)
            for seed, _ in probed.items():
                shutil.rmtree(args.out / f"probe-rep{seed - args.seed + 1}" / "inbox", ignore_errors=True)
            summary = {
                "schedule": name,
                "capacities": {f"rep{seed - args.seed + 1}": value for seed, value in probed.items()},
                "settings": vars(schedule) | {"windows": schedule.windows},
                "policies": summarise(per_rep),
                "nodeCapacities": capacities,
                "sumOfCapacities": sum(capacities.values()),
            }
            (args.out / name / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
            overall[name] = summary
    finally:
        cluster.down()
    (args.out / "summary.json").write_text(
        json.dumps(
            {
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip(),
                "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                "schedules": overall,
            },
            indent=1,
            default=str,
        )
    )
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()
