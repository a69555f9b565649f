from __future__ import annotations

import itertools

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from tests.conftest import random_net
from trapline_training.architecture import Architecture, unit_macs
from trapline_training.model import TraplineNet, from_nhwc, same_padding, to_nhwc
from trapline_training.slicing import levels_for_slices

LEVEL_VECTORS = [
    [0] * 18,
    [3] * 18,
    [0, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 2],
    [3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 0],
]
PLANS = [[0, 18], [0, 3, 8, 13, 18], [0, 1, 2, 3, 5, 8, 11, 13, 15, 17, 18]]


@pytest.fixture(scope="module")
def net(arch: Architecture) -> TraplineNet:
    return random_net(arch)


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    return torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(1)) * 2 - 1


def run_slices(model: TraplineNet, x: torch.Tensor, levels: list[int], boundaries: list[int]) -> torch.Tensor:
    for start, end in itertools.pairwise(boundaries):
        x = model(x, levels[start:end], start, end)
    return x


@pytest.mark.parametrize("levels", LEVEL_VECTORS)
@torch.inference_mode()
def test_running_a_plan_slice_by_slice_equals_the_whole_network(
    net: TraplineNet, image: torch.Tensor, levels: list[int]
) -> None:
    whole = net(image, levels)
    for plan in PLANS:
        torch.testing.assert_close(run_slices(net, image, levels, plan), whole, atol=0, rtol=0)


@torch.inference_mode()
def test_slice_levels_can_be_given_for_the_whole_network_or_the_range(net: TraplineNet, image: torch.Tensor) -> None:
    levels = LEVEL_VECTORS[2]
    entering = net(image, levels, 0, 6)
    torch.testing.assert_close(net(entering, levels, 6, 11), net(entering, levels[6:11], 6, 11), atol=0, rtol=0)
    with pytest.raises(ValueError, match="levels"):
        net(entering, levels[:4], 6, 11)


@torch.inference_mode()
def test_pruning_computes_fewer_channels_and_changes_the_output(net: TraplineNet, image: torch.Tensor) -> None:
    arch = net.arch
    flops, outputs = [], []
    for level in range(arch.level_count):
        with FlopCounterMode(display=False) as counter:
            outputs.append(net(image[:1], arch.full_levels(level)))
        flops.append(counter.get_total_flops())
        assert flops[-1] == 2 * sum(unit_macs(arch, arch.full_levels(level)))
    assert flops == sorted(flops, reverse=True)
    assert flops[3] < 0.35 * flops[0]
    assert (outputs[0] - outputs[3]).abs().max() > 1e-2


@torch.inference_mode()
def test_a_pruned_unit_never_reads_its_pruned_channels(arch: Architecture, image: torch.Tensor) -> None:
    model = random_net(arch, seed=3)
    levels = [3] * 18
    expected = model(image, levels)
    with torch.no_grad():
        for u in range(arch.unit_count):
            kept, name = arch.kept(u, 3), model.names[u]
            state = model.state_dict()
            for key in (f"{name}.expand.weight", f"{name}.depthwise.weight", f"{name}.conv.weight"):
                if key in state and arch.units[u].prunable:
                    state[key][kept:] = float("nan")
            for key in (f"{name}.project.weight", f"{name}.fc.weight"):
                if key in state:
                    state[key][:, kept:] = float("nan")
    torch.testing.assert_close(model(image, levels), expected, atol=0, rtol=0)


@torch.inference_mode()
def test_every_level_uses_its_own_batch_norm(arch: Architecture, image: torch.Tensor) -> None:
    model = random_net(arch, seed=4)
    levels = [0] * 18
    before = model(image, levels, 0, 1)
    with torch.no_grad():
        model.stem.bn.level1.mean.add_(1.0)
    torch.testing.assert_close(model(image, levels, 0, 1), before, atol=0, rtol=0)
    assert not torch.equal(model(image, [1] * 18, 0, 1), before)


def test_mixed_levels_follow_the_slices() -> None:
    assert levels_for_slices([0, 3, 8, 13, 18], [0, 3, 1, 2]) == [0] * 3 + [3] * 5 + [1] * 5 + [2] * 5


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding"),
    [
        (224, 3, 2, (0, 1)),
        (112, 3, 1, (1, 1)),
        (112, 3, 2, (0, 1)),
        (56, 5, 2, (1, 2)),
        (14, 5, 1, (2, 2)),
        (7, 1, 1, (0, 0)),
        (225, 3, 2, (1, 1)),
    ],
)
def test_same_padding_pads_more_at_the_bottom_right(
    size: int, kernel: int, stride: int, padding: tuple[int, int]
) -> None:
    assert same_padding(size, kernel, stride) == padding


def test_nhwc_helpers_round_trip() -> None:
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    assert to_nhwc(x).shape == (2, 4, 5, 3)
    assert to_nhwc(x)[1, 2, 3, 0] == x[1, 0, 2, 3]
    assert torch.equal(from_nhwc(to_nhwc(x)), x)
