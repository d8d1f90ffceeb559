"""Load presets: the table, scaling, and the schedule second by second."""

from __future__ import annotations

import pytest

from suite.driver.control.shapes import PRESETS, get_preset, scaled, tick
from suite.errors import SpecError


@pytest.mark.parametrize("name, users, duration", [
    ("smoke", 5, 60.0), ("load", 10, 300.0), ("stress", 50, 600.0), ("soak", 20, 3600.0),
    ("spike", 50, 300.0), ("step", 50, 600.0),
])
def test_presets_table(name: str, users: int, duration: float) -> None:
    preset = get_preset(name)
    assert preset.peak_users == users
    assert preset.duration_s == duration
    assert preset.stages[-1].until == 1.0
    assert all(a.until < b.until for a, b in zip(preset.stages, preset.stages[1:], strict=False))


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(SpecError) as err:
        get_preset("stres")
    assert str(err.value) == "unknown preset 'stres'; known: smoke, load, stress, soak, spike, step."


def test_smoke_ticks_until_its_minute_is_over() -> None:
    smoke = PRESETS["smoke"]
    assert [tick(smoke, t) for t in (0.0, 30.0, 59.9)] == [(5, 5.0)] * 3
    assert tick(smoke, 60.0) is None


def test_spike_and_step_follow_their_stages() -> None:
    spike = PRESETS["spike"]
    assert [tick(spike, t)[0] for t in (0, 119, 120, 179, 180, 299)] == [5, 5, 50, 50, 5, 5]  # type: ignore[index]
    step = PRESETS["step"]
    assert [tick(step, t)[0] for t in range(0, 600, 120)] == [10, 20, 30, 40, 50]  # type: ignore[index]


def test_duration_stretches_the_preset_and_users_rescale_its_peak() -> None:
    spike = scaled(PRESETS["spike"], 10)
    assert [s.users for s in spike.stages] == [1, 10, 1]
    assert tick(spike, 3.9, duration_s=10.0) == (1, 5.0)
    assert tick(spike, 5.0, duration_s=10.0) == (10, 50.0)
    assert tick(spike, 10.0, duration_s=10.0) is None
    assert scaled(PRESETS["load"], None) is PRESETS["load"]
    with pytest.raises(SpecError, match="users: 0 is not valid"):
        scaled(PRESETS["load"], 0)


def test_step_scaled_to_five_users_climbs_one_user_a_stage() -> None:
    assert [s.users for s in scaled(PRESETS["step"], 5).stages] == [1, 2, 3, 4, 5]


def test_spike_peaks_mid_run_at_its_own_spawn_rate() -> None:
    assert tick(PRESETS["spike"], 150.0) == (50, 50.0)
