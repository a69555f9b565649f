#!/usr/bin/env bash
# Makes the Raspberry Pi's packages on an amd64 Debian machine: dist/trapline_<version>_arm64.deb and
# dist/trapline-model_<version>_all.deb, from the committed tree (plus uncommitted changes to tracked files).
# Run as root. The first run sets up the cross toolchain (scripts/arm64/toolchain.sh) and builds everything
# (tens of minutes); later runs reuse both from TRAPLINE_CROSS_CACHE (default /var/cache/trapline-cross).
#   scripts/build-deb-arm64.sh
# How: Debian sid's Swift 6.2.3 compiles for aarch64 against a trixie arm64 sysroot; debian/rules then packages
# it as a cross build, with dh_shlibdeps reading the trixie libraries' own symbols files, so Depends carries
# their minimum versions (docs/packaging.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[[ $(id -u) -eq 0 ]] || { echo "build-deb-arm64.sh: run as root (chroots and bind mounts)" >&2; exit 1; }

cache=$(scripts/arm64/toolchain.sh)
# shellcheck source=scripts/arm64/lib.sh
source scripts/arm64/lib.sh
version=$(dpkg-parsechangelog -l Packaging/debian/changelog -S Version | sed 's/-[^-]*$//')

# A copy of the tracked files at a fixed path, so the build folder's absolute paths stay valid between runs
# and between clones.
src=$cache/src
sync_source "$src"

echo "build-deb-arm64.sh: swift build for aarch64 (Swift $(cat "$cache/sysroot/usr/libexec/swift/.version"))"
sysroot_pc=/sysroot-trixie/usr/lib/aarch64-linux-gnu
start=$SECONDS
in_builder "$src" sh -ec "cd /src
  export PKG_CONFIG_SYSROOT_DIR=/sysroot-trixie
  export PKG_CONFIG_PATH=$sysroot_pc/openblas-pthread/pkgconfig:$sysroot_pc/pkgconfig:/sysroot-trixie/usr/share/pkgconfig
  swift build -c release --static-swift-stdlib --product trapline --swift-sdk trixie-arm64 --scratch-path /build/release"
echo "build-deb-arm64.sh: built in $((SECONDS - start)) s"
binary=$cache/build/release/aarch64-unknown-linux-gnu/release/trapline
file -b "$binary" | grep -q 'ARM aarch64' || { echo "build-deb-arm64.sh: $binary is not an aarch64 binary" >&2; exit 1; }

# The package: debian/rules (what dpkg-buildpackage -b runs) as a cross build, natively on this machine, with the
# cross-built binary in place of its swift build. In a mount namespace of its own, the arm64 root's libraries
# appear at their own path, so that dh_shlibdeps finds them and, through that root's dpkg database, their
# packages and trixie's symbols files: Depends gets the minimum versions of what is linked. (Run inside the
# emulated root instead, dpkg-shlibdeps alone took 3.5 minutes.) The completions are made by the arm64 binary
# under qemu-user. No -dbgsym package: nobody debugs on the Pi.
work=$(mktemp -d /tmp/trapline-deb-arm64.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/trapline-$version"
git ls-files -z | grep -zv '^Packaging/debian/' | xargs -0 cp --parents -t "$work/trapline-$version"
cp -r Packaging/debian "$work/trapline-$version/debian"
cp Systemd/trapline.service "$work/trapline-$version/debian/trapline.service"
multiarch=/usr/lib/aarch64-linux-gnu
start=$SECONDS
(
  cd "$work/trapline-$version"
  eval "$(dpkg-architecture -aarm64 -s 2>/dev/null)"
  export TRAPLINE_PREBUILT=$binary TRAPLINE_ADMINDIR=$cache/sysroot/var/lib/dpkg DEB_BUILD_OPTIONS="noautodbgsym nocheck crossbuildcanrunhostbinaries"
  export TRAPLINE_RUN="env QEMU_LD_PREFIX=$cache/sysroot LD_LIBRARY_PATH=$multiarch/openblas-pthread OPENBLAS_NUM_THREADS=1"
  unshare -m sh -ec "mkdir -p $multiarch; mount --bind $cache/sysroot$multiarch $multiarch
    debian/rules build && fakeroot debian/rules binary"
) >"$cache/debian-rules.log" 2>&1 || {
  tail -n 30 "$cache/debian-rules.log" >&2
  echo "build-deb-arm64.sh: debian/rules failed; its log: $cache/debian-rules.log" >&2
  exit 1
}
echo "build-deb-arm64.sh: packaged in $((SECONDS - start)) s"
mkdir -p dist
cp "$work"/trapline_"$version"-*_arm64.deb "$work"/trapline-model_"$version"-*_all.deb dist/
ls -l dist/trapline_"$version"-*_arm64.deb dist/trapline-model_"$version"-*_all.deb
echo "build-deb-arm64.sh: packages in $root/dist"
