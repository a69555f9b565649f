#!/usr/bin/env bash
# Everything CI checks: installs what is missing, builds, lints the formatting, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test
swift build --quiet
# Nothing from full Foundation or ICU in trapline (it would add 34 MB of ICU data to the static binary).
scripts/check-foundation.sh .build/debug/trapline
# The generated gRPC code (Sources/Ring/Generated) is protoc's, not ours to format.
find Sources Tests Benchmarks/Sources Benchmarks/RingTransport Fuzz -name '*.swift' -not -path '*/Generated/*' -print0 |
    xargs -0 swift format lint --strict Package.swift Benchmarks/Package.swift
(cd Training && python3 -m ruff check . && python3 -m ruff format --check . >/dev/null)
(cd Benchmarks && python3 -m ruff check ring faults footprint && python3 -m ruff format --check ring faults footprint >/dev/null)
(cd Tests/Reference && python3 -m ruff check . && python3 -m ruff format --check . >/dev/null)
(cd Tests/Arm64 && python3 -m ruff check . && python3 -m ruff format --check . >/dev/null)
# The README's local-ring lines, as written, in a fresh copy of the checkout (fixed ports 7401-7404, 7501-7504).
ring_log=$(mktemp)
Tests/Readme/local-ring.sh .build/debug/trapline >"$ring_log" 2>&1 || { tail -n 40 "$ring_log"; exit 1; }
tail -n 1 "$ring_log"
rm -f "$ring_log"
# The Python side first: the converter, the golden outputs and the model's reference implementation.
(cd Training && OMP_NUM_THREADS=1 python3 -m pytest -q 2>&1 | tail -n 3)
# The Camtrap DP validator the export test relies on: the official example passes it, broken copies do not.
(cd Tests/Reference && python3 -m pytest -q -p no:cacheprovider . 2>&1 | tail -n 3)
# The committed fuzz corpus replays through each target without a crash.
for target in exif jpeg model ring; do .build/debug/trapline-fuzz "$target" Fuzz/corpus/"$target"/*; done
# A short coverage-guided run of each target (libFuzzer, its own instrumented build in .build-fuzz): a crash, a
# timeout or an out-of-memory fails the run and leaves the input in Fuzz/findings/. The corpus is left alone.
scripts/fuzz.sh --seconds 20 --no-merge
arm64_failed=0
# The Raspberry Pi's packages: cross-built for arm64 (the toolchain and build are cached outside the checkout),
# installed, upgraded and purged in an emulated trixie root, then checked under qemu-user on a Pi 4's and a Pi 5's
# CPU. The arm64 Swift suites run apart (scripts/arm64/test-suites.sh; docs/packaging.md says why).
# TRAPLINE_SKIP_ARM64=1 leaves this out while working on something else; CI never sets it.
if [[ ${TRAPLINE_SKIP_ARM64:-} != 1 ]]; then
  arm64_log=$(mktemp)
  arm64_status=0
  { scripts/build-deb-arm64.sh && scripts/check-deb.sh --arch arm64 &&
    scripts/arm64/test-emulated.sh .build/debug/trapline; } >"$arm64_log" 2>&1 || arm64_status=$?
  grep -E '^(PASS|FAIL) |^  (kernels|labels):|^mixed-ring.sh:|built in|^-r|checks? (passed|failed)' "$arm64_log" || true
  if ((arm64_status)); then
    tail -n 40 "$arm64_log"
    echo "arm64: FAILED (exit $arm64_status); the whole log: $arm64_log"
    arm64_failed=1
  else
    echo "arm64: packages built, installed and checked under emulation"
    rm -f "$arm64_log"
  fi
fi
# One BLAS thread: tests check results, not speed, and 2-core machines are shared.
set +e
# Passing tests print two lines each; keep failures, suite results and the closing "Test run with" line.
OPENBLAS_NUM_THREADS=1 swift test 2>&1 | grep -v -E '^\[[0-9]+/[0-9]+\]|^◇ |^✔ Test [^r]|^✔ Test r[^u]'
status=${PIPESTATUS[0]}
((arm64_failed)) && echo "arm64 checks failed (above)" && exit 1
exit "$status"
