#!/usr/bin/env bash
# trapline's engine against onnxruntime on the same weights (the bundled model exported to ONNX), at 224x224,
# batch 1, 2, 4 and 8, 1 and 2 threads, with the floor of the network's GEMMs alone, the two runtimes alternating for several passes on this machine; trapline at
# every prune level; the cost of switching level between calls; and where the time goes, unit by unit.
#   Benchmarks/inference.sh [ROUNDS] [PASSES]
set -euo pipefail
cd "$(dirname "$0")"
rounds=${1:-10}
passes=${2:-3}
model=../Models/efficientnet-lite0.safetensors

../scripts/setup.sh --test >&2
swift build -c release --quiet --product inference-bench
mkdir -p results
onnx=results/efficientnet-lite0.onnx
[[ -f $onnx && $onnx -nt $model ]] || PYTHONPATH=../Training python3 -m trapline_training.export_onnx --model "$model" --out "$onnx" >&2
out=results/inference-$(date -u +%Y%m%dT%H%M%SZ).jsonl
: >"$out"
for ((pass = 1; pass <= passes; pass++)); do
  for threads in 1 2; do
    echo "pass $pass of $passes, $threads thread(s)" >&2
    cpus=0
    [[ $threads == 2 ]] && cpus=0,1
    OPENBLAS_NUM_THREADS=$threads taskset -c "$cpus" .build/release/inference-bench "$model" "$rounds" "$threads" 1 2 4 8 >>"$out"
    OMP_NUM_THREADS=$threads taskset -c "$cpus" python3 inference_ort.py "$onnx" "$rounds" "$threads" 1 2 4 8 >>"$out"
    OPENBLAS_NUM_THREADS=$threads taskset -c "$cpus" .build/release/inference-bench "$model" "$rounds" "$threads" \
      --gemm-floor 1 2 4 8 >>"$out"
  done
done
OPENBLAS_NUM_THREADS=1 taskset -c 0 .build/release/inference-bench "$model" "$rounds" 1 --switch >>"$out"
OPENBLAS_NUM_THREADS=1 taskset -c 0 .build/release/inference-bench "$model" "$rounds" 1 --layers >>"$out"
python3 inference_report.py "$out"
