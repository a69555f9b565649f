"""The least-squares refit of pruned levels, format 2 files and slice options, on tiny real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from trapline_training import levels, modelfile, refit, tolerance
from trapline_training.architecture import Architecture
from trapline_training.images import normalise
from trapline_training.model import skip_level

from .conftest import REPO, random_net

FORMAT_ONE = REPO / "Tests" / "InferenceTests" / "Fixtures" / "efficientnet-lite0-format1.safetensors"
FORMAT_TWO = REPO / "Tests" / "InferenceTests" / "Fixtures" / "efficientnet-lite0-format2.safetensors"


def test_fitting_material_and_evaluation_photos_are_disjoint() -> None:
    photos = {p.resolve() for p in refit.fit_photos()}
    assert len(photos) >= 30
    assert not photos & refit.held_out_files()
    assert not any(part in ("Path", "ColdRipple") for p in photos for part in p.parts)
    stamps = {s.path.resolve() for s in refit.fitted_stamps()}
    evaluated = {levels_module_path(p) for p in levels.held_out_photos()}
    assert len(stamps) >= 90 and len(evaluated) >= 50
    assert not evaluated & (stamps | photos)
    # The stamps of the camera-trap builder's held-out taxa stay in the evaluation set.
    assert any("mammals/deer" in str(p) for p in evaluated)


def levels_module_path(photo: dict) -> Path:
    from trapline_training.label_eval import resolve

    return resolve(photo["path"]).resolve()


def test_normal_equations_recover_an_exact_linear_map() -> None:
    rng = np.random.default_rng(0)
    inputs = torch.from_numpy(rng.normal(size=(500, 6)))
    weight, bias = torch.from_numpy(rng.normal(size=(3, 6))), torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    equations = refit.NormalEquations(6, 3)
    equations.add(inputs[:200], inputs[:200] @ weight.T + bias)
    equations.add(inputs[200:], inputs[200:] @ weight.T + bias)
    fitted, fitted_bias = equations.solve(0.0, torch.zeros(3, 6))
    # Noiseless data and no ridge: the float64 solve is exact to about 1e-12 relative (condition number of a
    # 500x7 Gaussian design is below 10); the results are returned as float32, whose rounding (6e-8 relative on
    # values below 4) dominates: 1e-5 is a wide bound.
    assert torch.allclose(fitted.double(), weight, atol=1e-5) and torch.allclose(fitted_bias.double(), bias, atol=1e-5)
    # A ridge pulls towards the prior: an enormous one returns the prior itself.
    prior = torch.ones(3, 6)
    pulled, _ = equations.solve(1e9, prior)
    assert torch.allclose(pulled, prior, atol=1e-4)


@pytest.fixture(scope="module")
def tiny(arch: Architecture) -> dict:
    source = random_net(arch, seed=3)
    views = normalise(refit.random_views(refit.fit_photos(), 12, seed=1))
    result = refit.refit(source, views, chunk=6, log=lambda _line: None)
    return {"source": source, "views": views, **result}


def test_refit_keeps_full_width_up_to_the_channel_order(tiny: dict, arch: Architecture) -> None:
    """The greedy re-ordering permutes hidden channels of the early units and nothing else changes at level 0:
    the logits differ by float32 summation order alone (tolerance from the arithmetic, as the goldens use),
    the later units' tensors are the source's exactly, and a re-ordered unit holds the same values."""
    source, model, x = tiny["source"], tiny["model"], tiny["views"][:4]
    with torch.no_grad():
        a, b = source(x, [0] * 18), model(x, [0] * 18)
    allowed = tolerance.float32_tolerance(tolerance.path_fan_in(arch, 18), float(a.abs().max()))
    assert float((a - b).abs().max()) <= allowed
    reference = source.state_dict()
    for name, tensor in model.state_dict().items():
        if ".level" in name and ".level0." not in name:
            continue
        unit = 0 if name.startswith("stem") else 17 if name.startswith("head") else int(name.split(".")[0][5:]) + 1
        if unit >= refit.GREEDY_BELOW:
            assert torch.equal(tensor, reference[name]), name
        else:
            assert torch.equal(tensor.flatten().sort().values, reference[name].flatten().sort().values), name


def test_each_fitted_layer_beats_the_unfitted_kept_columns_on_its_data(tiny: dict, arch: Architecture) -> None:
    """Least squares pulled towards the kept columns cannot end with a larger squared error than they have."""
    model, x = tiny["model"], tiny["views"]
    start = refit.refit_model(tiny["source"])
    level, unit = 2, 5
    with torch.no_grad():
        entry = model(x, [0] * unit, 0, unit)
        target = model.run_unit(unit, entry, 0)
        errors = [float(((m.run_unit(unit, entry, level) - target) ** 2).sum()) for m in (model, start)]
        assert errors[0] < errors[1]
        logits = model(x, [0] * 18)
        head = [float(((m(x, [0] * 17 + [level]) - logits) ** 2).sum()) for m in (model, start)]
        assert head[0] < head[1]


def test_format_two_round_trips_and_refuses_bad_options(tiny: dict, tmp_path: Path) -> None:
    meta = modelfile.read_metadata(FORMAT_ONE)
    out = refit.refit_metadata(meta, refit.residual_units(tiny["model"]), "test")
    path = tmp_path / "refit.safetensors"
    modelfile.write(path, tiny["model"], out, dtype="f32")
    model, read = modelfile.read(path)
    assert read["formatVersion"] == 2 and read["skippableUnits"] == [3, 5, 7, 8, 10, 11, 13, 14, 15]
    with torch.no_grad():
        x = tiny["views"][:2]
        vector = [0, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2]
        assert torch.equal(model(x, vector), tiny["model"](x, vector))
    bad = [
        ({"skippableUnits": [4]}, "not a residual block"),
        ({"skippableUnits": [5, 3]}, "ascending"),
        ({"sliceOptions": [{"name": "w1", "skip": True, "level": 0}]}, "unique"),
        ({"sliceOptions": [{"name": "x", "skip": True, "level": 9}]}, "level"),
        ({"sliceOptions": [{"name": "x", "skip": True}]}, "exactly"),
    ]
    for change, message in bad:
        with pytest.raises(ValueError, match=message):
            modelfile.write(tmp_path / "bad.safetensors", tiny["model"], {**out, **change})
    with pytest.raises(ValueError, match="re-fitted"):
        modelfile.write(tmp_path / "bad.safetensors", tiny["source"], out)


def test_option_levels_skip_only_the_slices_skippable_units() -> None:
    meta = modelfile.read_metadata(FORMAT_TWO)
    plan = meta["slicePlans"]["4"]
    assert levels.option_levels(meta, plan, [0, 4, 0, 2]) == [0] * 3 + [4, 0, 4, 0, 4] + [0] * 5 + [2] * 5
    assert levels.option_names(meta) == ["w1", "w0.75", "w0.5", "w0.25", "skip"]
    with pytest.raises(ValueError, match="option 5"):
        levels.option_levels(meta, plan, [0, 5, 0, 0])


def modelfile_path() -> Path:
    return REPO / "Models" / "efficientnet-lite0.safetensors"


def test_skipping_a_unit_is_the_identity(tiny: dict, arch: Architecture) -> None:
    model, x = tiny["model"], tiny["views"][:2]
    with torch.no_grad():
        entry = model(x, [0] * 3, 0, 3)
        assert torch.equal(model.run_unit(3, entry, skip_level(arch)), entry)
        with pytest.raises(ValueError, match="cannot be skipped"):
            model.run_unit(4, model.run_unit(3, entry, 0), skip_level(arch))


def test_written_labels_follow_the_labeler() -> None:
    """The Python copy of the Swift Labeler: roll-up to the deepest taxon reaching 0.5, types, blank."""
    meta = modelfile.read_metadata(modelfile_path())
    labels = levels.Labels(meta)
    taxonomy = meta["taxonomy"]
    red_fox = next(i for i, c in enumerate(taxonomy["classes"]) if c["vernacular"].startswith("red fox"))
    kit_fox = next(i for i, c in enumerate(taxonomy["classes"]) if c["vernacular"].startswith("kit fox"))
    people = next(i for i, c in enumerate(taxonomy["classes"]) if c["type"] == "human")
    rows = np.zeros((4, 1000))
    rows[0, red_fox] = 0.9
    rows[1, red_fox], rows[1, kit_fox], rows[1, 900] = 0.3, 0.3, 0.4  # neither fox reaches 0.5; Vulpes does
    rows[2, people] = 0.8
    rows[3, :] = 0.3 / 1000
    rows[3, 900] = 0.7  # some object: blank
    animal, written = labels.written(rows / rows.sum(1, keepdims=True))
    assert animal.tolist() == [True, True, False, False]
    assert written[0] == taxonomy["taxa"][taxonomy["classes"][red_fox]["taxon"]]["name"] == "Vulpes vulpes"
    assert written[1] == "Vulpes" and written[2] == f"human:{people}" and written[3] == "blank"


@pytest.mark.parametrize(
    ("path", "options"), [(FORMAT_TWO, 5), (REPO / "Models" / "efficientnet-lite0.safetensors", 6)]
)
def test_the_committed_models_carry_real_photo_curves_per_option(path: Path, options: int) -> None:
    meta = modelfile.read_metadata(path)
    accuracy = meta["accuracy"]
    assert accuracy["metric"] == "top1-agreement" and "real photos" in accuracy["evaluatedOn"]
    assert all(len(curve) == options and curve[0] == 1.0 for curve in accuracy["slices"])
    assert len(accuracy["uniform"]) == len(meta["pruneLevels"]) and all(
        0 <= v <= 1 for c in accuracy["slices"] for v in c
    )


def test_the_commands_run_end_to_end_on_tiny_data(tmp_path: Path) -> None:
    """`refit` then `levels --store` as the model card runs them, on 12 views and 3 held-out photos: the file
    they write loads, keeps the source's full width, and carries curves with one value per option."""
    out = tmp_path / "tiny.safetensors"
    assert refit.main(["--model", str(FORMAT_ONE), "--out", str(out), "--views", "12", "--threads", "1"]) == 0
    report = tmp_path / "report"
    argv = ["--model", str(out), "--photos", "3", "--camtrap", "0", "--mixed", "2", "--out", str(report), "--store"]
    assert levels.main([*argv, "--reference", str(FORMAT_ONE)]) == 0
    _, meta = modelfile.read(out)
    assert meta["formatVersion"] == 2 and "re-fitted" in meta["provenance"]["prunedLevels"]
    assert all(len(curve) == 5 for curve in meta["accuracy"]["slices"])
    written = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert written["sets"]["real"]["photos"] == 3 and written["sets"]["real"]["views"] == 9
    assert written["mixed"]["sampled"] == 2
    # Full width: the re-ordered channels compute what the source computes, up to float32 summation order.
    assert written["fullWidthAgainstReference"]["real"]["top1Agreement"] == 1.0
