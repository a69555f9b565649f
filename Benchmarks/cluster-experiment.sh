#!/usr/bin/env bash
# The cluster experiment (issue 7): an emulated 4-Pi ring in network namespaces under CPU quotas, the real
# arrival trace, a node slowed down and a burst, once per policy. Run as root. Results, plot and JSON under
# Benchmarks/results/cluster-<time>/.
#   sudo Benchmarks/cluster-experiment.sh [extra arguments for ring/cluster_experiment.py]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: it creates network namespaces and cgroups" >&2; exit 1; }
scripts/setup.sh --bench
swift build -c release --quiet --product trapline
out=Benchmarks/results/cluster-$(date -u +%Y%m%dT%H%M%SZ)
python3 Benchmarks/ring/cluster_experiment.py --out "$out" \
    --policies none,static,adaptive,adaptive-floor97 --static 0,0,0.75,0 \
    --duration 150 --rate 26 --slow-factor 0.2 --slow-start 20 --slow-end 100 --burst-start 115 --burst-end 125 "$@"
