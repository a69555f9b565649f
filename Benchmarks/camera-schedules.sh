#!/usr/bin/env bash
# The ring experiment at a camera's pace (successor of cluster-schedules.sh): the emulated 4-Pi ring, camera
# triggers at 70% of the capacity each repetition probes, the slowdown schedules and a memory-card dump, every
# policy three times (docs/experiment.md). Run as root; about 20 minutes per schedule.
#   sudo Benchmarks/camera-schedules.sh [OUT] [SCHEDULES] [REPETITIONS]
# SCHEDULES is a comma-separated subset of: one-third, two-overlap, head-half, thermal, kill-slow, dump.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: it creates network namespaces and cgroups" >&2; exit 1; }
scripts/setup.sh --bench
swift build -c release --quiet --product trapline
out=${1:-Benchmarks/results/camera-$(date -u +%Y%m%dT%H%M%SZ)}
only=${2:-one-third,two-overlap,head-half,thermal,kill-slow,dump}
python3 Benchmarks/ring/camera_experiment.py --out "$out" --schedules "$only" --repetitions "${3:-3}"
python3 Benchmarks/ring/camera_report.py "$out" | tee "$out/report.md"
