# Shared by the arm64 scripts (sourced): the cache's location and running commands in its roots.
# shellcheck shell=bash
arm64_cache=${TRAPLINE_CROSS_CACHE:-/var/cache/trapline-cross}

# in_builder SRC CMD...: runs CMD in the sid builder with the checkout SRC at /src, the sysroot at
# /sysroot-trixie, the build folder at /build and the local Swift package copies; unmounts afterwards.
in_builder() {
  local src=$1; shift
  local builder=$arm64_cache/builder mounts=() status=0
  mkdir -p "$arm64_cache/build" "$builder/src" "$builder/build" "$builder/sysroot-trixie" "$builder/opt/swift-packages"
  bind() { mount --bind "$1" "$2" && mounts=("$2" "${mounts[@]}"); }
  bind "$src" "$builder/src" &&
    bind "$arm64_cache/build" "$builder/build" &&
    bind "$arm64_cache/sysroot" "$builder/sysroot-trixie" &&
    { [[ ! -d /opt/swift-packages ]] || bind /opt/swift-packages "$builder/opt/swift-packages"; } &&
    bind /proc "$builder/proc" && bind /dev "$builder/dev" || status=$?
  if ((status == 0)); then
    chroot "$builder" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 "$@" || status=$?
  fi
  for mount in "${mounts[@]}"; do umount "$mount" || umount -l "$mount"; done
  return "$status"
}

# sync_source DEST: DEST becomes a copy of the checkout's tracked files (with their uncommitted changes). Only
# files whose content differs are rewritten, and times are not copied (a fresh clone has new ones), so a build
# folder kept beside DEST rebuilds only what changed; files no longer tracked are removed.
sync_source() {
  local dest=$1
  mkdir -p "$dest"
  git ls-files -z | rsync -rlpD --checksum --from0 --files-from=- ./ "$dest/"
  comm -13 <(git ls-files | LC_ALL=C sort) \
    <(cd "$dest" && find . -type f ! -name Package.resolved ! -path './.swiftpm/*' -printf '%P\n' | LC_ALL=C sort) |
    (cd "$dest" && xargs -r -d '\n' rm -f --)
}
