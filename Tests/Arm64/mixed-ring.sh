#!/usr/bin/env bash
# A mixed ring: an amd64 head and two arm64 workers under qemu-user (one emulating a Pi 4's Cortex-A72, one a
# Pi 5's Cortex-A76), under mutual TLS on loopback, label the README's local-ring photos (darknet's samples).
# Passes when every photo is labelled, every batch went through both arm64 workers (their compute time is in
# the batch's nodeTimings), and each photo's written label equals what `trapline classify` (amd64) writes.
# Whole-frame labels (labels.localise: false): the photos are unrelated scenes, not bursts.
#   Tests/Arm64/mixed-ring.sh AMD64_TRAPLINE ARM64_TRAPLINE SYSROOT      (ports 7421-7423, 7521-7523)
set -euo pipefail
amd64=$(realpath "$1")
arm64=$(realpath "$2")
sysroot=$(realpath "$3")
repo=$(cd "$(dirname "$0")/../.." && pwd)
model=$repo/Models/efficientnet-lite0.safetensors
work=$(mktemp -d /tmp/trapline-mixed-ring.XXXXXX)
pids=()
# shellcheck source=Tests/Shell/nodes.sh
source "$repo/Tests/Shell/nodes.sh"
cleanup() {
  stop_nodes 20 "${pids[@]}"
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "mixed-ring.sh: FAILED: $1" >&2
  for log in "$work"/node-*.log; do [[ -e $log ]] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }; done
  exit 1
}
cd "$work"
export OPENBLAS_NUM_THREADS=1
for port in 7421 7422 7423 7521 7522 7523; do
  ! ss -Hltn "sport = :$port" 2>/dev/null | grep -q . || fail "port $port is taken"
done
cat >ring.yaml <<EOF
watch:
  folder: $work/inbox
  settleSeconds: 1
catalog:
  path: $work/catalog.db
model:
  path: $model
batch:
  maxSize: 8
  maxWaitSeconds: 1
  sloSeconds: 60
labels:
  localise: false
http:
  listen: "off"
control:
  policy: none
ring:
  nodes: ["head=127.0.0.1:7421", "pi4=127.0.0.1:7422", "pi5=127.0.0.1:7423"]
  credentials: $work/credentials
  probeTimeoutSeconds: 5
  failAfter: 10
EOF
"$amd64" ring init --config ring.yaml >/dev/null
declare -A cpu=([pi4]=cortex-a72 [pi5]=cortex-a76)
for node in pi4 pi5; do
  # LD_LIBRARY_PATH: the sysroot's libopenblas.so.0 links through /etc/alternatives, which qemu's prefix skips.
  env QEMU_CPU="${cpu[$node]}" QEMU_LD_PREFIX="$sysroot" LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu/openblas-pthread \
    "$arm64" run --config ring.yaml --node "$node" \
    >"node-$node.log" 2>&1 &
  pids+=($!)
done
# The head starts once both workers listen, so no batch is planned around a worker still starting.
for port in 7422 7423; do
  for _ in $(seq 180); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 1; done
  ss -Hltn "sport = :$port" | grep -q . || fail "the arm64 worker on port $port did not start within 3 minutes"
done
"$amd64" run --config ring.yaml --node head >node-head.log 2>&1 &
pids+=($!)
for _ in $(seq 120); do [[ -d inbox ]] && grep -q scanning node-head.log && break; sleep 1; done
photos=(/usr/share/darknet/data/*.jpg)
cp "${photos[@]}" inbox/
labelled=0
for _ in $(seq 600); do
  labelled=$(sqlite3 catalog.db "select count(*) from media where status = 'labeled'" 2>/dev/null || echo 0)
  ((labelled >= ${#photos[@]})) && break
  sleep 1
done
((labelled >= ${#photos[@]})) || fail "only $labelled of ${#photos[@]} photos labelled within 10 minutes"

# Every batch went through both arm64 workers.
batches=$(sqlite3 catalog.db 'select count(*) from batches')
through=$(sqlite3 catalog.db "select count(*) from batches where nodeTimings like '%\"pi4.compute\"%' and nodeTimings like '%\"pi5.compute\"%'")
echo "mixed-ring.sh: ${#photos[@]} photos in $batches batches, $through of them computed on pi4 and pi5 (arm64)"
((batches >= 1 && through == batches)) || fail "$((batches - through)) batches did not go through both arm64 workers"

# The ring's written labels against classify's.
sqlite3 -separator '|' catalog.db "select m.fileName, o.observationType, coalesce(o.scientificName, ''),
  coalesce(o.taxonRank, ''), coalesce(o.vernacularName, '') from observations o join media m using (mediaID)
  where o.mediaID is not null order by m.fileName" >ring.txt
"$amd64" classify --json --model "$model" "${photos[@]}" | python3 -c '
import json, os, sys
for image in sorted(json.load(sys.stdin)["images"], key=lambda i: os.path.basename(i["path"])):
    label = image.get("label") or {}
    fields = [os.path.basename(image["path"]), image["observationType"]]
    fields += [label.get(key) or "" for key in ("scientificName", "taxonRank", "vernacularName")]
    print("|".join(fields))' >classify.txt
if ! diff classify.txt ring.txt >labels.diff; then
  cat labels.diff
  fail "the ring's labels differ from classify's"
fi
echo "mixed-ring.sh: all ${#photos[@]} labels equal classify's"
