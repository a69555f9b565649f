"""The frames `site_eval` learns and tests a site head on, built as `camtrap` builds its frames.

Real animal cut-outs are composited on real backgrounds, then night, low light, motion blur, noise, focus blur
and JPEG quality are drawn per frame, deterministically from the seed: `train/<class>/NNN.jpg` on the training
backgrounds, `held-out-backgrounds/<class>/NNN.jpg` (the same stamps, and blank frames) and
`held-out-stamps/<class>/NNN.jpg` (other stamps of the same taxon) on the held-out ones. The frames are for local
evaluation only: the stamps' and wallpapers' licences forbid shipping them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from . import camtrap

BLANK = "blank"
# Classes ImageNet-1k lacks, each with the stamps (file stems under camtrap.STAMPS) that train it.
TRAIN_STAMPS: dict[str, tuple[str, ...]] = {
    "Cervidae": ("deer", "wapiti"),
    "Giraffa camelopardalis": ("giraffe",),
    "Hydrochoerus hydrochaeris": ("capybara",),
    "Equus asinus": ("donkey",),
    "Rhinocerotidae": ("rhino_black",),
    BLANK: (),
}
# Stamps of the same taxa the head never sees.
OTHER_STAMPS: dict[str, tuple[str, ...]] = {"Cervidae": ("doe", "caribou"), "Equus asinus": ("donkey_eating",)}
SETS = ("train", "held-out-backgrounds", "held-out-stamps")


@dataclass(frozen=True)
class Item:
    """One frame to build: its set, class, index within the class, stamp (None for blank) and file."""

    set: str
    name: str
    index: int
    stamp: str | None

    @property
    def file(self) -> str:
        return f"{self.set}/{self.name}/{self.index:03d}.jpg"


def plan(per_class: int, test_per_class: int) -> list[Item]:
    """Every frame of the three sets; a class's stamps take turns."""
    items = []
    sets = [("train", TRAIN_STAMPS, per_class), ("held-out-backgrounds", TRAIN_STAMPS, test_per_class)]
    sets.append(("held-out-stamps", OTHER_STAMPS, test_per_class))
    for name_of_set, stamps, count in sets:
        for name, chosen in stamps.items():
            items += [Item(name_of_set, name, k, chosen[k % len(chosen)] if chosen else None) for k in range(count)]
    return items


class Renderer:
    """Renders planned frames; caches the decoded backgrounds and stamps."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.stamps = {s.species: s for s in camtrap.find_stamps()}
        self._pixels: dict[str, np.ndarray] = {}

    def _cached(self, key: str, load: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._pixels:
            self._pixels[key] = load()
        return self._pixels[key]

    def render(self, item: Item) -> tuple[bytes, dict[str, Any]]:
        """JPEG bytes and manifest entry of `item` (independent of every other frame)."""
        class_index = list(TRAIN_STAMPS).index(item.name)
        rng = np.random.default_rng([self.seed, SETS.index(item.set), class_index, item.index])
        conditions = camtrap.frame_conditions(rng)
        backgrounds = camtrap.TRAIN_BACKGROUNDS if item.set == "train" else camtrap.EVAL_BACKGROUNDS
        key = backgrounds[int(rng.integers(len(backgrounds)))]
        pixels = self._cached(key, lambda: camtrap.load_background(key))
        frame = camtrap.crop_background(rng, pixels, key.startswith("texture:"))
        placed: dict[str, Any] = {}
        if item.stamp is not None:
            stamp = self.stamps[item.stamp]
            animal = self._cached(str(stamp.path), lambda: camtrap.load_stamp(stamp))
            placed = camtrap.composite(rng, frame, animal, conditions["motionBlur"])
        else:
            conditions["motionBlur"] = 0
        data = camera(rng, frame, conditions)
        return data, {**asdict(item), "file": item.file, "background": key, **conditions, **placed}


def camera(rng: np.random.Generator, frame: np.ndarray, conditions: dict[str, Any]) -> bytes:
    """The frame as the camera writes it: night or low light, sensor noise, sometimes focus blur, JPEG (the
    steps and draws of `camtrap.Builder.render`)."""
    if conditions["night"]:
        frame = camtrap.night(rng, frame)
    elif conditions["lowLight"] is not None:
        frame = frame * conditions["lowLight"]
    frame = frame + rng.normal(0, conditions["noise"], frame.shape).astype(np.float32)
    image = Image.fromarray(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))
    data = io.BytesIO()
    image.save(data, format="JPEG", quality=conditions["jpegQuality"])
    return data.getvalue()


def build(folder: Path, seed: int, per_class: int, test_per_class: int) -> list[dict[str, Any]]:
    """Writes every planned frame under `folder` and `manifest.json`; returns the manifest's frames."""
    renderer = Renderer(seed)
    frames = []
    for item in plan(per_class, test_per_class):
        data, frame = renderer.render(item)
        (folder / item.file).parent.mkdir(parents=True, exist_ok=True)
        (folder / item.file).write_bytes(data)
        frames.append(frame)
    manifest = {"builder": "trapline_training.site_eval", "seed": seed, "frames": frames}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return frames
