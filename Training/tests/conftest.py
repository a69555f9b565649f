"""Shared fixtures: repository paths, the pretrained reference and its sorted TraplineNet."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from trapline_training.architecture import Architecture, lite0
from trapline_training.convert import sorted_model
from trapline_training.model import TraplineNet
from trapline_training.pretrained import reference_model

REPO = Path(__file__).resolve().parents[2]
MODEL_FILE = REPO / "Models" / "efficientnet-lite0.safetensors"
GOLDEN_FILE = REPO / "Tests" / "InferenceTests" / "Fixtures" / "golden.safetensors"

# One thread: on a shared 2-core machine PyTorch's thread pool slows down twentyfold when another process
# is busy (measured: a forward pass takes 0.1 s on one thread, 2.2 s on two during a Swift build).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def arch() -> Architecture:
    return lite0()


@pytest.fixture(scope="session")
def reference() -> nn.Module:
    return reference_model()


@pytest.fixture(scope="session")
def sorted_net(arch: Architecture) -> TraplineNet:
    return sorted_model(arch)


def random_net(arch: Architecture, seed: int = 0) -> TraplineNet:
    """A TraplineNet with random weights and a different random batch norm at every level."""
    torch.manual_seed(seed)
    model = TraplineNet(arch)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith((".level0.weight", ".level1.weight", ".level2.weight", ".level3.weight")):
                tensor.uniform_(0.5, 1.5)
            elif name.endswith(".var"):
                tensor.uniform_(0.5, 2.0)
            elif name.endswith((".mean", ".bias")) and ".level" in name:
                tensor.normal_(0.0, 0.1)
    return model.eval()
