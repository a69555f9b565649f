"""No OpenBLAS kernel can stop trapline with SIGILL on a Raspberry Pi 4 or 5 (qemu-user's Cortex-A72 and A76).

qemu-user enforces each CPU model's instruction set: an instruction the emulated core lacks raises SIGILL, as
on the real core. For every kernel trixie's OpenBLAS was built with (the names its library carries), on each
CPU, this runs one classification, or two with --forced:
- forced: `OPENBLAS_CORETYPE=<kernel>` with trapline's own choice switched off (the marker it sets when it has
  re-executed itself), which shows whether the kernel's code runs on that core at all;
- as shipped: `OPENBLAS_CORETYPE=<kernel>` alone, where trapline keeps the kernel or replaces it.
It fails when a kernel trapline keeps dies; a kernel that ran forced but that trapline replaces is reported,
not failed (trapline may be cautious about a kernel it cannot judge).
The table it prints is in docs/blas.md.

    python3 Tests/Arm64/kernels.py --trapline PKG/usr/bin/trapline --sysroot ROOT --model M --photo P [--forced]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CPUS = ("cortex-a72", "cortex-a76")
# The arm64 names OpenBLAS's dynamic_arm64.c accepts in OPENBLAS_CORETYPE; those the library was built with are
# found among its strings.
KNOWN = [
    *("armv8", "cortexa53", "cortexa55", "cortexa57", "cortexa72", "cortexa73", "cortexa76", "cortexx1", "cortexx2"),
    *("cortexa510", "cortexa710", "falkor", "thunderx", "thunderx2t99", "thunderx3t110", "tsv110", "emag8180"),
    *("neoversen1", "neoversen2", "neoversev1", "neoversev2", "armv8sve", "armv9sme", "a64fx", "ampere1", "vortex"),
]


LIBRARY = Path("/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0")


def built_kernels(sysroot: Path) -> list[str]:
    library = sysroot / LIBRARY.relative_to("/")
    strings = set(re.findall(rb"[A-Za-z0-9]{4,}", library.resolve().read_bytes()))
    return [name for name in KNOWN if name.encode() in strings or name.upper().encode() in strings]


def run(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    return result.returncode, result.stdout + result.stderr


def kernel_in_use(trapline: str, env: dict[str, str]) -> str:
    _, output = run([trapline, "--version"], env)
    match = re.search(r"^blas kernel:?\s*(.*)$", output, re.MULTILINE | re.IGNORECASE)
    return match.group(1).strip() if match else output.strip().splitlines()[-1]


def on_cpu(cpu: str, arguments: argparse.Namespace, kernels: list[str]) -> tuple[list[str], int]:
    """The table's rows for one CPU, and how many kernels trapline kept that died."""
    base = dict(os.environ, QEMU_CPU=cpu, QEMU_LD_PREFIX=str(arguments.sysroot), OPENBLAS_NUM_THREADS="1")
    # The sysroot's libopenblas.so.0 is an absolute link through /etc/alternatives, which qemu's prefix does not
    # follow.
    base["LD_LIBRARY_PATH"] = str(LIBRARY.parent)
    base.pop("OPENBLAS_CORETYPE", None)
    classify = [arguments.trapline, "classify", "--top", "1", "--model", arguments.model, arguments.photo]
    rows = [f"| {cpu} | (none set) | - | {kernel_in_use(arguments.trapline, base)} | - |"]
    failures = 0
    for kernel in kernels:
        forced_text = "-"
        if arguments.forced:
            forced_env = dict(base, OPENBLAS_CORETYPE=kernel, TRAPLINE_BLAS_REEXECUTED="forced by kernels.py")
            forced_text = outcome(run(classify, forced_env)[0])
        shipped_env = dict(base, OPENBLAS_CORETYPE=kernel)
        shipped, output = run(classify, shipped_env)
        kept = kernel_in_use(arguments.trapline, shipped_env)
        rows.append(f"| {cpu} | {kernel} | {forced_text} | {kept} | {outcome(shipped)} |")
        if shipped != 0:
            failures += 1
            rows.append(f"  {output.strip()[-400:]}")
    return rows, failures


def outcome(code: int) -> str:
    return "runs" if code == 0 else ("SIGILL" if code in (-4, 132) else f"exit {code}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trapline", required=True)
    parser.add_argument("--sysroot", type=Path, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--photo", required=True)
    parser.add_argument("--forced", action="store_true", help="also run each kernel with trapline's check off")
    arguments = parser.parse_args()
    kernels = built_kernels(arguments.sysroot)
    if not kernels:
        print("  kernels: found no kernel names in the sysroot's OpenBLAS")
        return 1
    # One emulated CPU per core, side by side.
    with ThreadPoolExecutor(len(CPUS)) as pool:
        results = list(pool.map(lambda cpu: on_cpu(cpu, arguments, kernels), CPUS))
    print("  kernels: | CPU | kernel | forced | trapline keeps | runs as shipped |")
    for rows, _ in results:
        for row in rows:
            print(f"  kernels: {row}")
    return 1 if any(failures for _, failures in results) else 0


if __name__ == "__main__":
    sys.exit(main())
