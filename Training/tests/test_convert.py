from __future__ import annotations

import torch
from torch import nn

from trapline_training import tolerance
from trapline_training.architecture import Architecture
from trapline_training.importance import channel_importance
from trapline_training.model import Head, MBConv, TraplineNet
from trapline_training.pretrained import load_source_state_dict, map_state_dict, trapline_from_pretrained


def random_input(seed: int) -> torch.Tensor:
    return torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@torch.inference_mode()
def test_mapping_reproduces_the_upstream_model_exactly(arch: Architecture, reference: nn.Module) -> None:
    x = random_input(10)
    ours = trapline_from_pretrained(arch)(x, arch.full_levels(0))
    # Exact on any machine: the same PyTorch operations on the same tensors in the same order, in one process,
    # so the same kernels run on both sides.
    torch.testing.assert_close(ours, reference(x), atol=0, rtol=0)


@torch.inference_mode()
def test_sorting_channels_leaves_the_function_unchanged(sorted_net: TraplineNet, reference: nn.Module) -> None:
    x = random_input(11)
    ours = sorted_net(x, sorted_net.arch.full_levels(0))
    expected = reference(x)
    # Permuted channels sum in another order: float32 rounding only, bounded from the arithmetic (tolerance.py).
    arch = sorted_net.arch
    allowed = tolerance.float32_tolerance(tolerance.path_fan_in(arch, arch.unit_count), float(expected.abs().max()))
    assert float((ours - expected).abs().max()) <= allowed


def test_channels_are_sorted_most_important_first(sorted_net: TraplineNet) -> None:
    for u, unit in enumerate(sorted_net.arch.units):
        module = sorted_net.unit(u)
        if isinstance(module, MBConv) and unit.expand:
            importance = channel_importance(module.project.weight, module.bn1)
        elif isinstance(module, Head):
            importance = channel_importance(module.fc.weight, module.bn)
        else:
            continue
        assert bool((importance[:-1] >= importance[1:]).all()), f"unit {u} is not sorted"


def test_sorting_moves_channels_and_every_level_starts_with_the_unpruned_statistics(
    arch: Architecture, sorted_net: TraplineNet
) -> None:
    original = map_state_dict(load_source_state_dict(), arch)
    state = sorted_net.state_dict()
    assert not torch.equal(state["block5.expand.weight"], original["block5.expand.weight"])
    assert torch.equal(state["block0.depthwise.weight"], original["block0.depthwise.weight"])
    assert torch.equal(state["stem.conv.weight"], original["stem.conv.weight"])
    for site in ("stem.bn", "block3.bn1", "block15.bn2", "head.bn"):
        for field in ("weight", "bias", "mean", "var"):
            for level in range(1, arch.level_count):
                assert torch.equal(state[f"{site}.level{level}.{field}"], state[f"{site}.level0.{field}"])
