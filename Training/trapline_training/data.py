"""Labelled image lists: the camera-trap-like set (`camtrap`), an ImageFolder tree, COCO Camera Traps JSON.

Every loader gives a `Dataset`: image paths, a class index per image, the class names and which classes are
animals. Images are read the way trapline reads them (centre square crop, 224x224, `images.load_photo`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .images import load_photo, normalise

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
# Category names that mean "no animal" in camera-trap data sets (COCO Camera Traps uses "empty").
BLANK_NAMES = ("empty", "blank", "none", "nothing", "no animal")


@dataclass
class Dataset:
    """Images with a class each. `animal[k]` says whether class k is an animal (False: blank, vehicle...)."""

    paths: list[Path]
    targets: list[int]
    classes: list[str]
    animal: list[bool]
    description: str = ""
    extra: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def is_animal(self) -> np.ndarray:
        """Per image: whether its class is an animal."""
        return np.array([self.animal[t] for t in self.targets], dtype=bool)

    def subset(self, indices: Sequence[int]) -> Dataset:
        """The images at `indices` (same classes)."""
        extra = [self.extra[i] for i in indices] if self.extra else []
        return Dataset(
            [self.paths[i] for i in indices],
            [self.targets[i] for i in indices],
            self.classes,
            self.animal,
            self.description,
            extra,
        )

    def load(self, indices: Sequence[int] | None = None) -> np.ndarray:
        """The images as uint8 NHWC RGB, 224x224."""
        indices = range(len(self)) if indices is None else indices
        return np.stack([load_photo(self.paths[i]) for i in indices])


def animal_ranges(animal: Sequence[bool]) -> list[list[int]]:
    """Inclusive index ranges of the animal classes (the model file's `classes.animalRanges`)."""
    ranges: list[list[int]] = []
    for k, flag in enumerate(animal):
        if not flag:
            continue
        if ranges and ranges[-1][1] == k - 1:
            ranges[-1][1] = k
        else:
            ranges.append([k, k])
    return ranges


def is_blank_name(name: str, blank_classes: Sequence[str] = ()) -> bool:
    """Whether a class name means "no animal": one of `blank_classes`, or a usual empty-frame name."""
    lowered = name.strip().lower()
    return lowered in {b.lower() for b in blank_classes} or lowered in BLANK_NAMES


def image_folder(root: str | Path, blank_classes: Sequence[str] = ()) -> Dataset:
    """An ImageFolder tree: `root/<class name>/*.jpg`, classes in sorted order.

    Classes named in `blank_classes` (or "empty", "blank", ...) are not animals; every other class is.
    """
    root = Path(root)
    classes = sorted(d.name for d in root.iterdir() if d.is_dir())
    if not classes:
        raise ValueError(f"{root}: no class folders")
    paths, targets = [], []
    for k, name in enumerate(classes):
        files = sorted(p for p in (root / name).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        paths += files
        targets += [k] * len(files)
    if not paths:
        raise ValueError(f"{root}: no images")
    animal = [not is_blank_name(c, blank_classes) for c in classes]
    return Dataset(paths, targets, classes, animal, f"ImageFolder {root} ({len(paths)} images)")


def coco_camera_traps(
    json_path: str | Path, image_root: str | Path | None = None, blank_classes: Sequence[str] = ()
) -> Dataset:
    """A COCO Camera Traps data set (the LILA format): `images`, `annotations`, `categories`.

    Each image takes the category of its annotations; images without one, or with several different
    categories, are left out (image-level classification). Classes are the categories that label at least one
    image, in the order of their ids. Category names such as "empty" are blank.

    - Parameters:
      - image_root: the folder `file_name`s are relative to (default: the JSON file's folder).
    """
    json_path = Path(json_path)
    root = Path(image_root) if image_root is not None else json_path.parent
    document = json.loads(json_path.read_text(encoding="utf-8"))
    names = {c["id"]: c["name"] for c in document["categories"]}
    labels: dict[Any, set[Any]] = {}
    for annotation in document.get("annotations", []):
        labels.setdefault(annotation["image_id"], set()).add(annotation["category_id"])
    kept = [(i, next(iter(labels[i["id"]]))) for i in document["images"] if len(labels.get(i["id"], ())) == 1]
    used = sorted({category for _, category in kept})
    index = {category: k for k, category in enumerate(used)}
    classes = [names[c] for c in used]
    dataset = Dataset(
        [root / image["file_name"] for image, _ in kept],
        [index[category] for _, category in kept],
        classes,
        [not is_blank_name(c, blank_classes) for c in classes],
        f"COCO Camera Traps {json_path.name} ({len(kept)} of {len(document['images'])} images with one category)",
    )
    if not dataset.paths:
        raise ValueError(f"{json_path}: no image has exactly one category")
    return dataset


def camtrap(root: str | Path, split: str) -> Dataset:
    """A split of the set `camtrap` built: classes "blank" and "animal"; `extra` holds each frame's entry."""
    root = Path(root)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    frames = [f for f in manifest["frames"] if f["split"] == split]
    if not frames:
        raise ValueError(f"{root}: no {split} frames")
    held = "held-out species and backgrounds" if split == "eval" else "training species and backgrounds"
    return Dataset(
        [root / f["file"] for f in frames],
        [int(f["label"] == "animal") for f in frames],
        ["blank", "animal"],
        [False, True],
        f"trapline_training.camtrap seed {manifest['seed']}, {split} split ({held}), {len(frames)} frames",
        frames,
    )


def batches(
    dataset: Dataset, batch: int, seed: int, flip: bool = True, epochs: int | None = None
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffled training batches (normalised NCHW images, class indices), reshuffled every epoch; random
    horizontal flips. Endless unless `epochs` is given; the last partial batch of an epoch is dropped."""
    rng = np.random.default_rng(seed)
    if len(dataset) < batch:
        raise ValueError(f"{len(dataset)} images cannot fill a batch of {batch}")
    epoch = 0
    while epochs is None or epoch < epochs:
        order = rng.permutation(len(dataset))
        for start in range(0, len(order) - batch + 1, batch):
            chosen = order[start : start + batch]
            images = dataset.load(chosen)
            if flip:
                flips = rng.random(batch) < 0.5
                images[flips] = images[flips][:, :, ::-1]
            targets = torch.tensor([dataset.targets[i] for i in chosen])
            yield normalise(images), targets
        epoch += 1


def in_order(images: np.ndarray, batch: int) -> Iterator[torch.Tensor]:
    """Normalised NCHW batches of uint8 NHWC images, in order."""
    for start in range(0, len(images), batch):
        yield normalise(images[start : start + batch])
