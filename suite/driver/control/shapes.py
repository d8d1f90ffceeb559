"""Load presets: named closed-loop schedules (users over time), as data plus one pure ``tick``.

The locustfile wraps ``tick`` in a Locust ``LoadTestShape`` when a run names a preset; keeping the
table and the arithmetic here (no Locust import) lets unit tests walk a schedule second by second.
A stage lasts until a fraction of the run's duration, so ``--duration`` stretches or shrinks a
preset without changing its form; ``--users`` rescales it so its peak is that many users.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from suite.errors import SpecError


@dataclass(frozen=True)
class Stage:
    until: float  # fraction of the run's duration at which this stage ends, in (0, 1]
    users: int
    spawn_rate: float  # users started (or stopped) per second when entering the stage


@dataclass(frozen=True)
class Preset:
    name: str
    duration_s: float
    stages: tuple[Stage, ...]
    purpose: str

    @property
    def peak_users(self) -> int:
        return max(s.users for s in self.stages)


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("smoke", 60.0, (Stage(1.0, 5, 5.0),), "does it work at all: 5 users, 1 min"),
    Preset("load", 300.0, (Stage(1.0, 10, 2.0),), "expected load: 10 users, 5 min"),
    Preset("stress", 600.0, (Stage(1.0, 50, 5.0),), "beyond expected load: 50 users, 10 min"),
    Preset("soak", 3600.0, (Stage(1.0, 20, 2.0),), "steady load for long: 20 users, 1 h"),
    Preset("spike", 300.0, (Stage(0.4, 5, 5.0), Stage(0.6, 50, 50.0), Stage(1.0, 5, 50.0)),
           "a sudden burst: 5 users, 50 for the middle fifth, back to 5; 5 min"),
    Preset("step", 600.0, tuple(Stage(round(0.2 * (i + 1), 2), 10 * (i + 1), 10.0) for i in range(5)),
           "a staircase: +10 users every fifth of the run up to 50; 10 min"),
)}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; unknown names list what exists."""
    try:
        return PRESETS[name]
    except KeyError:
        raise SpecError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}.") from None


def scaled(preset: Preset, peak_users: int | None) -> Preset:
    """The preset with every stage's users scaled so the peak is ``peak_users`` (>= 1 each):
    ``step`` (10, 20, ... 50 users) scaled to 5 has 1, 2, 3, 4, 5."""
    if peak_users is None or peak_users == preset.peak_users:
        return preset
    if peak_users < 1:
        raise SpecError(f"users: {peak_users} is not valid (must be >= 1).")
    factor = peak_users / preset.peak_users
    stages = tuple(Stage(s.until, max(1, round(s.users * factor)), s.spawn_rate) for s in preset.stages)
    return Preset(preset.name, preset.duration_s, stages, preset.purpose)


def tick(preset: Preset, run_time: float, duration_s: float | None = None) -> tuple[int, float] | None:
    """(users, spawn rate) at ``run_time`` seconds into the run, or None once the run is over
    (``spike`` at 150 s of its 300: ``(50, 50.0)``; ``smoke`` at its 60 s end: None)."""
    total = duration_s or preset.duration_s
    if run_time >= total or not math.isfinite(run_time):
        return None
    for stage in preset.stages:
        if run_time < stage.until * total:
            return stage.users, stage.spawn_rate
    return None  # unreachable while the last stage ends at 1.0


def describe() -> str:
    """One line per preset, for --help."""
    return "; ".join(f"{p.name}: {p.purpose}" for p in PRESETS.values())
