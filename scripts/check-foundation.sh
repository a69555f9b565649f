#!/usr/bin/env bash
# Fails when a trapline binary uses anything from full Foundation, FoundationInternationalization or ICU: in the
# static release build any such use links ICU's 34 MB of data (docs/footprint.md). FoundationEssentials is fine.
#   scripts/check-foundation.sh BINARY     a dynamically linked build (the debug one); run by scripts/test.sh
set -euo pipefail
binary=${1:?usage: check-foundation.sh BINARY}
runtime=$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux
exported=$(mktemp)
used=$(mktemp)
trap 'rm -f "$exported" "$used"' EXIT
for library in libFoundation.so libFoundationInternationalization.so lib_FoundationICU.so; do
    [[ -f $runtime/$library ]] || { echo "check-foundation.sh: no $runtime/$library" >&2; exit 2; }
    nm -D --defined-only "$runtime/$library" | awk '{print $NF}'
done | sort -u >"$exported"
nm -D --undefined-only "$binary" | awk '{print $NF}' | sort -u >"$used"
found=$(comm -12 "$exported" "$used")
if [[ -n $found ]]; then
    echo "check-foundation.sh: $binary uses full Foundation or ICU; use FoundationEssentials or a local helper:" >&2
    swift demangle <<<"$found" >&2
    exit 1
fi
echo "check-foundation.sh: $binary uses nothing from Foundation beyond FoundationEssentials"
