#!/usr/bin/env bash
# Builds the coverage-guided fuzzer (libFuzzer) and runs the fuzz targets in Fuzz/TraplineFuzz.swift.
#   scripts/fuzz.sh [--seconds N] [--asan] [--no-merge] [--build-only] [TARGET...]
#     TARGET        exif, jpeg, model or ring (default: all four, one after the other)
#     --seconds N   how long each target runs (default 60); 0 only replays the corpus once
#     --asan        also instrument with AddressSanitizer (build path .build-fuzz-asan; 3 to 4 times slower)
#     --no-merge    leave Fuzz/corpus alone (CI); otherwise new coverage is merged into Fuzz/corpus/TARGET
#     --build-only  build the fuzzer and stop
# Each target starts from Fuzz/corpus/TARGET, writes what it finds to a scratch corpus under the build path, and
# (unless --no-merge) libFuzzer's -merge=1 then copies the inputs that add coverage into Fuzz/corpus/TARGET.
# A crash, a leak (--asan only), a timeout or an out-of-memory stops that target, leaves the input in
# Fuzz/findings/TARGET/ and makes the script exit 1 once the other targets have run. Full libFuzzer logs:
# BUILD_PATH/logs/TARGET.log.
# Replay a finding with the normal build: swift build && .build/debug/trapline-fuzz TARGET FILE.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
asan=0
merge=1
build_only=0
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift ;;
    --asan) asan=1 ;;
    --no-merge) merge=0 ;;
    --build-only) build_only=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    exif|jpeg|model|ring) targets+=("$1") ;;
    *) echo "fuzz.sh: unknown argument $1 (try --help)" >&2; exit 64 ;;
  esac
  shift
done
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds wants a whole number, got $seconds" >&2; exit 64; }
((${#targets[@]})) || targets=(exif jpeg model ring)

# Every Swift and C module the targets use is compiled with libFuzzer's coverage instrumentation (edge counters,
# comparison tracing); the system libjpeg and OpenBLAS are not. -sanitize=fuzzer at compile time only instruments;
# linking it into SwiftPM's executable would clash with SwiftPM's entry point, so the binary is linked below.
sanitizers=fuzzer
clang_sanitizers=fuzzer-no-link
build_path=.build-fuzz
if ((asan)); then
  sanitizers=fuzzer,address
  clang_sanitizers=fuzzer-no-link,address
  build_path=.build-fuzz-asan
fi
# The objects to link: trapline-fuzz's dependencies, in Package.swift and below it.
modules=(Imaging CJPEG Inference RingWire SystemPackage CSystem SwiftProtobuf)

build() {
  echo "fuzz.sh: building the instrumented modules in $build_path (-sanitize=$sanitizers)"
  local flags=(--build-path "$build_path" -Xswiftc "-sanitize=$sanitizers" -Xcc "-fsanitize=$clang_sanitizers")
  swift build --quiet "${flags[@]}" --target trapline-fuzz
  local bin
  bin=$(swift build "${flags[@]}" --show-bin-path)
  local objects=()
  for module in "${modules[@]}"; do
    [[ -d $bin/$module.build ]] || { echo "fuzz.sh: $bin/$module.build is missing" >&2; exit 1; }
    while IFS= read -r -d '' object; do objects+=("$object"); done < <(find "$bin/$module.build" -name '*.o' -print0)
  done
  # The module maps SwiftPM passes when it compiles trapline-fuzz; libFuzzer's main calls our
  # LLVMFuzzerTestOneInput, and the swiftc driver picks the runtime for this machine's architecture. lld (in the
  # toolchain) rather than gold: gold warns about every ASan check symbol it cannot export.
  local openblas
  openblas=$(pkg-config --cflags-only-I openblas)
  # shellcheck disable=SC2086 # pkg-config's -I flags are meant to split
  swiftc -sanitize="$sanitizers" -parse-as-library -D FUZZING -swift-version 6 -g -Onone \
    -module-name TraplineFuzz -I "$bin/Modules" $openblas \
    -Xcc "-fmodule-map-file=$build_path/checkouts/swift-system/Sources/CSystem/include/module.modulemap" \
    -Xcc "-fmodule-map-file=$bin/CJPEG.build/module.modulemap" -Xcc -I -Xcc Sources/CJPEG/include \
    -Xcc -fmodule-map-file=Sources/COpenBLAS/module.modulemap \
    -use-ld=lld Fuzz/TraplineFuzz.swift "${objects[@]}" -ljpeg -lopenblas -o "$build_path/trapline-fuzz-libfuzzer"
  echo "fuzz.sh: built $build_path/trapline-fuzz-libfuzzer"
}

# The largest input each target is given: an EXIF body and a JPEG header fit in one 64 KiB segment; the bundled
# model's header is 109 KB and a full activation message of the seed corpus about 300 KB.
max_len() {
  case "$1" in
    exif|jpeg) echo 65536 ;;
    model) echo 131072 ;;
    ring) echo 327680 ;;
  esac
}

