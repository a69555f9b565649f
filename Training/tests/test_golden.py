from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open

from tests.conftest import GOLDEN_FILE, MODEL_FILE
from trapline_training import golden, modelfile


def load(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    with safe_open(str(path), framework="pt") as f:
        return {name: f.get_tensor(name) for name in f.keys()}, json.loads(f.metadata()["golden"])  # noqa: SIM118


def test_the_committed_goldens_regenerate_from_the_committed_model_file(tmp_path: Path) -> None:
    out = tmp_path / "golden.safetensors"
    golden.write(MODEL_FILE, out)
    committed, committed_meta = load(GOLDEN_FILE)
    fresh, fresh_meta = load(out)
    assert committed_meta == fresh_meta
    assert committed_meta["model"]["sha256"] == modelfile.sha256(MODEL_FILE)
    assert set(fresh) == set(committed)
    for name, tensor in committed.items():
        assert fresh[name].dtype == tensor.dtype and fresh[name].shape == tensor.shape, name
        if tensor.dtype == torch.uint8:
            assert torch.equal(fresh[name], tensor), name
        else:
            torch.testing.assert_close(fresh[name], tensor, atol=1e-5, rtol=1e-5, msg=name)


def test_the_goldens_hold_what_the_engine_tests_need() -> None:
    tensors, meta = load(GOLDEN_FILE)
    boundaries = meta["planBoundaries"]
    assert boundaries == modelfile.read_metadata(MODEL_FILE)["slicePlans"]["4"]
    assert len(meta["mixedLevels"]) == 18 and meta["mixedSliceLevels"] == [0, 3, 1, 2]
    for k in range(3):
        assert tensors[f"input.{k}"].shape == (224, 224, 3) and tensors[f"input.{k}"].dtype == torch.uint8
        for level in range(4):
            assert tensors[f"logits.{k}.level{level}"].shape == (1000,)
    for level in range(4):
        for b in boundaries[1:-1]:
            activation = tensors[f"activation.level{level}.unit{b}"]
            assert activation.dim() == 4 and activation.shape[0] == 1 and activation.dtype == torch.float32
    assert tensors["logits.0.mixed"].shape == (1000,)
    assert not torch.allclose(tensors["logits.0.level0"], tensors["logits.0.level3"])
    assert int(tensors["logits.0.level0"].argmax()) == 335  # fox squirrel
    assert int(tensors["logits.1.level0"].argmax()) == 372  # baboon
