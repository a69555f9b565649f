from __future__ import annotations

import random
from itertools import combinations, pairwise

import pytest

from tests.conftest import MODEL_FILE
from trapline_training.modelfile import read_metadata
from trapline_training.slicing import (
    min_max_partition,
    min_max_partition_with_links,
    slice_costs,
    slice_plans,
    stage_times,
)


def brute_force_best(costs: list[float], parts: int) -> float:
    n = len(costs)
    return min(max(slice_costs(costs, [0, *cuts, n])) for cuts in combinations(range(1, n), parts - 1))


def assert_valid_plan(boundaries: list[int], units: int, parts: int) -> None:
    assert len(boundaries) == parts + 1
    assert boundaries[0] == 0 and boundaries[-1] == units
    assert all(a < b for a, b in pairwise(boundaries))


@pytest.mark.parametrize("seed", range(6))
def test_plans_are_optimal_against_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    units = rng.randint(8, 12)
    costs = [rng.choice([rng.uniform(0.1, 1.0), rng.uniform(1.0, 8.0)]) for _ in range(units)]
    for parts in range(1, 9):
        boundaries = min_max_partition(costs, parts)
        assert_valid_plan(boundaries, units, parts)
        assert max(slice_costs(costs, boundaries)) == pytest.approx(brute_force_best(costs, parts))


def test_ties_and_edge_cases() -> None:
    assert min_max_partition([1.0] * 4, 2) == [0, 2, 4]
    assert min_max_partition([1.0] * 4, 4) == [0, 1, 2, 3, 4]
    assert min_max_partition([5.0, 1.0, 1.0, 1.0], 2) == [0, 1, 4]
    with pytest.raises(ValueError):
        min_max_partition([1.0, 2.0], 3)


def test_the_model_files_plans_cover_every_unit_and_are_optimal_for_its_costs() -> None:
    meta = read_metadata(MODEL_FILE)
    costs, plans = meta["unitCostsMs"], meta["slicePlans"]
    assert len(costs) == 18 and all(c > 0 for c in costs)
    assert sorted(plans, key=int) == [str(n) for n in range(1, 9)]
    assert plans == slice_plans(costs)
    for nodes, boundaries in plans.items():
        assert_valid_plan(boundaries, 18, int(nodes))
        assert max(slice_costs(costs, boundaries)) == pytest.approx(brute_force_best(costs, int(nodes)))


def brute_force_with_links(costs: list[float], links: list[float], parts: int) -> float:
    n = len(costs)
    return min(max(stage_times(costs, links, [0, *cuts, n])) for cuts in combinations(range(1, n), parts - 1))


@pytest.mark.parametrize("seed", range(6))
def test_link_aware_plans_are_optimal_against_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    units = rng.randint(8, 12)
    costs = [rng.uniform(0.5, 4.0) for _ in range(units)]
    links = [0.0] + [rng.choice([0.0, rng.uniform(0.0, 6.0)]) for _ in range(units)]
    for parts in range(1, 9):
        boundaries = min_max_partition_with_links(costs, links, parts)
        assert_valid_plan(boundaries, units, parts)
        best = brute_force_with_links(costs, links, parts)
        assert max(stage_times(costs, links, boundaries)) == pytest.approx(best)


def test_a_costly_link_moves_the_boundary_and_free_links_give_the_compute_plan() -> None:
    costs = [1.0, 1.0, 1.0, 1.0]
    assert min_max_partition_with_links(costs, [0.0] * 5, 2) == min_max_partition(costs, 2) == [0, 2, 4]
    # Sending the tensor entering unit 2 costs more than a unit's compute (and entering unit 1 more still): cut later.
    assert min_max_partition_with_links(costs, [0.0, 5.0, 1.5, 0.0, 0.0], 2) == [0, 3, 4]
    with pytest.raises(ValueError):
        min_max_partition_with_links(costs, [0.0] * 4, 2)
