#!/usr/bin/env bash
# Decode + resize to 224x224 of large camera photos: trapline (DCT-scaled), trapline at full resolution, and
# Pillow (draft mode, and full resolution), measured side by side. The Swift and Python runs alternate for
# several passes on the same machine, and the report gives medians and ratios.
#   Benchmarks/imaging.sh [ROUNDS] [PASSES]
set -euo pipefail
cd "$(dirname "$0")"
rounds=${1:-15}
passes=${2:-3}

../scripts/setup.sh --bench
swift build -c release --quiet --product imaging-bench
files=(
  /usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg
  /usr/share/wallpapers/Kite/contents/images/2560x1600.jpg
  /usr/share/wallpapers/Volna/contents/images/5120x2880.jpg
  /usr/share/wallpapers/Shell/contents/images/5120x2880.jpg
)
mkdir -p results
out=results/imaging-$(date -u +%Y%m%dT%H%M%SZ).jsonl
: >"$out"
for ((pass = 1; pass <= passes; pass++)); do
  echo "pass $pass of $passes" >&2
  # One thread each: Pillow decodes on one core, and so does trapline's preparation.
  taskset -c 0 .build/release/imaging-bench "$rounds" "${files[@]}" >>"$out"
  taskset -c 0 python3 imaging_pillow.py "$rounds" "${files[@]}" >>"$out"
done
python3 imaging_report.py "$out"
