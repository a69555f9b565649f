#!/usr/bin/env bash
# Sets up, once, everything needed to cross-build trapline for arm64 (Raspberry Pi OS / Debian trixie, 64-bit)
# on an amd64 Debian machine, using only Debian's packages. Safe to run again: each step checks for its
# result first, and a half-made step is started again from scratch.
#   scripts/arm64/toolchain.sh          set up (or check) the cache, print its path
# The cache is TRAPLINE_CROSS_CACHE (default /var/cache/trapline-cross), outside the checkout:
#   builder/   a Debian sid amd64 root with Debian's Swift 6.2.3 (swiftlang): the compiler
#   sysroot/   a Debian trixie arm64 root with the -dev packages trapline links, debhelper and dpkg-dev (made
#              under qemu-user, so its dpkg database is real), plus the arm64 Swift runtime from sid's
#              swiftlang; it is the compiler's sysroot, where the package is assembled, and qemu's -L prefix
#   base/      a minimal trixie arm64 root, copied for each install test
#   sdk/       the Swift SDK bundle (swift-sdk.json, toolset.json) installed in the builder
# Why sid and trixie: docs/packaging.md.
set -euo pipefail
cache=${TRAPLINE_CROSS_CACHE:-/var/cache/trapline-cross}
mirror=${TRAPLINE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The archive's Release files can read as expired against a machine's clock.
aptopt='Acquire::Check-Valid-Until "false"'

say() { echo "toolchain.sh: $*" >&2; }
[[ $(id -u) -eq 0 ]] || { say "run as root (it makes chroots with mmdebstrap)"; exit 1; }
[[ $(dpkg --print-architecture) == amd64 ]] || { say "the cross toolchain is set up on amd64 only"; exit 1; }

host_packages=(mmdebstrap rsync file binutils-aarch64-linux-gnu qemu-user-static binfmt-support arch-test debhelper fakeroot dpkg-dev lintian)
missing=()
for package in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# arm64 programs run through binfmt_misc and qemu-user (the F flag: no qemu needed inside the roots).
if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
[[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || update-binfmts --enable qemu-aarch64
[[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || { say "binfmt_misc has no qemu-aarch64 entry"; exit 1; }

mkdir -p "$cache"
# make_root NAME SUITE ARGS...: mmdebstrap into $cache/NAME.new, then rename, so a root is there whole or not at all.
make_root() {
  local name=$1 suite=$2; shift 2
  [[ -e $cache/$name/.complete ]] && return 0
  rm -rf "${cache:?}/$name" "${cache:?}/$name.new"
  say "making $cache/$name (a few minutes, once)"
  mmdebstrap --mode=root --aptopt="$aptopt" "$@" "$suite" "$cache/$name.new" "$mirror" >"$cache/$name.log" 2>&1 ||
    { say "mmdebstrap failed for $name; its log: $cache/$name.log"; tail -n 20 "$cache/$name.log" >&2; exit 1; }
  touch "$cache/$name.new/.complete"
  mv "$cache/$name.new" "$cache/$name"
}

# libc6-dev: SwiftPM compiles and links Package.swift for the build machine itself.
make_root builder sid --variant=apt --arch=amd64 --include=swiftlang,libc6-dev,git,pkgconf,ca-certificates \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*'
make_root sysroot trixie --variant=apt --arch=arm64 \
  --include=libc6-dev,libstdc++-14-dev,libgcc-14-dev,libjpeg62-turbo-dev,libsqlite3-dev,libopenblas-dev,zlib1g-dev,linux-libc-dev,debhelper,fakeroot,dpkg-dev,pkgconf,sqlite3
# A root made by an older version of this script may lack a package the list above has since gained.
top_up() {
  local root=$1; shift
  local package missing=()
  for package in "$@"; do
    chroot "$root" dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  say "adding ${missing[*]} to $root"
  chroot "$root" sh -ec "apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${missing[*]} >/dev/null"
}
top_up "$cache/builder" libc6-dev
make_root base trixie --variant=minbase --arch=arm64 --include=ca-certificates

# shellcheck source=scripts/arm64/lib.sh
source "$(dirname "$0")/lib.sh"
arm64_cache=$cache

# The arm64 Swift runtime and resources, from sid's swiftlang for arm64 at the builder's compiler version.
swift_version=$(chroot "$cache/builder" dpkg-query -W -f='${Version}' swiftlang)
if [[ $(cat "$cache/sysroot/usr/libexec/swift/.version" 2>/dev/null) != "$swift_version" ]]; then
  say "adding the arm64 Swift runtime $swift_version to the sysroot"
  chroot "$cache/builder" sh -ec "dpkg --add-architecture arm64; apt-get update -q >/dev/null
    rm -rf /tmp/swift-arm64; mkdir -p /tmp/swift-arm64; cd /tmp/swift-arm64
    apt-get download -q swiftlang:arm64=$swift_version libswiftlang:arm64=$swift_version >/dev/null
    for deb in *.deb; do dpkg-deb -x \"\$deb\" root; done"
  rm -rf "$cache/sysroot/usr/libexec/swift"
  mkdir -p "$cache/sysroot/usr/libexec/swift/lib"
  for part in swift swift_static clang; do
    cp -a "$cache/builder/tmp/swift-arm64/root/usr/libexec/swift/lib/$part" "$cache/sysroot/usr/libexec/swift/lib/"
  done
  ln -sfn ../libexec/swift/lib/swift "$cache/sysroot/usr/lib/swift"
  ln -sfn ../libexec/swift/lib/swift_static "$cache/sysroot/usr/lib/swift_static"
  rm -rf "$cache/builder/tmp/swift-arm64"
  echo "$swift_version" >"$cache/sysroot/usr/libexec/swift/.version"
fi

# The Swift SDK bundle: the sysroot as the builder sees it (bound at /sysroot-trixie), lld for the link.
bundle=$cache/sdk/trixie-arm64.artifactbundle
mkdir -p "$cache/sdk"
if ! in_builder "$cache/sdk" swift sdk list 2>/dev/null | grep -qx trixie-arm64; then
  say "installing the Swift SDK trixie-arm64 in the builder"
  rm -rf "$cache/sdk"
  mkdir -p "$bundle/sdk"
  cat >"$bundle/info.json" <<'JSON'
{
  "schemaVersion": "1.0",
  "artifacts": {
    "trixie-arm64": {
      "type": "swiftSDK",
      "version": "1",
      "variants": [{ "path": "sdk", "supportedTriples": ["x86_64-unknown-linux-gnu", "x86_64-pc-linux-gnu"] }]
    }
  }
}
JSON
  cat >"$bundle/sdk/swift-sdk.json" <<'JSON'
{
  "schemaVersion": "4.0",
  "targetTriples": {
    "aarch64-unknown-linux-gnu": {
      "sdkRootPath": "/sysroot-trixie",
      "swiftResourcesPath": "/sysroot-trixie/usr/libexec/swift/lib/swift",
      "swiftStaticResourcesPath": "/sysroot-trixie/usr/libexec/swift/lib/swift_static",
      "toolsetPaths": ["toolset.json"]
    }
  }
}
JSON
  # -use-ld=lld for swiftc only: a C-side -fuse-ld is an unused argument, and CJPEG builds with -Werror.
  echo '{ "schemaVersion": "1.0", "swiftCompiler": { "extraCLIOptions": ["-use-ld=lld"] } }' >"$bundle/sdk/toolset.json"
  # swift needs /proc in the root (its libraries are found relative to /proc/self/exe): in_builder mounts it.
  in_builder "$cache/sdk" swift sdk install /src/trixie-arm64.artifactbundle >/dev/null
fi

# Swift packages resolve from the machine's local copies, as on the host (git's url.insteadOf).
if [[ -d /opt/swift-packages ]]; then
  mkdir -p "$cache/builder/opt/swift-packages"
  chroot "$cache/builder" git config --global url./opt/swift-packages/.insteadOf https://github.com/
  chroot "$cache/builder" git config --global --add safe.directory '*'
fi
echo "$cache"
