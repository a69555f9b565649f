"""The ring simulator's harness (docs/simulator.md): builds scenarios, runs `ring-sim` (Benchmarks/Sources/ring-sim,
the real Control module on simulated time), and reports.

    python3 Benchmarks/ring/simulate.py calibrate --out DIR RUN [RUN ...]
        Replays real camera_experiment.py runs (RUN: a folder with <schedule>/rep<k>/results.json and the nodes'
        profile-n<k>.json) with the same arrivals and schedules, and compares every policy with the real runs.
    python3 Benchmarks/ring/simulate.py sweep --out DIR [--schedules 200] [--sizes 4,8,16]
        Random schedules on rings of 4, 8 and 16 Pi 4 and Pi 5 nodes, every policy on each.

The node model, the head's work and the links come from a real run (its profiles and `trapline timings`); see
docs/simulator.md for what is modelled and what is not.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import camera_experiment as ce

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR = Path(os.environ.get("RING_SIM", ROOT / "Benchmarks" / ".build" / "release" / "ring-sim"))
POLICIES = ["none", "adaptive", "adaptive-floor97", "repartition"]
NAMES = ce.NAMES
# Values per image entering each unit boundary of EfficientNet-Lite0 at 224x224 (the engine's activation shapes:
# the input, the stem, 16 blocks, the head's logits).
BOUNDARY_VALUES = [
    150_528, 401_408, 200_704, 75_264, 75_264, 31_360, 31_360, 15_680, 15_680, 15_680, 21_952, 21_952, 21_952, 9_408,
    9_408, 9_408, 9_408, 15_680, 1_000,
]  # fmt: skip
PLAN4 = [0, 3, 8, 13, 18]
# The bundled model's measured top-1 agreement with full width per slice of the 4-node plan and option (w1, w0.75,
# w0.5, w0.25, skip): `trapline model info`.
CURVES4 = [
    [1.0, 0.902, 0.805, 0.535, 1.0],
    [1.0, 0.851, 0.661, 0.356, 0.678],
    [1.0, 0.724, 0.389, 0.102, 0.0],
    [1.0, 0.626, 0.241, 0.048, 0.713],
]
# Quotas of the emulated ring (camera_experiment.py defaults): the head 0.6 of a core, each worker 0.4.
HEAD_CORES, WORKER_CORES = 0.6, 0.4
# A Raspberry Pi 5 against a Pi 4: "a 2-3x increase in CPU performance" (Raspberry Pi 5 product brief, 2023); 2.5.
PI5_SPEEDUP = 2.5


def model_curves() -> list[list[float]]:
    """The 4-node plan's curves as `trapline model info` prints them (falls back to CURVES4 without the binary)."""
    try:
        text = subprocess.run(
            [str(ce.ringlab.BINARY), "model", "info"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return CURVES4
    block = text.split("4-node plan", 1)[1].split("5-node plan", 1)[0]
    curves: list[list[float]] = []
    for line in block.splitlines():
        if line.strip().startswith("slice"):
            curves.append([])
        elif "top1-agreement" in line and curves:
            curves[-1].append(float(line.rsplit(" ", 1)[1].rstrip("%")) / 100)
    return curves if len(curves) == 4 else CURVES4


def derived_curves(curves4: list[list[float]], plan: list[int]) -> list[list[float]]:
    """Curves for another plan: each unit keeps its 4-node slice's width fractions raised to its share of that slice
    (log-linear in units, as the appliance derives curves for plans the file was not measured on); a slice keeps
    the product over its units. Skip options were measured for the 4-node plan only and count as keeping nothing."""
    slice_of = [next(s for s in range(4) if PLAN4[s] <= u < PLAN4[s + 1]) for u in range(PLAN4[-1])]
    out = []
    for k in range(len(plan) - 1):
        widths = []
        for option in range(4):
            product = 1.0
            for unit in range(plan[k], plan[k + 1]):
                s = slice_of[unit]
                share = 1 / (PLAN4[s + 1] - PLAN4[s])
                product *= max(curves4[s][option], 1e-9) ** share
            widths.append(product)
        out.append([*widths, 0.0])
    return out


def load_profiles(folder: Path) -> list[list[dict]]:
    """Each node's per-unit profiles (profile-n<k>.json)."""
    return [json.loads((folder / f"profile-{name}.json").read_text())["units"] for name in NAMES]


def head_model(run: dict) -> dict:
    """The head's work per image from a real run's `trapline timings`: the median batch's milliseconds per image of
    each step (a median, so that a batch slowed by a neighbour's work counts less; the simulator adds the sharing)."""
    steps = {step["key"]: step for step in run["headTimings"]["head"]}

    def p50(*keys: str) -> float:
        return sum(steps[k]["p50"] for k in keys if k in steps)

    return {
        "intakeMs": p50("head.read", "head.hash", "head.register"),
        "prepareMs": p50("jpeg.decode", "burst.grayDecode", "burst.localise", "burst.cropDecode"),
        "offloadReadMs": p50("head.offloadRead"),
        "normaliseMs": p50("head.normalise"),
        "labelMs": p50("head.label"),
        "commitMs": p50("head.commit"),
    }


def link_model(run: dict) -> tuple[float, float]:
    """A hop's fixed milliseconds and milliseconds per value, from the workers' link and coding times in a real run
    (per image at the plan's boundaries): the least-squares line through (values, ms per batch)."""
    nodes = {step["key"]: step for step in run["headTimings"]["nodes"]}
    images = run["headTimings"]["images"] / max(1, run["headTimings"]["batches"])
    points = []
    for k, name in enumerate(NAMES[1:], start=1):
        ms = sum(nodes[f"{name}.{part}"]["msPerImage"] for part in ("link", "decode") if f"{name}.{part}" in nodes)
        points.append((BOUNDARY_VALUES[PLAN4[k]] * images, ms * images))
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = max(0.0, sum((x - mean_x) * (y - mean_y) for x, y in points) / spread) if spread else 0.0
    return max(0.0, mean_y - slope * mean_x), slope


def compute_noise(run: dict) -> float:
    """The spread of the workers' compute per image, as the standard deviation of a log-normal: ln(p95 / p50) / 1.645,
    the median over the workers."""
    nodes = {step["key"]: step for step in run["headTimings"]["nodes"]}
    spreads = [
        math.log(nodes[f"{name}.compute"]["p95"] / nodes[f"{name}.compute"]["p50"]) / 1.645
        for name in NAMES[1:]
        if nodes.get(f"{name}.compute", {}).get("p50")
    ]
    return statistics.median(spreads) if spreads else 0.25


def environment(schedule: ce.Schedule, quotas: list[float]) -> tuple[list[dict], list[dict], list[dict]]:
    """The schedule's quota changes, temperatures and kills as the simulator takes them."""
    slowdowns, temperatures = [], []
    for at, node, cores, thermal in ce.quota_changes(schedule, quotas):
        slowdowns.append({"at": at, "node": node, "factor": cores / quotas[node]})
        if thermal is not None:
            celsius, flags = thermal
            temperatures.append({"at": at, "node": node, "celsius": celsius, "throttling": flags == ce.cx.THROTTLING})
    kills = [{"at": schedule.kill[1], "node": schedule.kill[0]}] if schedule.kill else []
    return slowdowns, temperatures, kills


def run_simulator(scenarios: list[dict], work: Path, processes: int = 1) -> list[dict]:
    """Simulates every scenario, in `processes` simulator processes at once. The scenarios are dealt out in a
    shuffled order (seeded), so that no process gets every run of the slowest policy."""
    work.mkdir(parents=True, exist_ok=True)
    order = list(range(len(scenarios)))
    random.Random(len(scenarios)).shuffle(order)
    shares = [[scenarios[i] for i in order[k::processes]] for k in range(processes)]
    running = []
    for k, share in enumerate(shares):
        source, target = work / f"scenarios-{k}.json", work / f"results-{k}.json"
        source.write_text(json.dumps(share))
        running.append((subprocess.Popen([str(SIMULATOR), str(source), str(target)]), source, target))
    parts = []
    for process, source, target in running:
        if process.wait() != 0:
            raise SystemExit(f"ring-sim failed on {source}")
        parts.append(json.loads(target.read_text()))
        source.unlink()
        target.unlink()
    # Put the shares' results back in the scenarios' order.
    results: list[dict] = [{}] * len(scenarios)
    for k, part in enumerate(parts):
        for i, result in zip(order[k::processes], part, strict=True):
            results[i] = result
    return results


# MARK: Calibration


def scaled(base: dict, factor: float) -> dict:
    """The scenario with every node's and the head's work `factor` times as long."""
    nodes = [
        dict(n, units=[dict(u, serviceMs=[[factor * ms for ms in row] for row in u["serviceMs"]]) for u in n["units"]])
        for n in base["nodes"]
    ]
    return dict(base, nodes=nodes, head={k: factor * v for k, v in base["head"].items()}, workFactor=factor)


def probe(base: dict, work: Path) -> float:
    """The simulated ring's capacity as the real probe measures it: 240 photos at once under `none`."""
    scenario = dict(base, name="probe", policy="none", seed=1, arrivals=[0.0] * ce.PROBE_IMAGES, window=None)
    return run_simulator([scenario], work)[0]["throughputImagesPerSecond"]


def fit_to_probe(base: dict, capacity: float, work: Path) -> float:
    """The factor on every work time (``scaled``) that makes the simulated probe measure `capacity` (bisection to
    0.1%): the one parameter fitted, per repetition, on the real probe of that repetition (the machine's speed
    drifts between runs by up to 10%); nothing is fitted on the measures compared."""
    low, high = 0.5, 2.0
    while high - low > 0.001:
        middle = (low + high) / 2
        if probe(scaled(base, middle), work) > capacity:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def arrival_times(document: dict) -> list[float]:
    """A real run's arrival times: recorded in its results, or, in runs that recorded only their count, drawn again
    from the run's seed and probed capacity (the first draw, as runs before the 2% rule took, or the draw within 2%
    of the target); the count must match the recorded one."""
    if isinstance(document["arrivals"], list):
        return [a[0] for a in document["arrivals"]]
    rate = 0.7 * document["capacityImagesPerSecond"]
    for drawn in (ce.draw(rate, 70, document["seed"]), ce.camera_arrivals(rate, 70, document["seed"])):
        if len(drawn) == document["arrivals"]:
            return [a[0] for a in drawn]
    raise SystemExit(f"cannot draw the arrivals of {document['schedule']} seed {document['seed']} again")


def calibration_scenarios(run_folder: Path, base: dict, work: Path) -> list[tuple[str, int, dict]]:
    """(schedule, repetition, scenario) for every policy of every repetition of every schedule in a real run, each
    repetition's work fitted to its own probe."""
    out = []
    factors: dict[float, float] = {}
    for results_file in sorted(run_folder.glob("*/rep*/results.json")):
        document = json.loads(results_file.read_text())
        name = document["schedule"]
        schedule = ce.SCHEDULES[name]
        if schedule.dump:
            continue
        rep = int(results_file.parent.name.removeprefix("rep"))
        slowdowns, temperatures, kills = environment(schedule, [HEAD_CORES] + [WORKER_CORES] * 3)
        capacity = document["capacityImagesPerSecond"]
        if capacity not in factors:
            factors[capacity] = fit_to_probe(base, capacity, work)
        factor = factors[capacity]
        for result in document["results"]:
            scenario = scaled(base, factor)
            scenario.update(
                name=f"{name}/rep{rep}/{result['policy']}",
                policy=result["policy"],
                seed=1000 * rep + POLICIES.index(result["policy"]),
                arrivals=arrival_times(document),
                window=list(schedule.slowed),
                slowdowns=slowdowns,
                temperatures=temperatures,
                kills=kills,
                series=True,
            )
            out.append((name, rep, scenario))
    return out


def base_scenario(profile_folder: Path, reference: dict) -> dict:
    units = load_profiles(profile_folder)
    fixed, per_value = link_model(reference)
    return {
        "plan": PLAN4,
        "boundaryValues": BOUNDARY_VALUES,
        "nodes": [
            {"name": name, "cores": HEAD_CORES if k == 0 else WORKER_CORES, "units": units[k]}
            for k, name in enumerate(NAMES)
        ],
        "accuracy": model_curves(),
        "head": head_model(reference),
        "linkFixedMs": fixed,
        "linkMsPerValue": per_value,
        "computeNoise": compute_noise(reference),
        "drainSeconds": 45,
        # The experiment's settings (camera_experiment.py) and the appliance's defaults.
        "batchMaxSize": 8,
        "batchMaxWaitSeconds": 0.5,
        "sloSeconds": 3.0,
        "maxInFlight": 3,
        "offload": "auto",
        "drainBatches": 8.0,
        "utilisation": 0.9,
        "relaxAfter": 3,
        "slowdowns": [],
        "temperatures": [],
        "kills": [],
        "series": False,
    }


CRITERIA = {"sloAttainment": 5.0, "p50": 0.15, "p95": 0.15, "levelChanges": 0.30, "boundaryMoves": 0.30}


def compare(real: list[dict], simulated: list[dict]) -> dict:
    """Means over the repetitions of one schedule and policy, real against simulated, with the criteria's verdicts.
    SLO attainment within 5 points; p50 and p95 latency within 15%; level changes and boundary moves within 30%
    (a count of 0 against 0 agrees; within 1 counts as agreeing when the mean is under 3, where 30% is less than a
    single change)."""

    def mean(runs: list[dict], key: str) -> float:
        if key in ("p50", "p95"):
            return statistics.fmean(r["latencyMs"][key] for r in runs)
        return statistics.fmean(r[key] for r in runs)

    out = {}
    for key, tolerance in CRITERIA.items():
        a, b = mean(real, key), mean(simulated, key)
        if key == "sloAttainment":
            gap = 100 * abs(a - b)
            ok = gap <= tolerance
        else:
            gap = abs(a - b) / a if a else (0.0 if b == 0 else math.inf)
            ok = gap <= tolerance or (key in ("levelChanges", "boundaryMoves") and max(a, b) < 3 and abs(a - b) <= 1)

        def runs(results: list[dict], key: str = key) -> list[float]:
            return [r["latencyMs"][key] if key in ("p50", "p95") else r[key] for r in results]

        out[key] = {"real": a, "simulated": b, "gap": gap, "agrees": ok, "realRuns": runs(real)}
        out[key]["simulatedRuns"] = runs(simulated)
    return out


def calibrate(args) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    reference = None
    for folder in args.runs:
        for results_file in sorted(folder.glob("*/rep*/results.json")):
            for result in json.loads(results_file.read_text())["results"]:
                if result["policy"] == "none" and result.get("headTimings"):
                    reference = reference or result
    if reference is None:
        raise SystemExit("no run with head timings to take the head's work from")
    profiles = next((f for f in args.runs if (f / "profile-n0.json").exists()), None)
    if profiles is None:
        raise SystemExit("no run folder holds the nodes' profiles (profile-n0.json ...)")
    base = base_scenario(profiles, reference)
    jobs = []
    for folder in args.runs:
        jobs += [(folder, *job) for job in calibration_scenarios(folder, base, args.out / "work")]
    started = time.time()
    results = run_simulator([j[3] for j in jobs], args.out / "work")
    elapsed = time.time() - started
    real: dict = {}
    simulated: dict = {}
    for (folder, name, rep, scenario), result in zip(jobs, results, strict=True):
        document = json.loads((folder / name / f"rep{rep}" / "results.json").read_text())
        match = next(r for r in document["results"] if r["policy"] == scenario["policy"])
        key = (f"{folder.name}/{name}", scenario["policy"])
        real.setdefault(key, []).append(match)
        simulated.setdefault(key, []).append(result)
    report = {
        "base": {k: v for k, v in base.items() if k not in ("nodes",)},
        "workFactors": {f"{j[0].name}/{j[1]}/rep{j[2]}": j[3]["workFactor"] for j in jobs if j[3]["policy"] == "none"},
        "profiles": str(profiles),
        "seconds": elapsed,
        "comparisons": {f"{k[0]} {k[1]}": compare(real[k], simulated[k]) for k in real},
    }
    (args.out / "calibration.json").write_text(json.dumps(report, indent=1))
    lines = calibration_table(report)
    (args.out / "calibration.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def calibration_table(report: dict) -> list[str]:
    lines = [
        "| schedule, policy | SLO met real / sim | p50 s real / sim | p95 s real / sim | level changes real / sim "
        "| moves real / sim | agrees |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    schedules: dict[str, list[bool]] = {}
    for name, c in report["comparisons"].items():
        ok = all(v["agrees"] for v in c.values())
        schedules.setdefault(name.rsplit(" ", 1)[0], []).append(ok)

        def pair(key: str, scale: float = 1, digits: int = 1, c: dict = c) -> str:
            mark = "" if c[key]["agrees"] else " ✗"
            return f"{scale * c[key]['real']:.{digits}f} / {scale * c[key]['simulated']:.{digits}f}{mark}"

        lines.append(
            f"| {name} | {pair('sloAttainment', 100)}% | {pair('p50', 0.001, 2)} | {pair('p95', 0.001, 2)} "
            f"| {pair('levelChanges')} | {pair('boundaryMoves')} | {'yes' if ok else 'no'} |"
        )
    lines.append("")
    agreeing = [s for s, oks in schedules.items() if all(oks)]
    lines.append(f"Schedules where every policy agrees on every criterion: {len(agreeing)} of {len(schedules)}")
    lines.append(f"({', '.join(agreeing) or 'none'}); simulated in {report['seconds']:.1f} s.")
    return lines


# MARK: The sweep


def even_plan(nodes: int, units: int = 18) -> list[int]:
    return [k * units // nodes for k in range(nodes + 1)]


def sweep_scenarios(size: int, count: int, seed: int, base4: dict) -> list[tuple[int, dict]]:
    """`count` random schedules on a ring of `size` nodes, each run under every policy: nodes Pi 4 or Pi 5 at random
    (the measured emulated node is the Pi 4; a Pi 5 runs PI5_SPEEDUP times faster), arrivals at a camera's pace at
    70% of the unslowed ring's simulated capacity, 1-3 nodes slowed to 0.2-0.7 of their speed at random times for
    random lengths, a worker killed in a quarter of them."""
    generator = random.Random(seed * 1000 + size)
    measured = [n["units"] for n in base4["nodes"]]
    plan = even_plan(size)
    curves = base4["accuracy"] if size == 4 else derived_curves(base4["accuracy"], plan)
    out = []
    for index in range(count):
        speeds = [PI5_SPEEDUP if generator.random() < 0.5 else 1.0 for _ in range(size)]
        nodes = []
        for k in range(size):
            source = measured[0] if k == 0 else measured[1 + (k - 1) % 3]
            units = [
                dict(u, node=f"n{k}", serviceMs=[[ms / speeds[k] for ms in row] for row in u["serviceMs"]])
                for u in source
            ]
            nodes.append({"name": f"n{k}", "cores": HEAD_CORES if k == 0 else WORKER_CORES, "units": units})
        head = {key: value / speeds[0] for key, value in base4["head"].items()}
        duration = 70.0
        slowed = generator.sample(range(size), generator.randint(1, min(3, size)))
        slowdowns = []
        windows = []
        for node in slowed:
            start = generator.uniform(10, 40)
            end = min(duration, start + generator.uniform(10, 40))
            factor = generator.uniform(0.2, 0.7)
            slowdowns += [{"at": start, "node": node, "factor": factor}, {"at": end, "node": node, "factor": 1.0}]
            windows.append((start, end))
        kills = []
        if generator.random() < 0.25:
            kills.append({"at": generator.uniform(20, 50), "node": generator.randrange(1, size)})
        scenario = dict(
            base4,
            plan=plan,
            nodes=nodes,
            head=head,
            accuracy=curves,
            slowdowns=sorted(slowdowns, key=lambda c: c["at"]),
            kills=kills,
            window=[min(s for s, _ in windows), max(e for _, e in windows)],
            seed=seed * 100_000 + size * 1000 + index,
        )
        out.append((index, scenario))
    return out


def probe_rates(scenarios: list[tuple[int, dict]], work: Path, processes: int) -> list[float]:
    """Each scenario's unslowed capacity: 240 images at once under `none`, no slowdowns (as the real probe)."""
    probes = [
        dict(s, name=f"probe/{i}", policy="none", arrivals=[0.0] * 240, slowdowns=[], kills=[], window=None)
        for i, s in scenarios
    ]
    results = run_simulator(probes, work, processes)
    return [r["throughputImagesPerSecond"] for r in results]


def bootstrap(values: list[float], statistic=statistics.median, rounds: int = 2000, seed: int = 7) -> list[float]:
    generator = random.Random(seed)
    if not values:
        return [math.nan, math.nan]
    samples = sorted(statistic([generator.choice(values) for _ in values]) for _ in range(rounds))
    return [samples[int(0.025 * rounds)], samples[int(0.975 * rounds) - 1]]


def sweep(args) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    runs = [Path(r) for r in args.reference]
    reference = None
    for folder in runs:
        for results_file in sorted(folder.glob("*/rep*/results.json")):
            for result in json.loads(results_file.read_text())["results"]:
                if result["policy"] == "none" and result.get("headTimings"):
                    reference = reference or result
    profiles = next(f for f in runs if (f / "profile-n0.json").exists())
    base4 = base_scenario(profiles, reference)
    # The work factor, fitted to the reference runs' probes (their mean), as the calibration fits it.
    capacities = [
        json.loads(f.read_text())["capacityImagesPerSecond"]
        for folder in runs
        for f in folder.glob("*/rep*/results.json")
        if json.loads(f.read_text()).get("capacityImagesPerSecond")
    ]
    base4 = scaled(base4, fit_to_probe(base4, statistics.fmean(capacities), args.out / "work"))
    started = time.time()
    summary: dict = {"seconds": {}, "sizes": {}}
    for size in [int(s) for s in args.sizes.split(",")]:
        t0 = time.time()
        scenarios = sweep_scenarios(size, args.schedules, args.seed, base4)
        rates = probe_rates(scenarios, args.out / "work", args.processes)
        jobs = []
        for (index, scenario), capacity in zip(scenarios, rates, strict=True):
            arrivals = [a[0] for a in ce.camera_arrivals(0.7 * capacity, 70.0, args.seed * 7919 + index)]
            for policy in POLICIES:
                jobs.append((index, dict(scenario, name=f"{size}/{index}/{policy}", policy=policy, arrivals=arrivals)))
        results = run_simulator([j[1] for j in jobs], args.out / "work", args.processes)
        per: dict[int, dict[str, dict]] = {}
        for (index, scenario), result in zip(jobs, results, strict=True):
            per.setdefault(index, {})[scenario["policy"]] = result
        summary["sizes"][str(size)] = summarise_sweep(per)
        summary["seconds"][str(size)] = time.time() - t0
        (args.out / f"runs-{size}.json").write_text(
            json.dumps({str(k): v for k, v in per.items()}, separators=(",", ":"))
        )
    summary["seconds"]["total"] = time.time() - started
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    lines = sweep_table(summary)
    (args.out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    plot_sweep(args.out)


def summarise_sweep(per: dict[int, dict[str, dict]]) -> dict:
    out: dict = {"schedules": len(per), "policies": {}}
    judged = [i for i, r in per.items() if r["none"]["sloAttainment"] < 0.5]
    out["judged"] = len(judged)
    for policy in POLICIES[1:]:
        slo_ratio, met, thr_ratio, agreement, decision = [], [], [], [], []
        for i in judged:
            none, mine = per[i]["none"], per[i][policy]
            slo_ratio.append(mine["sloAttainment"] / max(none["sloAttainment"], 1e-3))
            met.append(mine["sloAttainment"])
            a, b = mine.get("throughputSlowedImagesPerSecond"), none.get("throughputSlowedImagesPerSecond")
            if a is not None and b:
                thr_ratio.append(a / b)
        for i in per:
            agreement.append(per[i][policy]["top1Agreement"])
            decision.append(per[i][policy]["meanDecisionMs"])
        out["policies"][policy] = {
            "sloRatioMedian": statistics.median(slo_ratio) if slo_ratio else math.nan,
            "sloRatioInterval": bootstrap(slo_ratio),
            "sloMetMedian": statistics.median(met) if met else math.nan,
            "sloMetInterval": bootstrap(met),
            "throughputRatioMedian": statistics.median(thr_ratio) if thr_ratio else math.nan,
            "throughputRatioInterval": bootstrap(thr_ratio),
            "meanAgreement": statistics.fmean(agreement),
            "meanAgreementInterval": bootstrap(agreement, statistics.fmean),
            "meanDecisionMs": statistics.fmean(decision),
            "sloRatios": slo_ratio,
        }
    out["noneSloMedianAll"] = statistics.median(r["none"]["sloAttainment"] for r in per.values())
    return out


def sweep_table(summary: dict) -> list[str]:
    lines = [
        "| nodes | judged schedules | policy | SLO ratio vs none, median (95% CI) | SLO met, median (95% CI) "
        "| throughput ratio while slowed, median (95% CI) | mean top-1 agreement (expected) | mean decision ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, s in summary["sizes"].items():
        for policy, p in s["policies"].items():
            lo, hi = p["sloRatioInterval"]
            mlo, mhi = p["sloMetInterval"]
            tlo, thi = p["throughputRatioInterval"]
            lines.append(
                f"| {size} | {s['judged']} of {s['schedules']} | {policy} | {p['sloRatioMedian']:.2f}x "
                f"({lo:.2f}-{hi:.2f}) | {100 * p['sloMetMedian']:.1f}% ({100 * mlo:.1f}-{100 * mhi:.1f}) "
                f"| {p['throughputRatioMedian']:.2f}x ({tlo:.2f}-{thi:.2f}) | {100 * p['meanAgreement']:.1f}% "
                f"| {p['meanDecisionMs']:.3f} |"
            )
    lines.append("")
    lines.append(f"Sweep time: {summary['seconds']['total']:.0f} s in all.")
    return lines


def plot_sweep(out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = json.loads((out / "summary.json").read_text())
    sizes = list(summary["sizes"])
    figure, axes = plt.subplots(1, len(sizes), figsize=(4.5 * len(sizes), 3.6), squeeze=False)
    for axis, size in zip(axes[0], sizes, strict=True):
        policies = summary["sizes"][size]["policies"]
        data = [[min(r, 20) for r in p["sloRatios"]] or [math.nan] for p in policies.values()]
        axis.boxplot(data, tick_labels=list(policies), showfliers=True)
        axis.axhline(3, color="red", linewidth=0.8)
        axis.set_yscale("log")
        axis.set_title(f"{size} nodes: SLO ratio against none (capped at 20)", fontsize=9)
        axis.tick_params(axis="x", labelsize=7)
    figure.tight_layout()
    figure.savefig(out / "slo-ratios.png", dpi=80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("calibrate")
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("runs", type=Path, nargs="+")
    s = sub.add_parser("sweep")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--schedules", type=int, default=200)
    s.add_argument("--sizes", default="4,8,16")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--processes", type=int, default=2, help="simulator processes at once (the machine's cores)")
    s.add_argument("--reference", nargs="+", required=True, help="real run folders for the node and head models")
    args = parser.parse_args()
    if not SIMULATOR.exists():
        sys.exit("build the simulator first: swift build -c release --package-path Benchmarks --product ring-sim")
    calibrate(args) if args.command == "calibrate" else sweep(args)


if __name__ == "__main__":
    main()
