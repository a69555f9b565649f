from __future__ import annotations

import json
import struct
from pathlib import Path

from PIL import Image

from tests.conftest import MODEL_FILE
from trapline_training import data, finetune, modelfile, robust
from trapline_training.images import PHOTOS


def make_image_folder(root: Path) -> None:
    for name, photo in (("empty", PHOTOS[2]), ("squirrel", PHOTOS[0])):
        (root / name).mkdir(parents=True)
        with Image.open(photo.path) as image:
            rgb = image.convert("RGB")
        w, h = rgb.size
        for k in range(4):
            box = (k * w // 16, k * h // 16, w - k * w // 20, h - k * h // 24)
            rgb.crop(box).save(root / name / f"{k}.jpg")


def test_fine_tuning_a_site_classifier_writes_a_valid_model_file(tmp_path: Path) -> None:
    make_image_folder(tmp_path / "site")
    dataset = data.image_folder(tmp_path / "site")
    recipe = robust.Recipe(steps=3, batch=4, lr=1e-3, warmup=1, random=1, calibration_images=4, recalibrate_every=0)
    out = tmp_path / "site.safetensors"
    meta = finetune.finetune(dataset, MODEL_FILE, out, recipe, validation=0.25, name="site", log=None)
    model, read_meta = modelfile.read(out)
    assert read_meta == meta and meta["name"] == "site"
    assert meta["classes"] == {"names": ["empty", "squirrel"], "animalRanges": [[1, 1]]}
    assert meta["units"][-1]["classes"] == 2 and model.arch.units[-1].out_channels == 2
    base = modelfile.read_metadata(MODEL_FILE)
    assert meta["slicePlans"] == base["slicePlans"] and meta["keptChannels"] == base["keptChannels"]
    accuracy = meta["accuracy"]
    assert accuracy["metric"] == "top1-accuracy" and accuracy["images"] == 2 and len(accuracy["slices"]) == 4
    with open(out, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    assert header["head.fc.weight"]["shape"] == [2, 1280] and header["head.fc.bias"]["shape"] == [2]
    assert {entry["dtype"] for name, entry in header.items() if name != "__metadata__"} == {"F16"}


def test_validation_split_holds_out_part_of_every_class(tmp_path: Path) -> None:
    make_image_folder(tmp_path / "site")
    dataset = data.image_folder(tmp_path / "site")
    train, held = finetune.split(dataset, 0.25, seed=0)
    assert held is not None and sorted(held.targets) == [0, 1] and len(train) == 6
    assert not set(train.paths) & set(held.paths)
    assert finetune.split(dataset, 0, seed=0) == (dataset, None)
