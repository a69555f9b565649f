"""Sorts expanded channels by importance so that every prune level keeps a prefix (docs/model-file.md)."""

from __future__ import annotations

import torch

from .model import Head, LevelBatchNorm, MBConv, TraplineNet


def channel_importance(consumer: torch.Tensor, norm: LevelBatchNorm) -> torch.Tensor:
    """Importance of each channel c: L1 norm of the weights consuming c, times |gamma / sqrt(var + eps)|.

    - Parameters:
      - consumer: the weight that reads the channels, channels on dim 1 (project conv, fc).
      - norm: the batch norm just before the ReLU6 that produces them (its level-0 statistics are used).
    """
    channels = consumer.shape[1]
    l1 = consumer.detach().abs().transpose(0, 1).reshape(channels, -1).sum(dim=1)
    stats = norm.stats(0)
    scale = (stats.weight.detach() / torch.sqrt(stats.var + norm.eps)).abs()
    return l1 * scale


def importance_order(importance: torch.Tensor) -> torch.Tensor:
    """Channel indices, most important first (stable for ties)."""
    return torch.argsort(importance, descending=True, stable=True)


@torch.no_grad()
def _permute(tensor: torch.Tensor, order: torch.Tensor, dim: int) -> None:
    tensor.copy_(tensor.index_select(dim, order))


@torch.no_grad()
def _permute_norm(norm: LevelBatchNorm, order: torch.Tensor) -> None:
    for level in range(norm.levels):
        stats = norm.stats(level)
        for tensor in (stats.weight, stats.bias, stats.mean, stats.var):
            _permute(tensor, order, 0)


def sort_block(block: MBConv) -> torch.Tensor:
    """Reorders an expanding block's expanded channels by importance; returns the order applied."""
    order = importance_order(channel_importance(block.project.weight, block.bn1))
    _permute(block.expand.weight, order, 0)
    _permute_norm(block.bn0, order)
    _permute(block.depthwise.weight, order, 0)
    _permute_norm(block.bn1, order)
    _permute(block.project.weight, order, 1)
    return order


def sort_head(head: Head) -> torch.Tensor:
    """Reorders the head's features by importance; returns the order applied."""
    order = importance_order(channel_importance(head.fc.weight, head.bn))
    _permute(head.conv.weight, order, 0)
    _permute_norm(head.bn, order)
    _permute(head.fc.weight, order, 1)
    return order


def sort_by_importance(model: TraplineNet) -> None:
    """Sorts every prunable unit in place; the network computes the same function afterwards."""
    for u, unit in enumerate(model.arch.units):
        if not unit.prunable:
            continue
        module = model.unit(u)
        if isinstance(module, Head):
            sort_head(module)
        elif isinstance(module, MBConv):
            sort_block(module)
