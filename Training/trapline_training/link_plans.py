r"""Slice plans that know the links: the model file's plans against plans that also price each hop's transfer.

    python -m trapline_training.link_plans --model ../Models/efficientnet-lite0.safetensors --ms-per-mb 2.7

Per image: each unit's cost is the model file's `unitCostsMs`; sending the activation entering unit b costs
its size (height x width x channels x the encoding's bytes) times `--ms-per-mb`. The default, 2.7 ms per MB, is
what hop 1 of the framed stream cost on loopback under mutual TLS (encode, transport and decode: 3.23 ms for
a batch of 8 in float16, 1.2 MB; docs/benchmarks.md, "The ring's per-hop overhead"). Prints, for 2 to 8 nodes,
both plans and the slowest stage each gives, compute and link together.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import modelfile
from .architecture import architecture_from_metadata, spatial_sizes
from .slicing import min_max_partition_with_links, stage_times

BYTES_PER_VALUE = {"float32": 4, "float16": 2, "int8": 1}


def boundary_megabytes(meta: dict, bytes_per_value: int) -> list[float]:
    """Megabytes per image of the activation entering each unit (index 0: the input), and of the logits last."""
    arch = architecture_from_metadata(meta)
    sizes = spatial_sizes(arch, meta["input"]["width"])
    values = [sizes[u] ** 2 * unit.in_channels for u, unit in enumerate(arch.units)]
    values.append(arch.units[-1].out_channels)  # the logits, back to the head
    return [v * bytes_per_value / 1e6 for v in values]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m trapline_training.link_plans", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="trapline model file (.safetensors)")
    parser.add_argument("--ms-per-mb", type=float, default=2.7, help="cost of sending a megabyte (default 2.7)")
    parser.add_argument("--encoding", choices=sorted(BYTES_PER_VALUE), default="float16", help="wire encoding")
    args = parser.parse_args(argv)
    meta = modelfile.read_metadata(args.model)
    costs = meta["unitCostsMs"]
    links = [mb * args.ms_per_mb for mb in boundary_megabytes(meta, BYTES_PER_VALUE[args.encoding])]
    print(f"per image: units {sum(costs):.2f} ms in all; links at {args.ms_per_mb} ms/MB, {args.encoding}")
    print("nodes  stored plan (slowest stage ms)          link-aware plan (slowest stage ms)")
    for nodes in range(2, 9):
        stored = meta["slicePlans"][str(nodes)]
        aware = min_max_partition_with_links(costs, links, nodes)
        worst = [max(stage_times(costs, links, plan)) for plan in (stored, aware)]
        same = "  (the same)" if aware == stored else ""
        print(f"{nodes:5}  {stored!s:30} {worst[0]:6.2f}   {aware!s:30} {worst[1]:6.2f}{same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
