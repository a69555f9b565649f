#!/usr/bin/env bash
# The rest of the arm64 checks, apart from CI because of their cost: the Swift test suites cross-built for
# aarch64 (debug, with Debian's Swift 6.2.3) and run under qemu-user on an emulated Pi 4 (Cortex-A72) and
# Pi 5 (Cortex-A76), then scripts/arm64/test-emulated.sh --full (every kernel forced, all 142 label-evaluation
# photos). The suites are the engine's golden parity against PyTorch at every level and option, decode parity,
# the catalog and the config:
#   scripts/arm64/test-suites.sh [SUITE-FILTER]   (run as root, after scripts/test.sh has built the amd64
#                                                  binary and the arm64 package; default filter below)
# The first run builds the test bundle (tens of minutes); later runs rebuild what changed. The references the
# suites compare against (PyTorch's golden outputs, djpeg, Pillow) are the amd64 ones: a program the emulated
# test starts runs natively, as qemu-user hands exec to the kernel.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "test-suites.sh: run as root (chroots and bind mounts)" >&2; exit 1; }
filter=${1:-'GoldenTests|SliceOptionTests|LabelerTests|EventVoteTests|SiteHeadTests|ModelFileTests|DecodeParityTests|ResizeTests|CatalogTests|CatalogMigrationTests|SQLiteLayerTests|BurstCatalogTests|ConfigTests|YAMLSubsetTests'}
cache=$(scripts/arm64/toolchain.sh)
# shellcheck source=scripts/arm64/lib.sh
source scripts/arm64/lib.sh
src=$cache/src
sync_source "$src"
# The test fixtures the suites read that are not tracked (PyTorch's golden outputs are made by the Python side).
scripts/setup.sh --test >/dev/null

# sid's swiftlang 6.2.3 ships _Testing_Foundation.swiftmodule without its library: an empty one satisfies the
# linker (nothing of it is used).
mkdir -p "$cache/build/stub"
[[ -e $cache/build/stub/lib_Testing_Foundation.a ]] || ar rcs "$cache/build/stub/lib_Testing_Foundation.a"
sysroot_pc=/sysroot-trixie/usr/lib/aarch64-linux-gnu
start=$SECONDS
in_builder "$src" sh -ec "cd /src
  export PKG_CONFIG_SYSROOT_DIR=/sysroot-trixie
  export PKG_CONFIG_PATH=$sysroot_pc/openblas-pthread/pkgconfig:$sysroot_pc/pkgconfig:/sysroot-trixie/usr/share/pkgconfig
  swift build --build-tests --swift-sdk trixie-arm64 --scratch-path /build/tests -Xlinker -L/build/stub"
echo "test-suites.sh: test bundle built in $((SECONDS - start)) s"
bundle=$cache/build/tests/aarch64-unknown-linux-gnu/debug/traplinePackageTests.xctest
[[ -x $bundle ]] || { echo "test-suites.sh: no test bundle at $bundle" >&2; exit 1; }

status=0
for cpu in cortex-a72 cortex-a76; do
  echo "test-suites.sh: $cpu"
  # The suites find their fixtures and the reference scripts by their source paths, which are the builder's
  # /src: in a mount namespace of its own the copy it built from is mounted there (the mount point is made here
  # when missing, and removed again).
  # LD_LIBRARY_PATH: the sysroot's libopenblas.so.0 links through /etc/alternatives, which qemu's prefix skips;
  # a test bundle links the Swift runtime dynamically, from the sysroot's arm64 Swift.
  made_src=0
  [[ -e /src ]] || { mkdir /src && made_src=1; }
  env QEMU_CPU=$cpu QEMU_LD_PREFIX="$cache/sysroot" OPENBLAS_NUM_THREADS=1 NO_COLOR=1 \
    LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu/openblas-pthread:/usr/libexec/swift/lib/swift/linux \
    unshare -m sh -c "mount --bind '$src' /src && cd /src && exec '$bundle' --testing-library swift-testing \
      --filter '$filter'" 2>&1 | grep -v -E '^◇ |^✔ Test [^r]|^✔ Test r[^u]' || status=1
  ((made_src)) && rmdir /src
done
scripts/arm64/test-emulated.sh --full .build/debug/trapline || status=1
exit "$status"
