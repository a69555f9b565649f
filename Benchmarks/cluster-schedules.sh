#!/usr/bin/env bash
# Issue 18's experiment: every schedule, each under the five policies, one folder per schedule (results.json,
# timeline.png, summary.json), and a table per schedule on stdout. Run as root; about 13 minutes per schedule.
#   sudo Benchmarks/cluster-schedules.sh [OUT] [SCHEDULES]
# SCHEDULES is a comma-separated subset of: current, rate-high, two-slowed, head-slowed, thermal, killed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-Benchmarks/results/schedules-$(date -u +%Y%m%dT%H%M%SZ)}
only=${2:-current,rate-high,two-slowed,head-slowed,thermal,killed}
# 90 s per run: the slowdown from 10 to 65 s, then a 5 s burst that doubles arrivals. 12 images/s is what the
# unslowed ring carries with room to spare; 16 is more than it carries with a node slowed to a third, even with
# its work moved.
common=(--policies none,static,repartition,adaptive,adaptive-floor97 --duration 90 --rate 12
    --slow-start 10 --slow-end 65 --burst-start 75 --burst-end 80 --drain 45)
run() {
    local name=$1
    shift
    [[ ",$only," == *",$name,"* ]] || return 0
    echo "== $name"
    bash Benchmarks/cluster-experiment.sh "${common[@]}" --out "$out/$name" "$@"
    python3 Benchmarks/ring/experiment_summary.py "$out/$name"
}
# The static policy's levels are chosen offline for each schedule: the slowed slices pruned about as much as
# they are slowed (the options are 0, 0.25, 0.5 and 0.75 of the expanded channels).
run current --slow-node 2 --slow-factor 0.33 --static 0,0,0.5,0
run rate-high --slow-node 2 --slow-factor 0.33 --static 0,0,0.5,0 --rate 16
run two-slowed --slow-node 1,2 --slow-factor 0.5,0.33 --static 0,0.25,0.5,0
run head-slowed --slow-node 0 --slow-factor 0.5 --static 0.5,0,0,0
run thermal --slow-node 2 --slow-factor 0.33 --ramp 60 --duration 120 --slow-end 95 --burst-start 105 \
    --burst-end 110 --static 0,0,0.5,0
run killed --slow-node 2 --slow-factor 0.5 --kill-node 3 --kill-at 30 --static 0,0,0.5,0
echo "results in $out"
