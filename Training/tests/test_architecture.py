from __future__ import annotations

import pytest

from trapline_training.architecture import Architecture, architecture_from_metadata, kept_channels, lite0_units


@pytest.mark.parametrize(
    ("width", "fraction", "kept"),
    [
        (96, 0.0, 96),
        (96, 0.25, 72),
        (96, 0.5, 48),
        (96, 0.75, 24),
        (144, 0.25, 112),
        (144, 0.75, 40),
        (240, 0.25, 184),
        (1280, 0.75, 320),
        (20, 0.75, 8),
        (8, 0.75, 8),
    ],
)
def test_kept_channels_rounds_to_the_nearest_multiple_of_8_and_keeps_at_least_8(
    width: int, fraction: float, kept: int
) -> None:
    assert kept_channels(width, fraction) == kept


def test_lite0_has_the_standard_block_table(arch: Architecture) -> None:
    units = arch.units
    assert len(units) == 18
    assert [u.kind for u in units] == ["stem"] + ["mbconv"] * 16 + ["head"]
    assert (units[0].in_channels, units[0].out_channels, units[0].kernel, units[0].stride) == (3, 32, 3, 2)
    assert [u.out_channels for u in units[1:17]] == [
        16,
        24,
        24,
        40,
        40,
        80,
        80,
        80,
        112,
        112,
        112,
        192,
        192,
        192,
        192,
        320,
    ]
    assert [u.stride for u in units[1:17]] == [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1]
    assert [u.kernel for u in units[1:17]] == [3, 3, 3, 5, 5, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 3]
    assert units[1].expanded_channels == 32 and not units[1].expand
    assert all(u.expanded_channels == 6 * u.in_channels for u in units[2:17])
    assert (units[17].in_channels, units[17].expanded_channels, units[17].out_channels) == (320, 1280, 1000)
    assert sum(u.has_residual for u in units) == 9


def test_stem_and_block_0_keep_their_full_width_and_the_head_is_pruned(arch: Architecture) -> None:
    table = arch.kept_table()
    assert table[0] == [32, 32, 32, 32]
    assert table[1] == [32, 32, 32, 32]
    assert table[2] == [96, 72, 48, 24]
    assert table[16] == [1152, 864, 576, 288]
    assert table[17] == [1280, 960, 640, 320]
    assert all(row[0] == arch.units[u].expanded_channels for u, row in enumerate(table))


def test_units_round_trip_through_metadata(arch: Architecture) -> None:
    meta = {
        "units": [u.to_metadata() for u in arch.units],
        "pruneLevels": list(arch.prune_levels),
        "batchNormEpsilon": arch.batch_norm_epsilon,
        "keptChannels": arch.kept_table(),
    }
    assert architecture_from_metadata(meta) == arch
    assert tuple(lite0_units()) == arch.units


def test_inconsistent_kept_channels_are_refused(arch: Architecture) -> None:
    table = arch.kept_table()
    table[5][2] += 8
    meta = {
        "units": [u.to_metadata() for u in arch.units],
        "pruneLevels": list(arch.prune_levels),
        "batchNormEpsilon": arch.batch_norm_epsilon,
        "keptChannels": table,
    }
    with pytest.raises(ValueError, match="keptChannels"):
        architecture_from_metadata(meta)
