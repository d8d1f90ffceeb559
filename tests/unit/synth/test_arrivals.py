"""Arrival processes: seeded, with the requested mean rate and burstiness."""

from __future__ import annotations

import random
import statistics

import pytest

from suite.errors import SpecError
from suite.synth.arrivals import parse_arrival, parse_arrival_option
from suite.synth.validate import Where


def offsets(raw: dict, n: int = 4000, seed: int = 1) -> list[float]:
    times = parse_arrival(raw, Where("a.yaml", "arrival")).offsets(n, random.Random(seed))
    return [float(t) for t in times if t is not None]


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def test_closed_has_no_timestamps() -> None:
    assert parse_arrival({"process": "closed"}, Where("a.yaml")).offsets(3) == [None, None, None]


@pytest.mark.parametrize(("raw", "cv"), [
    ({"process": "poisson", "rate": 5}, 1.0),
    ({"process": "gamma", "rate": 5, "burstiness": 0.25}, 2.0),
    ({"process": "gamma", "rate": 5, "burstiness": 4}, 0.5),
])
def test_mean_rate_and_burstiness(raw: dict, cv: float) -> None:
    g = gaps(offsets(raw))
    assert abs(1 / statistics.fmean(g) - 5) < 0.5
    assert abs(statistics.pstdev(g) / statistics.fmean(g) - cv) < 0.15 * cv


def test_seeded_and_starting_at_zero() -> None:
    raw = {"process": "poisson", "rate": 3}
    assert offsets(raw, 100, 4) == offsets(raw, 100, 4) != offsets(raw, 100, 5)
    assert offsets(raw, 100)[0] == 0.0


def test_ramp_goes_from_start_to_end_rate() -> None:
    times = offsets({"process": "ramp", "rate": 2, "end_rate": 20, "duration": 100}, 3000)
    early = sum(t < 20 for t in times) / 20
    late = sum(100 <= t < 120 for t in times) / 20
    assert 2 <= early <= 8
    assert 16 <= late <= 24


def test_step_switches_rate() -> None:
    times = offsets({"process": "step", "rate": 2, "end_rate": 10, "duration": 50}, 1000)
    assert 70 <= sum(t < 50 for t in times) <= 130
    assert abs(sum(50 <= t < 80 for t in times) / 30 - 10) < 2


def test_diurnal_peaks_and_troughs() -> None:
    times = offsets({"process": "diurnal", "rate": 10, "amplitude": 0.8, "period": 100}, 5000)
    peak = sum(15 <= t % 100 < 35 for t in times)
    trough = sum(65 <= t % 100 < 85 for t in times)
    assert peak > 4 * trough


@pytest.mark.parametrize(("text", "expected"), [
    ("poisson:5", {"process": "poisson", "rate": 5.0}),
    ("gamma:5:0.5", {"process": "gamma", "rate": 5.0, "burstiness": 0.5}),
    ("closed", {"process": "closed"}),
    ("ramp:1:20:60", {"process": "ramp", "rate": 1.0, "end_rate": 20.0, "duration": 60.0}),
])
def test_cli_arrival_option(text: str, expected: dict) -> None:
    assert parse_arrival_option(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("poison:5", "--arrival: unknown arrival process 'poison'; did you mean 'poisson'? "
                 "(known: closed, constant, diurnal, gamma, poisson, ramp, step)."),
    ("poisson:fast", "--arrival: 'fast' is not a number for rate in 'poisson:fast'."),
    ("poisson:5:1", "--arrival: 'poisson:5:1' has too many values (use poisson:RATE)."),
])
def test_cli_arrival_option_errors(text: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_arrival_option(text)
    assert str(err.value) == message
