"""Slice plans: contiguous partitions of the units that minimise the slowest slice's cost."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate, pairwise


def slice_costs(costs: Sequence[float], boundaries: Sequence[int]) -> list[float]:
    """The cost of each slice `boundaries[i]..<boundaries[i + 1]`."""
    return [sum(costs[a:b]) for a, b in pairwise(boundaries)]


def min_max_partition(costs: Sequence[float], parts: int) -> list[int]:
    """Boundaries b0 = 0 < b1 < ... < b_parts = len(costs) minimising the largest slice cost (exact).

    The link-aware partition with every link free; ties go to the earliest boundary.
    """
    return min_max_partition_with_links(costs, [0.0] * (len(costs) + 1), parts)


def stage_times(costs: Sequence[float], links: Sequence[float], boundaries: Sequence[int]) -> list[float]:
    """Each stage's time: its units' compute plus sending the tensor at its end (`links[b]` for boundary b).

    The last stage sends only logits back to the head, which `links[len(costs)]` prices (0 to ignore them).
    """
    return [sum(costs[a:b]) + links[b] for a, b in pairwise(boundaries)]


def min_max_partition_with_links(costs: Sequence[float], links: Sequence[float], parts: int) -> list[int]:
    """Boundaries minimising the slowest stage when each stage also pays for sending its output (exact).

    The pipeline's throughput is set by its slowest stage, compute and link together (PipeEdge's objective):
    `links[b]` is the cost of sending the activation entering unit b, b = 1 ... len(costs). Dynamic programming
    over (stages used, units covered); ties go to the earliest boundary.
    """
    n = len(costs)
    if not 1 <= parts <= n:
        raise ValueError(f"cannot cut {n} units into {parts} non-empty slices")
    if len(links) != n + 1:
        raise ValueError(f"{len(links)} link costs for {n + 1} boundaries")
    prefix = [0.0, *accumulate(costs)]
    best = [[math.inf] * (n + 1) for _ in range(parts + 1)]
    cut = [[0] * (n + 1) for _ in range(parts + 1)]
    best[0][0] = 0.0
    for j in range(1, parts + 1):
        for i in range(j, n - (parts - j) + 1):
            for k in range(j - 1, i):
                value = max(best[j - 1][k], prefix[i] - prefix[k] + links[i])
                if value < best[j][i]:
                    best[j][i], cut[j][i] = value, k
    boundaries = [n]
    for j in range(parts, 0, -1):
        boundaries.append(cut[j][boundaries[-1]])
    return boundaries[::-1]


def slice_plans(costs: Sequence[float], max_nodes: int = 8) -> dict[str, list[int]]:
    """`slicePlans` of the model file: boundaries for rings of 1...max_nodes nodes, keyed by node count."""
    return {str(n): min_max_partition(costs, n) for n in range(1, max_nodes + 1)}


def levels_for_slices(boundaries: Sequence[int], slice_levels: Sequence[int]) -> list[int]:
    """A per-unit level vector giving every unit of slice i the level `slice_levels[i]`."""
    if len(slice_levels) != len(boundaries) - 1:
        raise ValueError(f"{len(slice_levels)} levels for {len(boundaries) - 1} slices")
    levels: list[int] = []
    for (a, b), level in zip(pairwise(boundaries), slice_levels, strict=True):
        levels.extend([level] * (b - a))
    return levels
