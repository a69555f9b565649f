#!/usr/bin/env bash
# The arm64 checks on the packaged arm64 binary under qemu-user, emulating a Raspberry Pi 4 (Cortex-A72) and a
# Pi 5 (Cortex-A76):
#  1. OpenBLAS's and trapline's kernel choice on each CPU, and that every kernel trixie's OpenBLAS offers either
#     runs there or is replaced by trapline (none is kept that would die of SIGILL); with --full, each kernel is
#     also run forced, trapline's check switched off, to show which ones trap (Tests/Arm64/kernels.py);
#  2. the written labels of the label-evaluation photos, equal to the amd64 binary's (Tests/Arm64/labels.py): every
#     fourth photo, or with --full all 142;
#  3. a mixed ring: an amd64 head and two arm64 workers label the README's local-ring photos as `classify` does.
# The test command runs it without --full: an emulated core classifies about one real photo in 3.5 s, and the whole
# set on both CPUs with the forced kernels adds about 20 minutes. scripts/arm64/test-suites.sh runs it with --full.
#   scripts/arm64/test-emulated.sh [--full] [AMD64_TRAPLINE]   (default .build/debug/trapline; run as root after
#                                                              scripts/build-deb-arm64.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
# shellcheck source=scripts/arm64/lib.sh
source scripts/arm64/lib.sh
full=0
if [[ ${1:-} == --full ]]; then full=1; shift; fi
amd64=$(realpath "${1:-.build/debug/trapline}")
[[ -x $amd64 ]] || { echo "test-emulated.sh: no amd64 trapline at $amd64 (build first)" >&2; exit 1; }
sysroot=$arm64_cache/sysroot
deb=$(ls -1t dist/trapline_*_arm64.deb 2>/dev/null | head -n 1)
[[ -n $deb && -d $sysroot/usr/lib/aarch64-linux-gnu ]] ||
  { echo "test-emulated.sh: no arm64 package or sysroot: run scripts/build-deb-arm64.sh first" >&2; exit 1; }

work=$(mktemp -d /tmp/trapline-arm64.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
dpkg-deb -x "$deb" "$work/pkg"
arm64=$work/pkg/usr/bin/trapline
model=$repo/Models/efficientnet-lite0.safetensors
echo "test-emulated.sh: $deb under qemu-user $(qemu-aarch64-static --version | head -n 1 | awk '{print $3}')"

failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
# on_cpu CPU CMD...: runs an arm64 program on the emulated CPU. QEMU_CPU and QEMU_LD_PREFIX (not qemu's own
# flags) so that trapline's re-execution of itself, which goes through binfmt_misc, keeps both.
# LD_LIBRARY_PATH: the sysroot's libopenblas.so.0 is an absolute link through /etc/alternatives, which qemu's
# prefix does not follow; the library itself is in openblas-pthread/.
openblas_dir=/usr/lib/aarch64-linux-gnu/openblas-pthread
on_cpu() {
  local cpu=$1; shift
  env QEMU_CPU="$cpu" QEMU_LD_PREFIX="$sysroot" LD_LIBRARY_PATH=$openblas_dir OPENBLAS_NUM_THREADS=1 "$@"
}

# 1. Kernels. Every kernel name trixie's OpenBLAS was built with (its DYNAMIC_LIST, read from the library).
declare -A expected=([cortex-a72]="Raspberry Pi 4" [cortex-a76]="Raspberry Pi 5")
photo=/usr/share/darknet/data/dog.jpg
for cpu in cortex-a72 cortex-a76; do
  version=$(on_cpu "$cpu" "$arm64" --version 2>&1) || { fail "$cpu: trapline --version"; continue; }
  echo "  $cpu (${expected[$cpu]}): $(grep -i 'blas' <<<"$version" | tr '\n' ' ')"
  if on_cpu "$cpu" "$arm64" classify --model "$model" --top 1 "$photo" >/dev/null 2>&1; then
    pass "$cpu: classify with the kernel trapline keeps"
  else
    fail "$cpu: classify with the kernel trapline keeps"
  fi
done
forced=()
((full)) && forced=(--forced)
python3 Tests/Arm64/kernels.py --trapline "$arm64" --sysroot "$sysroot" --model "$model" --photo "$photo" "${forced[@]}" &&
  pass "kernels: every OpenBLAS kernel either runs or is refused, on both CPUs" ||
  fail "kernels: a kernel trapline keeps dies, or one that runs is refused"

# 2. Written labels on the label-evaluation photos, arm64 (both CPUs side by side) against amd64.
every=4
((full)) && every=1
python3 Tests/Arm64/labels.py --amd64 "$amd64" --arm64 "$arm64" --sysroot "$sysroot" --model "$model" --every "$every" &&
  pass "labels: the label-evaluation photos are written alike on amd64 and both arm64 CPUs" ||
  fail "labels: the arm64 binary writes other labels than amd64"

# 3. A mixed ring.
Tests/Arm64/mixed-ring.sh "$amd64" "$arm64" "$sysroot" &&
  pass "mixed ring: an amd64 head and two arm64 workers label the photos as classify does" ||
  fail "mixed ring"

echo
if ((failures)); then echo "test-emulated.sh: $failures check(s) failed"; exit 1; fi
echo "test-emulated.sh: all arm64 checks passed"
