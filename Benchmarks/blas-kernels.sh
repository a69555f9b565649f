#!/usr/bin/env bash
# What the OpenBLAS kernel choice is worth to the engine on this machine: the kernel trapline runs (OpenBLAS's
# own choice, or trapline's where OpenBLAS fell back) against the generic Prescott kernels that Debian's OpenBLAS
# 0.3.21 falls back to on CPUs it does not recognise (docs/blas.md), and against Haswell's AVX2 kernels.
# Side by side in one run, alternating, one thread pinned to one core, level 0, batch 1 and 8.
#   Benchmarks/blas-kernels.sh [ROUNDS] [PASSES]
set -euo pipefail
cd "$(dirname "$0")"
rounds=${1:-10}
passes=${2:-3}
model=../Models/efficientnet-lite0.safetensors
swift build -c release --quiet --product inference-bench
out=$(mktemp)
for ((pass = 1; pass <= passes; pass++)); do
  for kernel in auto Prescott Haswell; do
    env=(OPENBLAS_NUM_THREADS=1)
    [[ $kernel != auto ]] && env+=(OPENBLAS_CORETYPE=$kernel)
    env "${env[@]}" taskset -c 0 .build/release/inference-bench "$model" "$rounds" 1 1 8 >"$out.rows"
    chosen=$(sed -n 's/^OpenBLAS kernel //p' "$out.rows")
    grep '^{' "$out.rows" | sed "s/^{/{\"kernel\": \"$kernel\", \"chosen\": \"${chosen%% *}\", /" >>"$out"
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{") and '"level": 0.0' in line]
print("kernel    runs as      batch  img/s   over Prescott")
for batch in (1, 8):
    speed = {}
    for kernel in ("auto", "Prescott", "Haswell"):
        picked = [r for r in rows if r["kernel"] == kernel and r["batch"] == batch]
        speed[kernel] = batch * 1000 / statistics.median(r["ms"] for r in picked)
        speed[kernel, "as"] = picked[0]["chosen"]
    for kernel in ("auto", "Prescott", "Haswell"):
        ratio = speed[kernel] / speed["Prescott"]
        print(f"{kernel:9} {speed[kernel, 'as']:12} {batch:5}  {speed[kernel]:6.1f}  {ratio:.2f}x")
PY
rm -f "$out" "$out.rows"
