"""Training for every option at once (`slimmable`), format 3 files, and judging options against the truth."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from trapline_training import levels, modelfile, slimmable
from trapline_training.images import PHOTOS, load_photo
from trapline_training.model import TraplineNet, skip_level
from trapline_training.taxonomy import Taxonomy, read_wordnet

from .conftest import REPO

FORMAT_TWO = REPO / "Tests" / "InferenceTests" / "Fixtures" / "efficientnet-lite0-format2.safetensors"


@pytest.fixture(scope="module")
def source() -> tuple[TraplineNet, dict]:
    return modelfile.read(FORMAT_TWO)


def photo_pool(folder: Path, count: int, seed: int) -> None:
    """Puts a pool of real photos (and their mirror images) where `slimmable.pool` looks for its cache."""
    images = np.stack([load_photo(p.path) for p in PHOTOS])
    views = np.concatenate([images, images[:, :, ::-1]])[:count]
    np.save(folder / f"pool-{count}-{seed}.npy", views)


def test_training_images_never_include_the_evaluation_photos_or_backgrounds() -> None:
    from trapline_training import refit

    photos = set(slimmable.training_photos())
    assert len(photos) >= len(refit.fit_photos()) and not photos & refit.held_out_files()
    assert not any(part in refit.EVAL_WALLPAPERS for p in photos for part in p.parts)


def test_widening_keeps_full_width_and_gives_every_level_batch_norms(source: tuple[TraplineNet, dict]) -> None:
    model, _ = source
    wide = slimmable.widened(model, slimmable.PRUNE_LEVELS)
    assert not wide.refit and wide.arch.level_count == 5
    assert [wide.arch.kept(6, level) for level in range(5)] == [240, 208, 184, 120, 64]
    x = torch.from_numpy(np.stack([load_photo(p.path) for p in PHOTOS[:2]])).permute(0, 3, 1, 2).float() / 128 - 1
    with torch.no_grad():
        # The same weights and level-0 statistics: the same operations in the same order, so equal bit for bit.
        assert torch.equal(wide(x, [0] * 18), model(x, [0] * 18))
    state = wide.state_dict()
    assert torch.equal(state["block5.bn1.level4.mean"], state["block5.bn1.level0.mean"])


def test_option_vectors_prune_at_least_one_slice_of_some_plan(source: tuple[TraplineNet, dict]) -> None:
    _, meta = source
    meta = {**meta, "pruneLevels": list(slimmable.PRUNE_LEVELS)}
    skip = len(slimmable.PRUNE_LEVELS)
    skippable = set(meta["skippableUnits"])
    rng = np.random.default_rng(0)
    seen: set[int] = set()
    for vector in slimmable.option_vectors(rng, meta, 200):
        assert len(vector) == 18 and any(vector)
        assert all(u in skippable for u, level in enumerate(vector) if level == skip)
        seen |= set(vector)
    assert seen == set(range(skip + 1))  # every width level and the skip level occur


def test_batches_depend_on_the_seed_and_step_only() -> None:
    views = np.stack([load_photo(p.path) for p in PHOTOS])
    recipe = slimmable.Recipe(batch=2)
    a, b = slimmable.batch_for(views, recipe, 7), slimmable.batch_for(views, recipe, 7)
    assert torch.equal(a, b) and a.shape == (2, 3, 224, 224)
    assert not torch.equal(a, slimmable.batch_for(views, recipe, 8))


def test_a_resumed_run_ends_where_an_uninterrupted_one_does_and_writes_format_three(tmp_path: Path) -> None:
    """Three steps in one session, and two then one in two sessions, give the same weights; the pruned passes'
    loss falls; the file written loads with five width levels and the skip option."""
    recipe = slimmable.Recipe(
        form="shared",
        steps=3,
        batch=2,
        random=1,
        warmup=1,
        views=6,
        calibration_images=4,
        recalibration_images=2,
        recalibrate_every=2,
    )
    states = []
    for sessions in ([3], [2, 1]):
        work = tmp_path / f"run{len(sessions)}"
        work.mkdir()
        photo_pool(work, recipe.views, recipe.seed)
        for steps in sessions:
            run = slimmable.Run(work, FORMAT_TWO, recipe, log=lambda _: None)
            run.train(minutes=60, checkpoint_every=1, until=run.progress.step + steps)
        states.append(run.model.state_dict())
    for name, tensor in states[0].items():
        assert torch.equal(tensor, states[1][name]), name
    out = tmp_path / "trained.safetensors"
    run.finish(out, "test", "f16")
    model, meta = modelfile.read(out)
    assert meta["formatVersion"] == 3 and meta["pruneLevels"] == list(slimmable.PRUNE_LEVELS)
    assert levels.option_names(meta) == ["w1", "w0.875", "w0.75", "w0.5", "w0.25", "skip"]
    assert "2 sessions" in meta["provenance"]["training"] and not model.refit
    assert skip_level(model.arch) == 5


def test_the_layers_form_trains_only_the_pruned_levels_and_lowers_their_loss(
    source: tuple[TraplineNet, dict], tmp_path: Path
) -> None:
    """Per-level layers learn (the narrowest level's loss falls on the batches it trains on, repeated), every
    weight full width uses is the source's bit for bit, the checkpoint resumes, and the file is format 2."""
    recipe = slimmable.Recipe(steps=6, batch=2, random=1, warmup=1, views=2, level_lr=1e-3)
    photo_pool(tmp_path, recipe.views, recipe.seed)
    run = slimmable.Run(tmp_path, FORMAT_TWO, recipe, log=lambda _: None)
    run.train(minutes=60, checkpoint_every=2)
    assert run.progress.step == 6 and (tmp_path / "checkpoint.pt").exists()
    narrowest = [losses[1] for losses in run.progress.losses]
    assert np.mean(narrowest[-2:]) < np.mean(narrowest[:2]), narrowest
    original, trained = source[0].state_dict(), run.model.state_dict()
    changed = {name for name, tensor in trained.items() if not torch.equal(tensor, original[name])}
    assert changed and all(".project.level" in name or ".fc.level" in name for name in changed)
    resumed = slimmable.Run(tmp_path, FORMAT_TWO, recipe, log=lambda _: None)
    assert resumed.progress.step == 6 and resumed.progress.losses == run.progress.losses
    with pytest.raises(ValueError, match="another recipe"):
        slimmable.Run(tmp_path, FORMAT_TWO, dataclasses.replace(recipe, level_lr=1.0), log=lambda _: None)
    out = tmp_path / "layers.safetensors"
    resumed.finish(out, "test", "f16")
    model, meta = modelfile.read(out)
    assert meta["formatVersion"] == 2 and model.refit and meta["pruneLevels"] == [0.0, 0.25, 0.5, 0.75]


def test_format_three_needs_batch_norms_per_level_and_options(source: tuple[TraplineNet, dict], tmp_path: Path) -> None:
    model, meta = source
    wide = slimmable.widened(model, slimmable.PRUNE_LEVELS)
    out = {**meta, "formatVersion": 3, "pruneLevels": list(slimmable.PRUNE_LEVELS), "accuracy": None}
    out["keptChannels"] = wide.arch.kept_table()
    modelfile.write(tmp_path / "three.safetensors", wide, out)
    assert modelfile.read_metadata(tmp_path / "three.safetensors")["formatVersion"] == 3
    with pytest.raises(ValueError, match="re-fitted"):
        modelfile.write(tmp_path / "bad.safetensors", model, {**meta, "formatVersion": 3})
    with pytest.raises(ValueError, match="at least one slice option"):
        modelfile.write(tmp_path / "bad.safetensors", wide, {**out, "sliceOptions": []})
    with pytest.raises(ValueError, match="version 1, 2 or 3"):
        modelfile.write(tmp_path / "bad.safetensors", wide, {**out, "formatVersion": 4})


def test_mcnemar_is_the_exact_binomial_test_of_the_discordant_views() -> None:
    full = np.array([True] * 6 + [False, True, False])
    pruned = np.array([False] * 6 + [False, True, False])
    # Six views right at full width only, none right pruned only: 2 * 0.5^6.
    assert levels.mcnemar(full, pruned) == {"fullOnly": 6, "prunedOnly": 0, "p": 0.0312}
    # Two against one: 2 * (C(3,0) + C(3,1)) / 8 = 1.
    assert levels.mcnemar(np.array([True, True, False]), np.array([False, False, True]))["p"] == 1.0
    assert levels.mcnemar(full, full) == {"fullOnly": 0, "prunedOnly": 0, "p": 1.0}


def test_truth_judges_written_labels_and_top1_classes_on_the_lineage(source: tuple[TraplineNet, dict]) -> None:
    _, meta = source
    frog = next(p for p in levels.truth_photos() if p["scientificName"] == "Salientia")
    truth = levels.Truth(meta, [frog, frog, frog, frog, None], Taxonomy(read_wordnet()))
    classes = meta["taxonomy"]["classes"]
    bullfrog = next(i for i, c in enumerate(classes) if c["vernacular"].startswith("bullfrog"))
    goldfish = next(i for i, c in enumerate(classes) if c["vernacular"].startswith("goldfish"))
    top1 = torch.tensor([bullfrog, goldfish, bullfrog, goldfish, goldfish])
    outcomes = truth.outcomes(["Salientia", "Animalia", "Canidae", "blank", "Salientia"], top1)
    # The truth itself and an ancestor are right; another branch and blank are wrong; no truth: not judged.
    assert outcomes["truthWritten"][:4].tolist() == [1.0, 1.0, 0.0, 0.0] and np.isnan(outcomes["truthWritten"][4])
    assert outcomes["truthTop1"][:4].tolist() == [1.0, 0.0, 1.0, 0.0]
