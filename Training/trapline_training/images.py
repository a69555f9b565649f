"""The test photos and the preprocessing the model expects (centre square crop, 224x224, (x - 127) / 128)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .architecture import INPUT_SIZE

INPUT_MEAN = 127
INPUT_SCALE = 128


@dataclass(frozen=True)
class Photo:
    """A real photo on the build machine, with where it comes from and its licence."""

    path: Path
    package: str
    license: str
    copyright: str


OPENCV_COPYRIGHT = (
    "2000-2022 Intel Corporation, Willow Garage, NVIDIA, AMD, OpenCV Foundation, Itseez, "
    "Xperience AI and others (Debian opencv-doc, /usr/share/doc/opencv-doc/copyright)"
)
PHOTOS: tuple[Photo, ...] = (
    Photo(
        Path("/usr/share/doc/opencv-doc/examples/data/squirrel_cls.jpg"),
        "opencv-doc",
        "Apache-2.0 AND BSD-3-Clause",
        OPENCV_COPYRIGHT,
    ),
    Photo(
        Path("/usr/share/doc/opencv-doc/examples/data/baboon.jpg"),
        "opencv-doc",
        "Apache-2.0 AND BSD-3-Clause",
        OPENCV_COPYRIGHT,
    ),
    Photo(
        Path("/usr/share/doc/opencv-doc/examples/data/home.jpg"),
        "opencv-doc",
        "Apache-2.0 AND BSD-3-Clause",
        OPENCV_COPYRIGHT,
    ),
)


def centre_square(width: int, height: int) -> tuple[float, float, float, float]:
    """The centred square of side min(width, height) as a Pillow box; edges may be fractional."""
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    return left, top, left + side, top + side


def load_photo(path: str | Path, size: int = INPUT_SIZE) -> np.ndarray:
    """An image as uint8 HWC RGB: centre square crop resized to size x size, bilinear (Pillow)."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    resized = rgb.resize((size, size), Image.BILINEAR, box=centre_square(*rgb.size))
    return np.asarray(resized, dtype=np.uint8).copy()


def normalise(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 HWC (or NHWC) RGB to the network's NCHW float input, (x - 127) / 128."""
    x = torch.as_tensor(images).float()
    if x.dim() == 3:
        x = x.unsqueeze(0)
    return ((x - INPUT_MEAN) / INPUT_SCALE).permute(0, 3, 1, 2).contiguous()