# The last value libFuzzer printed for a field ("cov: 123", "stat::number_of_executed_units: 456").
figure() { grep -o -E "$1 *[0-9]+" "$2" | tail -n 1 | grep -o -E '[0-9]+$' || echo "?"; }

fuzz() {
  local target=$1 binary=$build_path/trapline-fuzz-libfuzzer
  local corpus=Fuzz/corpus/$target scratch=$build_path/scratch/$target log=$build_path/logs/$target.log
  local findings=Fuzz/findings/$target
  mkdir -p "$scratch" "$findings" "$build_path/logs"
  local before
  before=$(find "$corpus" -type f | wc -l)
  local run=(-max_total_time="$seconds")
  ((seconds)) || run=(-runs=0)
  local status=0
  # -timeout: one input running 10 s is a finding; OpenBLAS gets one thread, as in the tests. Swift's backtracer
  # is off: libFuzzer leaves a signal alone when a handler is already installed, and then a Swift runtime trap
  # (SIGILL) would kill the process without libFuzzer saving the input. The report below replays it with the
  # backtracer on.
  export TRAPLINE_FUZZ_TARGET=$target OPENBLAS_NUM_THREADS=1
  SWIFT_BACKTRACE=enable=no "$binary" "${run[@]}" -max_len="$(max_len "$target")" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$scratch" "$corpus" >"$log" 2>&1 || status=$?
  if ((status == 0 && merge && seconds)); then
    SWIFT_BACKTRACE=enable=no "$binary" -merge=1 -max_len="$(max_len "$target")" -timeout=10 "$corpus" "$scratch" \
      >"${log%.log}-merge.log" 2>&1 || status=$?
  fi
  local after
  after=$(find "$corpus" -type f | wc -l)
  printf '%-5s %4ss  executions %10s  exec/s %7s  cov %6s  ft %7s  corpus files %4s -> %4s\n' "$target" "$seconds" \
    "$(figure 'stat::number_of_executed_units:' "$log")" "$(figure 'stat::average_exec_per_sec:' "$log")" \
    "$(figure 'cov:' "$log")" "$(figure 'ft:' "$log")" "$before" "$after"
  if ((status)); then
    echo "fuzz.sh: $target FAILED (libFuzzer exit $status); see $log" >&2
    grep -E '^==[0-9]+==|ERROR|SUMMARY|Test unit written' "$log" | head -n 20 >&2 || true
    local finding
    for finding in "$findings"/*; do
      [[ -f $finding ]] || continue
      echo "fuzz.sh: $finding replayed:" >&2
      ("$binary" "$finding" 2>&1; true) 2>&1 | grep -E 'runtime failure|Fatal error|crashed:| at /' | head -n 8 >&2 || true
    done
    return 1
  fi
  # Keep a finding directory only when it holds a finding.
  rmdir "$findings" 2>/dev/null || true
}

build
((build_only)) && exit 0
# The model and ring targets load Models/efficientnet-lite0.safetensors relative to the repository root.
if [[ ! -f Models/efficientnet-lite0.safetensors ]]; then
  echo "fuzz.sh: Models/efficientnet-lite0.safetensors is missing" >&2
  exit 1
fi
failed=()
for target in "${targets[@]}"; do
  rm -rf "$build_path/scratch/$target"
  fuzz "$target" || failed+=("$target")
done
if ((${#failed[@]})); then
  echo "fuzz.sh: findings in ${failed[*]} (inputs under Fuzz/findings/)" >&2
  exit 1
fi
