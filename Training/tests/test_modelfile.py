from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from tests.conftest import MODEL_FILE, random_net
from trapline_training import modelfile
from trapline_training.architecture import Architecture
from trapline_training.model import TraplineNet
from trapline_training.slicing import slice_plans


def metadata(arch: Architecture) -> dict:
    costs = [float(u + 1) for u in range(arch.unit_count)]
    return modelfile.build_metadata(
        arch,
        name="test",
        class_names=[f"class {i}" for i in range(1000)],
        animal_ranges=[[0, 397]],
        unit_costs_ms=costs,
        slice_plans=slice_plans(costs),
        provenance={"source": "random", "converter": "test", "created": "2026-11-28T00:00:00Z"},
        license="MIT",
    )


def header(path: Path) -> dict:
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length))


@pytest.mark.parametrize(("dtype", "stored"), [("f32", "F32"), ("f16", "F16")])
def test_write_then_read_round_trips_tensors_and_metadata(
    arch: Architecture, tmp_path: Path, dtype: str, stored: str
) -> None:
    model, meta = random_net(arch, seed=5), metadata(arch)
    path = tmp_path / "model.safetensors"
    modelfile.write(path, model, meta, dtype)
    loaded, loaded_meta = modelfile.read(path)
    assert loaded_meta == meta
    expected, actual = model.state_dict(), loaded.state_dict()
    assert set(actual) == set(expected)
    for name, tensor in expected.items():
        assert actual[name].dtype == torch.float32
        assert torch.equal(actual[name], tensor.to(modelfile.DTYPES[dtype]).float()), name
    raw = header(path)
    assert json.loads(raw["__metadata__"]["trapline"]) == meta
    assert raw["block3.expand.weight"] == {
        "dtype": stored,
        "shape": [144, 24, 1, 1],
        "data_offsets": raw["block3.expand.weight"]["data_offsets"],
    }
    assert "block0.expand.weight" not in raw and "block0.bn0.level0.mean" not in raw
    assert raw["head.bn.level3.var"]["shape"] == [1280]


def test_the_committed_model_file_follows_the_format(arch: Architecture) -> None:
    raw = header(MODEL_FILE)
    meta = json.loads(raw.pop("__metadata__")["trapline"])
    assert meta["format"] == "trapline-model" and meta["formatVersion"] == 2
    trained = Architecture(arch.units, (0.0, 0.125, 0.25, 0.5, 0.75), arch.batch_norm_epsilon)
    assert meta["pruneLevels"] == [0.0, 0.125, 0.25, 0.5, 0.75] and meta["keptChannels"] == trained.kept_table()
    assert meta["input"] == {
        "width": 224,
        "height": 224,
        "channels": 3,
        "mean": [127, 127, 127],
        "scale": [128, 128, 128],
        "crop": "center",
    }
    assert meta["classes"]["animalRanges"] == [[0, 397]] and len(meta["classes"]["names"]) == 1000
    assert meta["classes"]["names"][0] == "tench, Tinca tinca"
    assert meta["license"] == "Apache-2.0"
    # The bundled file has per-level layers, trained for every option: its curves measured on held-out real
    # photos, per slice option; one set of batch norms; half-precision storage.
    modelfile.validate_accuracy(meta)
    accuracy = meta["accuracy"]
    assert accuracy["metric"] == "top1-agreement" and accuracy["plan"] == 4 and accuracy["images"] > 0
    assert meta["slicePlans"]["4"] == [0, 3, 8, 13, 18]  # training keeps the converter's plans
    assert meta["sliceOptions"] == [{"name": "skip", "skip": True, "level": 0}]
    assert {entry["dtype"] for entry in raw.values()} == {"F16"}
    assert len(raw) == len(TraplineNet(trained, refit=True).state_dict())
    assert raw["block5.project.level4.weight"]["shape"] == [80, 64, 1, 1] and "block5.bn2.level1.mean" not in raw


def test_foreign_or_incomplete_files_are_refused(arch: Architecture, tmp_path: Path) -> None:
    model, meta = random_net(arch), metadata(arch)
    tensors = modelfile.model_tensors(model, "f32")
    plain = tmp_path / "plain.safetensors"
    save_file(tensors, str(plain))
    with pytest.raises(ValueError, match="trapline"):
        modelfile.read(plain)
    del tensors["block7.project.weight"]
    partial = tmp_path / "partial.safetensors"
    save_file(tensors, str(partial), metadata={"trapline": json.dumps(meta)})
    with pytest.raises(ValueError, match=r"block7\.project\.weight"):
        modelfile.read(partial)
    with pytest.raises(ValueError, match="format"):
        modelfile.write(tmp_path / "x.safetensors", model, {**meta, "formatVersion": 2})
