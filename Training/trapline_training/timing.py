"""Per-unit cost measurement: PyTorch, batch 1, one thread, level 0 (the model file's `unitCostsMs`)."""

from __future__ import annotations

import statistics
import time

import torch

from .model import TraplineNet


def unit_inputs(model: TraplineNet, x: torch.Tensor, levels: list[int]) -> list[torch.Tensor]:
    """The activation entering each unit when the network runs on `x` at `levels`."""
    inputs = []
    with torch.inference_mode():
        for u in range(model.arch.unit_count):
            inputs.append(x)
            x = model(x, levels, u, u + 1)
    return inputs


def measure_unit_costs(model: TraplineNet, x: torch.Tensor, repeats: int = 20, warmup: int = 5) -> list[float]:
    """Median milliseconds of each unit at level 0 over `repeats` runs, on one thread.

    Rounds interleave the units so that load from other processes spreads over all of them alike.
    """
    levels = model.arch.full_levels(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        inputs = unit_inputs(model, x[:1], levels)
        samples: list[list[float]] = [[] for _ in inputs]
        with torch.inference_mode():
            for round_index in range(warmup + repeats):
                for u, unit_input in enumerate(inputs):
                    start = time.perf_counter()
                    model(unit_input, levels, u, u + 1)
                    if round_index >= warmup:
                        samples[u].append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    return [statistics.median(s) * 1000 for s in samples]
