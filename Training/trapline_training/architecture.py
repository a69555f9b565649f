"""The network as a list of units (docs/model-file.md, "Units, levels, slices") and the pruning rule."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PRUNE_LEVELS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75)
BATCH_NORM_EPSILON = 1e-3
INPUT_SIZE = 224

# The EfficientNet-Lite0 block table (efficientnet_lite_builder.py): repeats, kernel, stride, expand ratio,
# input and output channels. Lite0 scales neither width nor depth, and keeps the stem and head fixed.
LITE0_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS = 32
HEAD_FEATURES = 1280
CLASSES = 1000


@dataclass(frozen=True)
class Unit:
    """One unit of the network: the stem, an MBConv block or the head.

    For the stem, `expanded_channels` is its output width; for the head it is the number of features.
    """

    kind: str
    in_channels: int
    out_channels: int
    expanded_channels: int
    kernel: int = 1
    stride: int = 1
    expand: bool = False

    @property
    def has_residual(self) -> bool:
        """Whether the block adds its input to its output (stride 1 and Cin == Cout)."""
        return self.kind == "mbconv" and self.stride == 1 and self.in_channels == self.out_channels

    @property
    def prunable(self) -> bool:
        """Whether the unit's expanded channels (or the head's features) can be pruned."""
        return self.kind == "head" or (self.kind == "mbconv" and self.expand)

    def to_metadata(self) -> dict[str, Any]:
        """The unit's entry in the model file's `units` array."""
        if self.kind == "stem":
            return {
                "kind": "stem",
                "inChannels": self.in_channels,
                "outChannels": self.out_channels,
                "kernel": self.kernel,
                "stride": self.stride,
            }
        if self.kind == "head":
            return {
                "kind": "head",
                "inChannels": self.in_channels,
                "features": self.expanded_channels,
                "classes": self.out_channels,
            }
        return {
            "kind": "mbconv",
            "inChannels": self.in_channels,
            "outChannels": self.out_channels,
            "expandedChannels": self.expanded_channels,
            "expand": self.expand,
            "kernel": self.kernel,
            "stride": self.stride,
        }

    @staticmethod
    def from_metadata(entry: dict[str, Any]) -> Unit:
        """Parses one entry of the model file's `units` array."""
        kind = entry["kind"]
        if kind == "stem":
            return Unit(
                "stem",
                entry["inChannels"],
                entry["outChannels"],
                entry["outChannels"],
                kernel=entry["kernel"],
                stride=entry["stride"],
            )
        if kind == "head":
            return Unit("head", entry["inChannels"], entry["classes"], entry["features"])
        if kind == "mbconv":
            return Unit(
                "mbconv",
                entry["inChannels"],
                entry["outChannels"],
                entry["expandedChannels"],
                kernel=entry["kernel"],
                stride=entry["stride"],
                expand=entry["expand"],
            )
        raise ValueError(f"unknown unit kind {kind!r}")


def kept_channels(width: int, prune_fraction: float) -> int:
    """Channels kept when `prune_fraction` of `width` are removed: the nearest multiple of 8, at least 8."""
    return max(8, 8 * math.floor(width * (1 - prune_fraction) / 8 + 0.5))


@dataclass(frozen=True)
class Architecture:
    """The units of a network, its prune levels and the channels each unit keeps at each level."""

    units: tuple[Unit, ...]
    prune_levels: tuple[float, ...] = PRUNE_LEVELS
    batch_norm_epsilon: float = BATCH_NORM_EPSILON

    @property
    def unit_count(self) -> int:
        """Number of units (18 for Lite0)."""
        return len(self.units)

    @property
    def level_count(self) -> int:
        """Number of prune levels."""
        return len(self.prune_levels)

    def kept(self, unit: int, level: int) -> int:
        """Expanded channels (head: features) unit `unit` computes at level index `level`."""
        spec = self.units[unit]
        if not spec.prunable:
            return spec.expanded_channels
        return kept_channels(spec.expanded_channels, self.prune_levels[level])

    def kept_table(self) -> list[list[int]]:
        """`keptChannels` of the model file: one row per unit, one column per level."""
        return [[self.kept(u, level) for level in range(self.level_count)] for u in range(self.unit_count)]

    def full_levels(self, level: int) -> list[int]:
        """A level vector with every unit at `level`."""
        return [level] * self.unit_count


def lite0_units() -> tuple[Unit, ...]:
    """EfficientNet-Lite0's 18 units: the stem, 16 MBConv blocks, the head."""
    units = [Unit("stem", 3, STEM_CHANNELS, STEM_CHANNELS, kernel=3, stride=2)]
    for repeats, kernel, stride, ratio, cin, cout in LITE0_STAGES:
        for r in range(repeats):
            block_in = cin if r == 0 else cout
            units.append(
                Unit(
                    "mbconv",
                    block_in,
                    cout,
                    block_in * ratio,
                    kernel=kernel,
                    stride=stride if r == 0 else 1,
                    expand=ratio != 1,
                )
            )
    units.append(Unit("head", units[-1].out_channels, CLASSES, HEAD_FEATURES))
    return tuple(units)


def lite0() -> Architecture:
    """EfficientNet-Lite0 with trapline's prune levels."""
    return Architecture(lite0_units())


def architecture_from_metadata(meta: dict[str, Any]) -> Architecture:
    """The architecture a model file's metadata declares; checks its `keptChannels` against the rule."""
    arch = Architecture(
        tuple(Unit.from_metadata(u) for u in meta["units"]), tuple(meta["pruneLevels"]), float(meta["batchNormEpsilon"])
    )
    if meta.get("keptChannels") is not None and meta["keptChannels"] != arch.kept_table():
        raise ValueError("keptChannels in the metadata do not follow the pruning rule")
    return arch


def spatial_sizes(arch: Architecture, size: int = INPUT_SIZE) -> list[int]:
    """Height (= width) of the activation entering each unit, plus the head's input size at the end."""
    sizes = [size]
    for unit in arch.units[:-1]:
        sizes.append(math.ceil(sizes[-1] / unit.stride))
    return sizes


def unit_macs(arch: Architecture, levels: Sequence[int], size: int = INPUT_SIZE) -> list[int]:
    """Multiply-accumulates of each unit's convolutions and fully connected layer at the given levels."""
    sizes = spatial_sizes(arch, size)
    macs = []
    for u, unit in enumerate(arch.units):
        kept = arch.kept(u, levels[u])
        out_area = math.ceil(sizes[u] / unit.stride) ** 2
        if unit.kind == "stem":
            macs.append(out_area * unit.out_channels * unit.in_channels * unit.kernel**2)
        elif unit.kind == "head":
            macs.append(sizes[u] ** 2 * kept * unit.in_channels + kept * unit.out_channels)
        else:
            expand = sizes[u] ** 2 * kept * unit.in_channels if unit.expand else 0
            macs.append(expand + out_area * kept * (unit.kernel**2 + unit.out_channels))
    return macs
