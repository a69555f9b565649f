"""How far apart two float32 evaluations of the network may be: a tolerance derived from the arithmetic.

Two correct float32 implementations of the same network (PyTorch with AVX-512 or with its default ISA, OpenBLAS
with any of its kernels, the Swift engine) differ only in how they round: each accumulation of n products is
computed in another order or with fused multiply-adds. The probabilistic rounding-error bound of Higham and Mary
("A new approach to probabilistic rounding error analysis", SIAM J. Sci. Comput. 41(5), 2019) puts the error of
an n-term float32 sum below lambda * sqrt(n) * u * sum|terms| with probability at least 1 - 2 exp(-lambda^2 / 2),
u = 2^-24. Along the network an output element is reached through one accumulation per layer; summing the
per-layer fan-ins n_l and taking the compared tensor's largest magnitude as the scale of the terms gives

    error of one implementation  <~  lambda * u * sqrt(sum_l n_l) * max|T|,

and two implementations may err in opposite directions, hence the factor 2 in `float32_tolerance`. lambda = 4
(a one-element failure probability of 7e-4 under the model; the largest measured ratio of float32's error against
float64 to `u * sqrt(N) * max|T|` was 1.24, at the activation after unit 3, docs/testing.md). For the bundled
model this gives 3.4e-4 to 8e-4: twenty to fifty times what separated an AMD and an Intel machine (2.3e-5), and
far below what a real change does (one weight, one channel order, one batch-norm statistic:
tests/test_golden.py shows each fails the check).
"""

from __future__ import annotations

import math

from .architecture import Architecture, Unit, spatial_sizes

UNIT_ROUNDOFF = 2.0**-24
LAMBDA = 4.0


def unit_fan_in(unit: Unit, size: int) -> int:
    """Products summed per output element along one unit entering at `size` x `size` (at full width, which
    bounds every pruned level); the head's global average pool sums its input's size^2 pixels."""
    if unit.kind == "stem":
        return unit.in_channels * unit.kernel**2
    if unit.kind == "head":
        return unit.in_channels + size**2 + unit.expanded_channels
    expand = unit.in_channels if unit.expand else 0
    return expand + unit.kernel**2 + unit.expanded_channels


def path_fan_in(arch: Architecture, end: int) -> int:
    """The fan-ins summed over units 0..<end: the accumulations behind an element of the tensor entering `end`."""
    sizes = spatial_sizes(arch)
    return sum(unit_fan_in(u, sizes[i]) for i, u in enumerate(arch.units[:end]))


def float32_tolerance(fan_in: int, scale: float) -> float:
    """Largest absolute difference two float32 implementations may show on a tensor (see the module text)."""
    return 2 * LAMBDA * UNIT_ROUNDOFF * math.sqrt(fan_in) * scale
