"""TraplineNet: EfficientNet-Lite with per-level batch norms, run over any range of units at any levels.

Pruning is structural: a unit at a level computes with a prefix of its expanded channels, sliced out of the
full weights (nothing is masked), exactly as docs/model-file.md describes for the Swift engine. The
module's state_dict keys are the model file's tensor names.

Two forms of pruned level (docs/pruned-levels.md):
- format 1 (`refit=False`): every level has its own batch-norm statistics and shares every weight;
- format 2 (`refit=True`): one set of batch norms (level 0's, sliced to the kept channels) and, per pruned
  level, its own project weights and bias for every prunable block and its own fully connected layer for the
  head, fitted by least squares (`trapline_training.refit`).
Either form can skip a residual block: level index `skip_level(arch)` (one past the width levels) runs it as
the identity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812 (the conventional name)
from torch import nn

from .architecture import Architecture, Unit


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding (before, after) along one axis: TF pads more on the bottom/right."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv_same(x: torch.Tensor, weight: torch.Tensor, stride: int = 1, groups: int = 1) -> torch.Tensor:
    """A bias-free 2-D convolution with TF "SAME" padding, NCHW."""
    kernel = weight.shape[-1]
    top, bottom = same_padding(x.shape[-2], kernel, stride)
    left, right = same_padding(x.shape[-1], kernel, stride)
    if top or bottom or left or right:
        x = F.pad(x, (left, right, top, bottom))
    return F.conv2d(x, weight, None, stride, 0, 1, groups)


def to_nhwc(x: torch.Tensor) -> torch.Tensor:
    """NCHW to NHWC (the Swift engine's activation layout), contiguous."""
    return x.permute(0, 2, 3, 1).contiguous()


def from_nhwc(x: torch.Tensor) -> torch.Tensor:
    """NHWC to NCHW, contiguous."""
    return x.permute(0, 3, 1, 2).contiguous()


class Weights(nn.Module):
    """Holds a layer's full-width weight (and optional bias); the units slice what a level needs."""

    def __init__(self, shape: Sequence[int], bias: int | None = None) -> None:
        super().__init__()
        fan_in = math.prod(shape[1:])
        self.weight = nn.Parameter(torch.randn(*shape) * math.sqrt(2.0 / fan_in))
        self.bias = nn.Parameter(torch.zeros(bias)) if bias is not None else None


def add_level_weights(layer: Weights, shapes: Sequence[tuple[int, ...]], bias: int) -> None:
    """Gives `layer` a child `level{l}` (weight of shape `shapes[l - 1]`, bias of `bias`) per pruned level l."""
    for level, shape in enumerate(shapes, start=1):
        child = Weights(shape, bias=bias)
        child.weight.data.zero_()
        layer.add_module(f"level{level}", child)


def level_weights(layer: Weights, level: int) -> Weights | None:
    """The refitted weights of pruned level `level` (None at level 0 or in the format 1 form)."""
    return getattr(layer, f"level{level}", None) if level > 0 else None


def skip_level(arch: Architecture) -> int:
    """The level index that runs a residual block as the identity: one past the width levels."""
    return arch.level_count


class BatchNormStats(nn.Module):
    """One level's batch norm: affine parameters and running statistics, full width."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("var", torch.ones(channels))


class LevelBatchNorm(nn.Module):
    """A batch-norm site with one set of statistics per prune level (`level0`, `level1`, ...).

    `mode` is `inference` (the default: every level normalises with its stored statistics) except while
    `batchnorm.recalibrate` re-estimates the statistics of the levels in `adapting`, batch by batch:
    - `reference`: the unpruned network runs (stored level-0 statistics); the site records the batch's
      per-channel mean and variance of its input in `reference`;
    - `calibrate`: a pruned network runs; at a level in `adapting` the site adds the batch's mean and
      variance, paired with the reference's, to `calibration[level]` and normalises so that its output has
      the mean and variance the unpruned network's output has on this batch (other levels: stored statistics).
    """

    MODES = ("inference", "reference", "calibrate")

    def __init__(self, channels: int, levels: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.levels = levels
        self.mode = "inference"
        self.adapting: frozenset[int] = frozenset()
        self.reference: tuple[torch.Tensor, torch.Tensor] | None = None
        self.calibration: dict[int, torch.Tensor] = {}
        for level in range(levels):
            self.add_module(f"level{level}", BatchNormStats(channels))

    def stats(self, level: int) -> BatchNormStats:
        """The statistics of level index `level` (a site with one set of statistics uses it at every level)."""
        if self.levels == 1:
            level = 0
        if not 0 <= level < self.levels:
            raise IndexError(f"level {level} outside 0..<{self.levels}")
        return getattr(self, f"level{level}")

    def forward(self, x: torch.Tensor, level: int) -> torch.Tensor:
        """Normalises the first `x.shape[1]` channels with level `level`'s statistics (see `mode`)."""
        s, c = self.stats(level), x.shape[1]
        if self.levels == 1:
            level = 0
        if self.mode == "reference":
            var, mean = torch.var_mean(x.detach(), dim=(0, 2, 3), correction=0)
            self.reference = (mean, var)
        elif self.mode == "calibrate" and level in self.adapting:
            if self.reference is None:
                raise RuntimeError("calibrate mode needs a reference pass on the same batch first")
            var, mean = torch.var_mean(x.detach(), dim=(0, 2, 3), correction=0)
            ref_mean, ref_var = self.reference[0][:c], self.reference[1][:c]
            self._accumulate(level, mean, var, ref_mean, ref_var, x[:, 0].numel())
            mu, var_stored = matched_statistics(mean, var, ref_mean, ref_var, self.stats(0), c, self.eps)
            return F.batch_norm(x, mu, var_stored, s.weight[:c], s.bias[:c], False, 0.0, self.eps)
        return F.batch_norm(x, s.mean[:c], s.var[:c], s.weight[:c], s.bias[:c], False, 0.0, self.eps)

    def _accumulate(
        self, level: int, mean: torch.Tensor, var: torch.Tensor, ref_mean: torch.Tensor, ref_var: torch.Tensor, n: int
    ) -> None:
        c = mean.shape[0]
        if level not in self.calibration:
            self.calibration[level] = torch.zeros(5, self.stats(level).mean.shape[0], dtype=torch.float64)
        sums = self.calibration[level]
        for row, (m, v) in enumerate(((mean, var), (ref_mean, ref_var))):
            m64 = m.double()
            sums[2 * row, :c] += m64 * n
            sums[2 * row + 1, :c] += (v.double() + m64 * m64) * n
        sums[4, :c] += n


def matched_statistics(
    mean: torch.Tensor,
    var: torch.Tensor,
    ref_mean: torch.Tensor,
    ref_var: torch.Tensor,
    ref_stats: BatchNormStats,
    channels: int,
    eps: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Statistics (mean, var) for a pruned input with moments (mean, var) such that normalising it gives the
    same moments as normalising the unpruned input, of moments (ref_mean, ref_var), with `ref_stats`.

    With s = sqrt(var + eps) and s0 = sqrt(ref_var + eps): sigma = sigma0 * s / s0 and
    mu = mean - (ref_mean - mu0) * s / s0, where sigma0 = sqrt(var0 + eps) of the stored level-0 statistics.
    Where the input is the unpruned one (unpruned units), this returns the level-0 statistics.
    """
    mu0, var0 = ref_stats.mean[:channels].to(mean.dtype), ref_stats.var[:channels].to(mean.dtype)
    ratio = torch.sqrt(var + eps) / torch.sqrt(ref_var + eps)
    sigma = torch.sqrt(var0 + eps) * ratio
    return mean - (ref_mean - mu0) * ratio, (sigma * sigma - eps).clamp_min(0)


class Stem(nn.Module):
    """Unit 0: 3x3 stride-2 convolution, batch norm, ReLU6. Not prunable."""

    def __init__(self, unit: Unit, levels: int, eps: float) -> None:
        super().__init__()
        self.spec = unit
        self.conv = Weights((unit.out_channels, unit.in_channels, unit.kernel, unit.kernel))
        self.bn = LevelBatchNorm(unit.out_channels, levels, eps)

    def forward(self, x: torch.Tensor, level: int, kept: int) -> torch.Tensor:
        """Runs the stem; `kept` is its full width."""
        return F.relu6(self.bn(conv_same(x, self.conv.weight, self.spec.stride), level))


class MBConv(nn.Module):
    """An MBConv block without squeeze-excitation: expand 1x1, depthwise kxk, project 1x1 (linear)."""

    def __init__(self, unit: Unit, levels: int, eps: float, refit: list[int] | None = None) -> None:
        """`levels`: the sets of batch-norm statistics (1 in format 2); `refit`: the kept channels of each pruned
        level of a prunable block in format 2 (its per-level project layers), else None."""
        super().__init__()
        self.spec = unit
        e, k = unit.expanded_channels, unit.kernel
        norms = levels
        if unit.expand:
            self.expand = Weights((e, unit.in_channels, 1, 1))
            self.bn0 = LevelBatchNorm(e, norms, eps)
        self.depthwise = Weights((e, 1, k, k))
        self.bn1 = LevelBatchNorm(e, norms, eps)
        self.project = Weights((unit.out_channels, e, 1, 1))
        self.bn2 = LevelBatchNorm(unit.out_channels, norms, eps)
        if refit:
            add_level_weights(self.project, [(unit.out_channels, kept, 1, 1) for kept in refit], unit.out_channels)

    def expanded(self, x: torch.Tensor, level: int, kept: int) -> torch.Tensor:
        """The block's first `kept` expanded channels after the depthwise convolution, batch norm and ReLU6."""
        h = x
        if self.spec.expand:
            h = F.relu6(self.bn0(F.conv2d(x, self.expand.weight[:kept]), level))
        h = conv_same(h, self.depthwise.weight[:kept], self.spec.stride, groups=kept)
        return F.relu6(self.bn1(h, level))

    def forward(self, x: torch.Tensor, level: int, kept: int) -> torch.Tensor:
        """Runs the block computing only the first `kept` expanded channels."""
        h = self.expanded(x, level, kept)
        fitted = level_weights(self.project, level)
        if fitted is not None:
            h = F.conv2d(h, fitted.weight, fitted.bias)
        else:
            h = self.bn2(F.conv2d(h, self.project.weight[:, :kept]), level)
        return h + x if self.spec.has_residual else h


class Head(nn.Module):
    """Unit 17: 1x1 convolution to the features, batch norm, ReLU6, global average pool, fully connected."""

    def __init__(self, unit: Unit, levels: int, eps: float, refit: list[int] | None = None) -> None:
        """`levels`: the sets of batch-norm statistics (1 in format 2); `refit`: the kept features of each pruned
        level in format 2 (its per-level fc layers), else None."""
        super().__init__()
        f = unit.expanded_channels
        self.conv = Weights((f, unit.in_channels, 1, 1))
        self.bn = LevelBatchNorm(f, levels, eps)
        self.fc = Weights((unit.out_channels, f), bias=unit.out_channels)
        if refit:
            add_level_weights(self.fc, [(unit.out_channels, kept) for kept in refit], unit.out_channels)

    def features(self, x: torch.Tensor, level: int, kept: int) -> torch.Tensor:
        """The first `kept` pooled features [N, kept]."""
        return F.relu6(self.bn(F.conv2d(x, self.conv.weight[:kept]), level)).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor, level: int, kept: int) -> torch.Tensor:
        """Runs the head with the first `kept` features; returns logits [N, classes]."""
        pooled = self.features(x, level, kept)
        fitted = level_weights(self.fc, level)
        if fitted is not None:
            return F.linear(pooled, fitted.weight, fitted.bias)
        return F.linear(pooled, self.fc.weight[:, :kept], self.fc.bias)


_UNIT_MODULES: dict[str, type[nn.Module]] = {"stem": Stem, "mbconv": MBConv, "head": Head}


def refit_widths(arch: Architecture, u: int) -> list[int] | None:
    """The kept channels of each pruned level of unit `u` when it is prunable (it then has per-level weights
    in format 2), else None."""
    if not arch.units[u].prunable:
        return None
    return [arch.kept(u, level) for level in range(1, arch.level_count)]


def unit_name(arch: Architecture, index: int) -> str:
    """The tensor-name prefix of unit `index`: `stem`, `block{i}` or `head`."""
    kind = arch.units[index].kind
    return f"block{index - 1}" if kind == "mbconv" else kind


class TraplineNet(nn.Module):
    """The whole network; `forward` runs any contiguous range of units, each at its own level."""

    def __init__(self, arch: Architecture, refit: bool = False) -> None:
        """`refit`: the format 2 form (one set of batch norms, per-level project and fc weights)."""
        super().__init__()
        self.arch = arch
        self.refit = refit
        self.names = [unit_name(arch, u) for u in range(arch.unit_count)]
        for u, unit in enumerate(arch.units):
            norms = 1 if refit else arch.level_count
            if unit.kind == "stem":
                module: nn.Module = Stem(unit, norms, arch.batch_norm_epsilon)
            else:
                kept = refit_widths(arch, u) if refit else None
                module = _UNIT_MODULES[unit.kind](unit, norms, arch.batch_norm_epsilon, kept)
            self.add_module(self.names[u], module)

    def unit(self, index: int) -> nn.Module:
        """The module of unit `index`."""
        return getattr(self, self.names[index])

    def forward(self, x: torch.Tensor, levels: Sequence[int], start: int = 0, end: int | None = None) -> torch.Tensor:
        """Runs units `start..<end`.

        - Parameters:
          - x: NCHW float input for unit 0, or the activation entering unit `start`.
          - levels: a level index per unit, either for every unit of the network or for units `start..<end`.
        - Returns: the activation leaving unit `end - 1` (NCHW), or logits [N, classes] when the head ran.
        """
        end = self.arch.unit_count if end is None else end
        if not 0 <= start < end <= self.arch.unit_count:
            raise ValueError(f"unit range {start}..<{end} outside 0..<{self.arch.unit_count}")
        offset = self._level_offset(levels, start, end)
        for u in range(start, end):
            x = self.run_unit(u, x, levels[u - offset])
        return x

    def run_unit(self, u: int, x: torch.Tensor, level: int) -> torch.Tensor:
        """Runs unit `u` at `level`: a width level, or `skip_level` for a residual block (the identity)."""
        if level == skip_level(self.arch):
            if not self.arch.units[u].has_residual:
                raise ValueError(f"unit {u} has no residual connection and cannot be skipped")
            return x
        return self.unit(u)(x, level, self.arch.kept(u, level))

    def _level_offset(self, levels: Sequence[int], start: int, end: int) -> int:
        if len(levels) == self.arch.unit_count:
            return 0
        if len(levels) == end - start:
            return start
        raise ValueError(
            f"{len(levels)} levels for units {start}..<{end}: give one per unit of the network "
            "or one per unit in the range"
        )
