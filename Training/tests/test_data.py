from __future__ import annotations

import functools
import json
import operator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from trapline_training import data


def write_image(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((40, 60, 3), value, dtype=np.uint8)).save(path)


def test_animal_ranges_are_inclusive_runs() -> None:
    assert data.animal_ranges([True, True, False, True, False, False, True, True]) == [[0, 1], [3, 3], [6, 7]]
    assert data.animal_ranges([False]) == []


def test_image_folder_gives_sorted_classes_and_blank_flags(tmp_path: Path) -> None:
    for name, count in (("fox", 2), ("empty", 1), ("badger", 3), ("vehicle", 1)):
        for k in range(count):
            write_image(tmp_path / name / f"{k}.jpg", 10 * k)
    (tmp_path / "fox" / "notes.txt").write_text("not an image")
    dataset = data.image_folder(tmp_path, blank_classes=["Vehicle"])
    assert dataset.classes == ["badger", "empty", "fox", "vehicle"]
    assert dataset.animal == [True, False, True, False]
    assert len(dataset) == 7 and dataset.targets == [0, 0, 0, 1, 2, 2, 3]
    assert data.animal_ranges(dataset.animal) == [[0, 0], [2, 2]]
    assert dataset.load([0]).shape == (1, 224, 224, 3)


def test_coco_camera_traps_takes_single_category_images(tmp_path: Path) -> None:
    for k in range(5):
        write_image(tmp_path / "img" / f"{k}.jpg", k)
    document = {
        "images": [{"id": f"i{k}", "file_name": f"img/{k}.jpg", "width": 60, "height": 40} for k in range(5)],
        "categories": [{"id": i, "name": n} for i, n in ((0, "empty"), (3, "deer"), (7, "boar"), (9, "owl"))],
        "annotations": [
            {"id": "a", "image_id": "i0", "category_id": 3},
            {"id": "b", "image_id": "i1", "category_id": 0},
            {"id": "c", "image_id": "i2", "category_id": 3},
            {"id": "d", "image_id": "i2", "category_id": 3},
            {"id": "e", "image_id": "i3", "category_id": 3},
            {"id": "f", "image_id": "i3", "category_id": 7},
        ],
    }
    path = tmp_path / "cct.json"
    path.write_text(json.dumps(document))
    dataset = data.coco_camera_traps(path)
    assert dataset.classes == ["empty", "deer"]  # owl labels nothing; i3 has two categories, i4 none
    assert dataset.animal == [False, True]
    assert [p.name for p in dataset.paths] == ["0.jpg", "1.jpg", "2.jpg"]
    assert dataset.targets == [1, 0, 1]


def test_training_batches_are_seeded_and_cover_an_epoch(tmp_path: Path) -> None:
    for k in range(6):
        write_image(tmp_path / ("a" if k % 2 else "b") / f"{k}.jpg", 40 * k)
    dataset = data.image_folder(tmp_path)
    first = [t.tolist() for _, t in data.batches(dataset, 2, seed=3, epochs=1)]
    again = [t.tolist() for _, t in data.batches(dataset, 2, seed=3, epochs=1)]
    assert first == again and sorted(functools.reduce(operator.iadd, first, [])) == sorted(dataset.targets)
    x, _ = next(data.batches(dataset, 2, seed=3))
    assert x.shape == (2, 3, 224, 224) and float(x.abs().max()) <= 1.0
    with pytest.raises(ValueError, match="batch"):
        next(data.batches(dataset, 7, seed=0))
