"""Per-level batch-norm statistics, re-estimated from images so that every pruned level mimics the unpruned one.

Plain recalibration (each level's own population statistics) would re-normalise every pruned level for the
images at hand, while the unpruned network keeps the statistics of its original training data: on other
images the two then differ by more than the pruning. So a pruned level's statistics are chosen such that,
at every batch norm, its normalised output has the per-channel mean and variance the unpruned network's
has on the same images (`model.matched_statistics`). An unpruned unit therefore keeps level 0's statistics,
and the full width keeps the original's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import torch

from .model import LevelBatchNorm, TraplineNet, matched_statistics
from .slicing import levels_for_slices


def norms(model: TraplineNet) -> list[LevelBatchNorm]:
    """Every batch-norm site of the model."""
    return [m for m in model.modules() if isinstance(m, LevelBatchNorm)]


def set_mode(model: TraplineNet, mode: str, levels: Iterable[int] | None = None) -> None:
    """Sets every batch norm's mode and the levels it re-estimates (default: every level but 0)."""
    if mode not in LevelBatchNorm.MODES:
        raise ValueError(f"batch-norm mode must be one of {LevelBatchNorm.MODES}, not {mode!r}")
    adapting = frozenset(range(1, model.arch.level_count)) if levels is None else frozenset(levels)
    for norm in norms(model):
        norm.mode = mode
        norm.adapting = adapting


@contextlib.contextmanager
def mode(model: TraplineNet, name: str, levels: Iterable[int] | None = None) -> Iterator[None]:
    """Runs a block with every batch norm in mode `name`, then returns them to `inference`."""
    set_mode(model, name, levels)
    try:
        yield
    finally:
        set_mode(model, "inference")


def calibration_vectors(
    level_count: int, boundaries: Sequence[int], mixed: int, rng: np.random.Generator
) -> list[list[int]]:
    """Level vectors for one calibration batch: every pruned level for the whole network, then `mixed`
    vectors whose slices of the plan `boundaries` take independent random levels (mixed inputs)."""
    units = boundaries[-1]
    vectors = [[level] * units for level in range(1, level_count)]
    slices = len(boundaries) - 1
    for _ in range(mixed):
        vectors.append(levels_for_slices(boundaries, [int(v) for v in rng.integers(0, level_count, slices)]))
    return vectors


def _set_from_sums(norm: LevelBatchNorm) -> None:
    for level, sums in norm.calibration.items():
        c = int((sums[4] > 0).sum())  # the widest prefix this level computed
        n = sums[4][:c]
        mean, ref_mean = sums[0][:c] / n, sums[2][:c] / n
        var = (sums[1][:c] / n - mean * mean).clamp_min(0)
        ref_var = (sums[3][:c] / n - ref_mean * ref_mean).clamp_min(0)
        mu, sigma2 = matched_statistics(mean, var, ref_mean, ref_var, norm.stats(0), c, norm.eps)
        stats = norm.stats(level)
        stats.mean[:c] = mu.float()
        stats.var[:c] = sigma2.float()


@torch.no_grad()
def recalibrate(
    model: TraplineNet,
    batches: Iterable[torch.Tensor],
    boundaries: Sequence[int] | None = None,
    mixed: int = 2,
    seed: int = 0,
    levels: Iterable[int] | None = None,
) -> int:
    """Re-estimates the pruned levels' batch-norm statistics from images, matched to the unpruned network.

    Each batch runs once unpruned (the reference), then at every pruned level and at `mixed` random
    per-slice level vectors of the plan `boundaries` (the whole network as one slice when None). A unit at
    level l adds its batch moments, paired with the reference's, to level l's sums whatever the other units'
    levels, and normalises to the reference's moments so that later units see what they will see once the
    statistics are set. Then every re-estimated level gets `matched_statistics` of the summed moments.
    Only `levels` change (default: every level but 0); affine parameters are unchanged; channels a level
    never computes keep their statistics.

    - Parameters:
      - batches: NCHW float inputs (normalised images).
    - Returns: the number of images used.
    """
    boundaries = list(boundaries) if boundaries is not None else [0, model.arch.unit_count]
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    sites = norms(model)
    for norm in sites:
        norm.calibration = {}
    images = 0
    try:
        for x in batches:
            with mode(model, "reference", levels):
                model(x, model.arch.full_levels(0))
            with mode(model, "calibrate", levels):
                for vector in calibration_vectors(model.arch.level_count, boundaries, mixed, rng):
                    model(x, vector)
            images += len(x)
        for norm in sites:
            _set_from_sums(norm)
    finally:
        for norm in sites:
            norm.calibration = {}
            norm.reference = None
    model.train(was_training)
    return images
