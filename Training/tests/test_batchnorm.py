from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
import torch

from trapline_training import batchnorm
from trapline_training.images import PHOTOS, load_photo, normalise
from trapline_training.model import BatchNormStats, TraplineNet, matched_statistics

PLAN = [0, 3, 8, 13, 18]


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    images = np.stack([load_photo(p.path, size=96) for p in PHOTOS])
    return normalise(np.concatenate([images, images[:, :, ::-1]]))


def test_matched_statistics_give_the_reference_moments_after_normalising() -> None:
    generator = torch.Generator().manual_seed(0)
    reference = torch.randn(4000, 6, generator=generator) * 3 + 1
    pruned = torch.randn(4000, 6, generator=generator) * 0.5 - 2
    stats = BatchNormStats(6)
    stats.mean.copy_(torch.tensor([0.5, 1, 2, -1, 0, 3]))
    stats.var.copy_(torch.tensor([4.0, 9, 1, 2, 16, 0.5]))
    eps = 1e-3
    ref_var, ref_mean = torch.var_mean(reference, 0, correction=0)
    var, mean = torch.var_mean(pruned, 0, correction=0)
    mu, sigma2 = matched_statistics(mean, var, ref_mean, ref_var, stats, 6, eps)
    normalised_ref = (reference - stats.mean) / torch.sqrt(stats.var + eps)
    normalised = (pruned - mu) / torch.sqrt(sigma2 + eps)
    # Means of 4000 float32 values of magnitude a few units: summation error about 4 * sqrt(4000) * 2^-24 * 3 = 5e-5
    # (Higham and Mary's probabilistic bound, as in tolerance.py), inside 1e-4.
    torch.testing.assert_close(normalised.mean(0), normalised_ref.mean(0), atol=1e-4, rtol=1e-4)
    # The deviations' ratio carries eps (so that dead channels stay finite): equal within 1% here.
    torch.testing.assert_close(normalised.var(0), normalised_ref.var(0), atol=1e-3, rtol=1e-2)
    same_mu, same_var = matched_statistics(ref_mean, ref_var, ref_mean, ref_var, stats, 6, eps)
    # Matching a distribution to itself returns the stored statistics up to a few float32 roundings (PyTorch's
    # default float32 tolerance, 1.3e-6 relative, is that order).
    torch.testing.assert_close(same_mu, stats.mean)
    torch.testing.assert_close(same_var, stats.var)


@torch.inference_mode()
def test_recalibration_changes_pruned_levels_only(sorted_net: TraplineNet, photos: torch.Tensor) -> None:
    model = copy.deepcopy(sorted_net)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    full = model(photos, [0] * 18)
    pruned = model(photos, [2] * 18)
    assert batchnorm.recalibrate(model, [photos[:3], photos[3:]], PLAN, mixed=1) == 6
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items() if ".level0." in k or ".level" not in k)
    torch.testing.assert_close(model(photos, [0] * 18), full, atol=0, rtol=0)
    # Units that are never pruned see the unpruned input at level l: they keep level 0's statistics. The matched
    # statistics are computed from the same activations at both levels, so only float32 rounding of the batch
    # moments (about sqrt(n) * 2^-24 relative, n the values averaged) separates them: 1e-3 leaves a wide margin.
    for site in ("stem.bn", "block0.bn1", "block0.bn2"):
        torch.testing.assert_close(after[f"{site}.level2.mean"], after[f"{site}.level0.mean"], atol=1e-3, rtol=1e-3)
    assert not torch.allclose(after["block5.bn2.level3.mean"], before["block5.bn2.level3.mean"])
    assert not torch.allclose(model(photos, [2] * 18), pruned)
    assert all(norm.mode == "inference" and not norm.calibration for norm in batchnorm.norms(model))


def test_calibration_vectors_cover_pruned_levels_and_mixes() -> None:
    vectors = batchnorm.calibration_vectors(4, PLAN, 3, np.random.default_rng(0))
    assert vectors[:3] == [[1] * 18, [2] * 18, [3] * 18]
    for vector in vectors[3:]:
        assert all(len(set(vector[a:b])) == 1 for a, b in itertools.pairwise(PLAN))
    with pytest.raises(ValueError, match="mode"):
        batchnorm.set_mode(TraplineNet.__new__(TraplineNet), "train")
