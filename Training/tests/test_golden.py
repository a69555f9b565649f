from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from tests.conftest import GOLDEN_FILE, MODEL_FILE
from trapline_training import golden, modelfile
from trapline_training.architecture import lite0
from trapline_training.model import TraplineNet


def load(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    with safe_open(str(path), framework="pt") as f:
        return {name: f.get_tensor(name) for name in f.keys()}, json.loads(f.metadata()["golden"])  # noqa: SIM118


def without_versions(meta: dict) -> dict:
    """The golden metadata with version numbers (Pillow 13.0.0, torch 2.13.0+cpu) blanked."""
    return json.loads(re.sub(r"(Pillow|torch) [0-9][^ ,:]*", r"\1 *", json.dumps(meta)))


def test_the_committed_goldens_regenerate_from_the_committed_model_file(tmp_path: Path) -> None:
    out = tmp_path / "golden.safetensors"
    golden.write(MODEL_FILE, out)
    committed, committed_meta = load(GOLDEN_FILE)
    fresh, fresh_meta = load(out)
    # Tool versions are provenance, not content: another Pillow or PyTorch build may regenerate the same inputs
    # (compared exactly below) and logits within the tolerance.
    assert without_versions(committed_meta) == without_versions(fresh_meta)
    assert committed_meta["model"]["sha256"] == modelfile.sha256(MODEL_FILE)
    assert set(fresh) == set(committed)
    for name, tensor in committed.items():
        assert fresh[name].dtype == tensor.dtype and fresh[name].shape == tensor.shape, name
    # Another CPU, another PyTorch kernel: float32 rounds differently. The tolerance comes from the arithmetic
    # (trapline_training/tolerance.py: 2 * 4 * 2^-24 * sqrt(fan-in along the path) * max|T|, 3.4e-4 to 8e-4 here).
    differences = golden.differences_against(fresh, committed, lite0())
    print("largest |difference| / tolerance:", max(d / t if t else d for d, t in differences.values()))
    assert not {name: d for name, d in differences.items() if d[0] > d[1]}


@pytest.fixture(scope="module")
def committed_goldens() -> tuple[TraplineNet, dict, dict[str, torch.Tensor]]:
    model, meta = modelfile.read(MODEL_FILE)
    return model, meta, load(GOLDEN_FILE)[0]


def one_weight(model: TraplineNet) -> None:
    """One weight of unit 5's expand convolution 1% larger."""
    model.state_dict()["block4.expand.weight"][0, 0, 0, 0] *= 1.01


def channel_order(model: TraplineNet) -> None:
    """Two output channels of unit 10's project convolution swapped (the next unit still reads the old order)."""
    weight = model.state_dict()["block9.project.weight"]
    weight[[3, 4]] = weight[[4, 3]].clone()


def batch_norm_statistic(model: TraplineNet) -> None:
    """One channel's running mean in unit 7's depthwise batch norm moved by a hundredth of its deviation."""
    state = model.state_dict()
    state["block6.bn1.level0.mean"][10] += 0.01 * state["block6.bn1.level0.var"][10].sqrt()


@pytest.mark.parametrize("change", [one_weight, channel_order, batch_norm_statistic])
def test_the_golden_check_catches_a_real_change_to_the_model(
    committed_goldens: tuple[TraplineNet, dict, dict[str, torch.Tensor]], change: Callable[[TraplineNet], None]
) -> None:
    model, meta, committed = committed_goldens
    changed = copy.deepcopy(model)
    with torch.no_grad():
        change(changed)
    fresh = golden.tensors_for(changed, meta["slicePlans"]["4"], meta)
    differences = golden.differences_against(fresh, committed, changed.arch)
    assert any(d > t for d, t in differences.values())


def test_the_goldens_hold_what_the_engine_tests_need() -> None:
    tensors, meta = load(GOLDEN_FILE)
    boundaries = meta["planBoundaries"]
    assert boundaries == modelfile.read_metadata(MODEL_FILE)["slicePlans"]["4"]
    assert len(meta["mixedLevels"]) == 18 and meta["mixedSliceLevels"] == [0, 3, 1, 2]
    for k in range(3):
        assert tensors[f"input.{k}"].shape == (224, 224, 3) and tensors[f"input.{k}"].dtype == torch.uint8
        for level in range(5):
            assert tensors[f"logits.{k}.level{level}"].shape == (1000,)
    for level in range(5):
        for b in boundaries[1:-1]:
            activation = tensors[f"activation.level{level}.unit{b}"]
            assert activation.dim() == 4 and activation.shape[0] == 1 and activation.dtype == torch.float32
    # The slice option of the bundled model (skip, option 5 after five widths): on each slice of the 4-node plan,
    # and a mixed vector of widths.
    assert meta["mixedSliceOptions"] == [1, 4, 2, 4]
    for slice_index in range(4):
        assert tensors[f"logits.0.slice{slice_index}.option5"].shape == (1000,)
    assert tensors["logits.0.mixedOptions"].shape == (1000,)
    assert tensors["logits.0.mixed"].shape == (1000,)
    assert not torch.allclose(tensors["logits.0.level0"], tensors["logits.0.level3"])
    assert int(tensors["logits.0.level0"].argmax()) == 335  # fox squirrel
    assert int(tensors["logits.1.level0"].argmax()) == 372  # baboon
