#!/usr/bin/env bash
# Installs what trapline needs on Debian 12 (or Raspberry Pi OS bookworm), only where it is missing.
#   scripts/setup.sh          build dependencies (C libraries the binary links)
#   scripts/setup.sh --test   also the reference tools and real images the tests compare against
#   scripts/setup.sh --bench  also what the benchmarks need (wallpaper photos, Pillow)
# Safe to run again: it checks before it installs, and says what it installs.
set -euo pipefail

want_test=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (try --help)" >&2; exit 64 ;;
  esac
done

build_packages=(pkg-config libjpeg62-turbo-dev libopenblas-dev)
test_packages=(libjpeg-turbo-progs libjxl-testdata libimage-exiftool-perl plasma-workspace-wallpapers opencv-doc python3-pip)
bench_packages=(plasma-workspace-wallpapers)

packages=("${build_packages[@]}")
((want_test)) && packages+=("${test_packages[@]}")
((want_bench)) && packages+=("${bench_packages[@]}")

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup.sh: run as root (sudo scripts/setup.sh $*) or install them yourself." >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup.sh: Debian packages already present (${#packages[@]} checked)"
fi

# The tests and benchmarks compare against Pillow, an independent JPEG and resize implementation.
if ((want_test || want_bench)); then
  if python3 -c 'import PIL, numpy' 2>/dev/null; then
    echo "setup.sh: Pillow and numpy already present"
  else
    echo "setup.sh: installing Pillow and numpy from PyPI"
    python3 -m pip install -q pillow numpy 2>/dev/null \
      || python3 -m pip install -q --break-system-packages pillow numpy
  fi
fi
