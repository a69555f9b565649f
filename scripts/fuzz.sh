#!/usr/bin/env bash
# Fuzzes what trapline reads from outside, with libFuzzer: EXIF bodies, JPEG headers (and small decodes), model
# files. Each target starts from its committed corpus under Fuzz/corpus/ and adds what it finds; a crash leaves
# a reproducer (crash-*) in Fuzz/findings/.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (targets: exif jpeg model ring; default all, 600 s each)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(exif jpeg model ring)
swift build -c release --quiet --scratch-path .build-fuzz --product trapline-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
mkdir -p Fuzz/findings
status=0
for target in "${targets[@]}"; do
    corpus=Fuzz/corpus/$target
    mkdir -p "$corpus"
    max_len=65536
    [ "$target" = model ] && max_len=262144
    [ "$target" = ring ] && max_len=400000
    echo "fuzzing $target for $seconds s" >&2
    TRAPLINE_FUZZ_TARGET=$target .build-fuzz/release/trapline-fuzz "$corpus" -max_total_time="$seconds" \
        -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix=Fuzz/findings/"$target"- >Fuzz/findings/"$target".log 2>&1 || status=1
    grep -E "^(#[0-9]+ +DONE|stat::|INFO: Loaded|==|SUMMARY|Done| *cov:)" Fuzz/findings/"$target".log | tail -n 6
done
if [ "$status" != 0 ]; then
    echo "fuzz.sh: a target crashed or leaked; reproducers in Fuzz/findings/" >&2
fi
exit "$status"
