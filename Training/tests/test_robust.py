from __future__ import annotations

import copy
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import MODEL_FILE
from trapline_training import modelfile, robust
from trapline_training.images import PHOTOS, load_photo, normalise
from trapline_training.model import TraplineNet
from trapline_training.slicing import levels_for_slices

PLAN = [0, 3, 8, 13, 18]


def photos(size: int = 96) -> torch.Tensor:
    images = np.stack([load_photo(p.path, size=size) for p in PHOTOS])
    return normalise(np.concatenate([images, images[:, :, ::-1]]))


def test_sandwich_vectors_are_full_narrowest_then_random_per_slice() -> None:
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(20):
        vectors = robust.sandwich_vectors(rng, 4, PLAN, 2)
        assert len(vectors) == 4 and vectors[0] == [0] * 18 and vectors[1] == [3] * 18
        for vector in vectors[2:]:
            slice_levels = [vector[a] for a in PLAN[:-1]]
            assert vector == levels_for_slices(PLAN, slice_levels)
            seen.add(tuple(slice_levels))
    assert any(len(set(v)) > 1 for v in seen)  # mixed level vectors occur


def test_learning_rates_warm_up_then_decay_to_zero() -> None:
    recipe = robust.Recipe(steps=100, warmup=10)
    rates = [robust.schedule(s, recipe) for s in range(100)]
    assert rates[0] == 0.1 and rates[9] == 1.0
    assert all(a >= b for a, b in itertools.pairwise(rates[9:])) and rates[-1] < 1e-2


def test_a_few_sandwich_steps_lower_the_pruned_loss_and_export_round_trips(
    sorted_net: TraplineNet, tmp_path: Path
) -> None:
    x = photos()
    teacher = robust.frozen_teacher(sorted_net)
    student = copy.deepcopy(sorted_net)
    student.requires_grad_(True)
    recipe = robust.Recipe(steps=5, lr=1e-3, warmup=1, random=1, recalibrate_every=4)
    batches = itertools.repeat((x, torch.zeros(len(x), dtype=torch.long)))
    history = robust.train(student, batches, recipe, PLAN, teacher, calibration=[x], log=None)
    assert history.steps == 5 and all(len(losses) == 3 for losses in history.losses)
    # The full width starts as the teacher: KL(p || p) = 0 but for float32 rounding of the log-softmax terms, a few
    # units of 2^-24 each, weighted by p (which sums to 1): far below 1e-6.
    assert history.losses[0][0] < 1e-6
    narrowest = [losses[1] for losses in history.losses]
    assert narrowest[-1] < 0.7 * narrowest[0], narrowest
    with torch.inference_mode():
        logits = student(x, [3] * 18)
    assert logits.shape == (6, 1000) and torch.isfinite(logits).all()

    template = modelfile.read_metadata(MODEL_FILE)
    meta = robust.derived_metadata(template, student, name="robust-test", training="test run")
    path = tmp_path / "robust.safetensors"
    modelfile.write(path, student, meta, "f32")
    loaded, loaded_meta = modelfile.read(path)
    assert loaded_meta == meta and loaded_meta["accuracy"] is None
    assert loaded_meta["slicePlans"] == template["slicePlans"]
    assert loaded_meta["unitCostsMs"] == template["unitCostsMs"]
    assert loaded_meta["classes"] == template["classes"]
    assert loaded_meta["provenance"]["training"] == "test run"
    mixed = levels_for_slices(PLAN, [0, 3, 1, 2])
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x, mixed), student(x, mixed), atol=0, rtol=0)


def test_with_the_shared_weights_frozen_only_pruned_batch_norms_learn(
    sorted_net: TraplineNet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A random vector may put every slice at level 0: nothing trains there, and the step must go on.
    monkeypatch.setattr(robust, "sandwich_vectors", lambda *_: [[0] * 18, [3] * 18, [0] * 18])
    x = photos(64)
    student = copy.deepcopy(sorted_net)
    student.requires_grad_(True)
    recipe = robust.Recipe(steps=4, lr=0.0, level_lr=1e-2, warmup=1, random=0, recalibrate_every=0)
    batches = itertools.repeat((x, torch.zeros(len(x), dtype=torch.long)))
    history = robust.train(student, batches, recipe, PLAN, robust.frozen_teacher(sorted_net), log=None)
    assert all(losses[0] == losses[2] == 0.0 for losses in history.losses)  # the full width is not run
    assert history.losses[-1][1] < history.losses[0][1]
    before, after = sorted_net.state_dict(), student.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(".level" in k and ".level0." not in k for k in changed)
    assert all(k.endswith((".weight", ".bias")) for k in changed)
