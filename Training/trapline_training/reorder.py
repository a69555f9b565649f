"""Re-sorts expanded channels by their measured effect on the network, so that pruning a prefix costs least.

The converter's order (`importance`) uses weights only. Here the importance of expanded channel c of a block
is what removing it changes after the block, once batch-norm recalibration has absorbed the change of mean:
Var(a_c) * sum_o (W[o, c] * gamma_o / sigma_o)^2, with a_c the channel's activation on images (after
ReLU6), W the project weight and gamma, sigma the level-0 affine scale and deviation of the batch norm
after it. For the head's features nothing after the fully connected layer absorbs a mean, so a feature's
importance is E[f_c^2] * ||fc[:, c]||^2, f_c its pooled value. Sorting leaves the full width unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F  # noqa: N812 (the conventional name)

from .importance import _permute, _permute_norm, importance_order
from .model import Head, MBConv, TraplineNet, conv_same


def _block_activation(block: MBConv, x: torch.Tensor) -> torch.Tensor:
    h = F.relu6(block.bn0(F.conv2d(x, block.expand.weight), 0))
    h = conv_same(h, block.depthwise.weight, block.spec.stride, groups=h.shape[1])
    return F.relu6(block.bn1(h, 0))


@torch.no_grad()
def measured_importance(model: TraplineNet, batches: Iterable[torch.Tensor]) -> dict[int, torch.Tensor]:
    """Importance of every prunable unit's channels (unit index -> one value per channel), full width."""
    moments: dict[int, torch.Tensor] = {}
    levels = model.arch.full_levels(0)
    for x in batches:
        for u in range(model.arch.unit_count):
            module = model.unit(u)
            if model.arch.units[u].prunable:
                if isinstance(module, Head):
                    f = F.relu6(module.bn(F.conv2d(x, module.conv.weight), 0)).mean(dim=(2, 3))
                    sums = torch.stack([f.sum(0), (f * f).sum(0), torch.full_like(f[0], len(f))]).double()
                else:
                    a = _block_activation(module, x)
                    n = a[:, 0].numel()
                    sums = torch.stack([a.sum((0, 2, 3)), (a * a).sum((0, 2, 3)), torch.full_like(a[0, :, 0, 0], n)])
                    sums = sums.double()
                moments[u] = moments.get(u, 0) + sums
            x = model(x, levels, u, u + 1)
    importance = {}
    for u, sums in moments.items():
        module = model.unit(u)
        mean, square = sums[0] / sums[2], sums[1] / sums[2]
        if isinstance(module, Head):
            importance[u] = (square * module.fc.weight.double().pow(2).sum(0)).float()
        else:
            stats = module.bn2.stats(0)
            scale = stats.weight.double() / torch.sqrt(stats.var.double() + module.bn2.eps)
            weight = module.project.weight.double()[:, :, 0, 0] * scale[:, None]
            importance[u] = ((square - mean * mean).clamp_min(0) * weight.pow(2).sum(0)).float()
    return importance


@torch.no_grad()
def sort_by_measured_importance(model: TraplineNet, batches: Iterable[torch.Tensor]) -> None:
    """Reorders every prunable unit's channels by `measured_importance`, most important first, in place."""
    for u, importance in measured_importance(model, batches).items():
        order = importance_order(importance)
        module = model.unit(u)
        if isinstance(module, Head):
            _permute(module.conv.weight, order, 0)
            _permute_norm(module.bn, order)
            _permute(module.fc.weight, order, 1)
        else:
            _permute(module.expand.weight, order, 0)
            _permute_norm(module.bn0, order)
            _permute(module.depthwise.weight, order, 0)
            _permute_norm(module.bn1, order)
            _permute(module.project.weight, order, 1)
