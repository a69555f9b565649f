#!/usr/bin/env bash
# Builds trapline_<version>_<arch>.deb with dpkg-buildpackage from the committed tree (plus uncommitted
# changes to tracked files), into dist/. The Swift toolchain must be on PATH.
#   scripts/build-deb.sh            TRAPLINE_SCRATCH=DIR reuses a release build folder (faster rebuilds)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [[ $(id -u) -eq 0 ]]; then
  missing=()
  for package in debhelper fakeroot dpkg-dev; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if ((${#missing[@]})); then
    echo "build-deb.sh: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
scripts/setup.sh

version=$(dpkg-parsechangelog -l Packaging/debian/changelog -S Version | sed 's/-[^-]*$//')
work=$(mktemp -d /tmp/trapline-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
source_dir="$work/trapline-$version"
mkdir -p "$source_dir"
git ls-files -z | grep -zv '^Packaging/debian/' | xargs -0 cp --parents -t "$source_dir"
cp -r Packaging/debian "$source_dir/debian"
cp Systemd/trapline.service "$source_dir/debian/trapline.service"
export TRAPLINE_SCRATCH=${TRAPLINE_SCRATCH:-$root/.build-deb}
(cd "$source_dir" && dpkg-buildpackage -b -us -uc)
mkdir -p dist
cp "$work"/*.deb dist/
ls -1 dist/*.deb
