"""Arrival processes: when each request is sent, as offsets in seconds from the run start.

A registry keyed by ``process`` (a new process is a new table entry, not a branch in the builder).
Every process draws from the ``random.Random`` it is given — the build's own "arrival" stream — so
the same seed gives the same timestamps, and changing the arrival process reshuffles nothing else.

- ``closed``: no timestamps (users send as answers come back).
- ``constant``: one request every 1/rate seconds.
- ``poisson``: exponential gaps with mean 1/rate.
- ``gamma``: gamma gaps with mean 1/rate and shape ``burstiness`` (vLLM's benchmark: < 1 is
  burstier than Poisson, 1 is Poisson, > 1 is smoother).
- ``ramp``: a Poisson process whose rate goes linearly from ``rate`` to ``end_rate`` over
  ``duration`` seconds, then stays at ``end_rate``.
- ``step``: a Poisson process at ``rate`` that switches to ``end_rate`` after ``duration`` seconds.
- ``diurnal``: a Poisson process whose rate follows ``rate * (1 + amplitude * sin(2πt / period))``.
The time-varying ones use thinning (Lewis–Shedler) against their maximum rate.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from suite.synth.validate import Where, check_keys, is_number, mapping, show, unknown_name

Offsets = list[float | None]


@dataclass(frozen=True)
class ArrivalSpec:
    """A validated arrival process: its name and its numeric options (``rate`` etc.)."""

    process: str
    rate: float | None = None
    options: dict[str, float] = field(default_factory=dict)

    def offsets(self, n: int, rng: random.Random | None = None) -> Offsets:
        return ARRIVALS[self.process](self, n, rng or random.Random(0))

    def opt(self, name: str) -> float:
        return self.options.get(name, OPTION_DEFAULTS.get(name, 0.0))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"process": self.process}
        if self.rate is not None:
            out["rate"] = self.rate
        return {**out, **{k: self.options[k] for k in sorted(self.options)}}


def _round(values: list[float]) -> Offsets:
    # Rounded so the JSON text does not depend on float noise such as 0.30000000000000004.
    return [round(v, 6) for v in values]


def _closed(_spec: ArrivalSpec, n: int, _rng: random.Random) -> Offsets:
    return [None] * n


def _rate(spec: ArrivalSpec) -> float:
    assert spec.rate is not None  # parse_arrival guarantees a rate for every timed process
    return spec.rate


def _constant(spec: ArrivalSpec, n: int, _rng: random.Random) -> Offsets:
    return _round([i / _rate(spec) for i in range(n)])


def _gaps(n: int, draw: Callable[[], float]) -> Offsets:
    """Offsets from gaps; the first request is sent at t = 0."""
    out, t = [], 0.0
    for _ in range(n):
        out.append(t)
        t += draw()
    return _round(out)


def _poisson(spec: ArrivalSpec, n: int, rng: random.Random) -> Offsets:
    rate = _rate(spec)
    return _gaps(n, lambda: rng.expovariate(rate))


def _gamma(spec: ArrivalSpec, n: int, rng: random.Random) -> Offsets:
    shape = spec.opt("burstiness")
    scale = 1.0 / (_rate(spec) * shape)  # mean gap = shape * scale = 1 / rate
    return _gaps(n, lambda: rng.gammavariate(shape, scale))


def _thinned(n: int, rng: random.Random, rate_at: Callable[[float], float], peak: float) -> Offsets:
    """Lewis–Shedler thinning: candidates at the peak rate, kept with probability rate(t)/peak."""
    out: list[float] = []
    t = 0.0
    while len(out) < n:
        if rng.random() * peak <= rate_at(t):
            out.append(t)
        t += rng.expovariate(peak)
    return _round(out)


def _ramp(spec: ArrivalSpec, n: int, rng: random.Random) -> Offsets:
    start, end, duration = _rate(spec), spec.opt("end_rate"), spec.opt("duration")

    def rate_at(t: float) -> float:
        return start + (end - start) * min(t / duration, 1.0)

    return _thinned(n, rng, rate_at, max(start, end))


def _step(spec: ArrivalSpec, n: int, rng: random.Random) -> Offsets:
    start, end, duration = _rate(spec), spec.opt("end_rate"), spec.opt("duration")
    return _thinned(n, rng, lambda t: start if t < duration else end, max(start, end))


def _diurnal(spec: ArrivalSpec, n: int, rng: random.Random) -> Offsets:
    rate, amplitude, period = _rate(spec), spec.opt("amplitude"), spec.opt("period")

    def rate_at(t: float) -> float:
        return rate * (1 + amplitude * math.sin(2 * math.pi * t / period))

    return _thinned(n, rng, rate_at, rate * (1 + amplitude))


ARRIVALS: dict[str, Callable[[ArrivalSpec, int, random.Random], Offsets]] = {
    "closed": _closed,
    "constant": _constant,
    "poisson": _poisson,
    "gamma": _gamma,
    "ramp": _ramp,
    "step": _step,
    "diurnal": _diurnal,
}
RATE = "requests per second, a number > 0"
ARRIVAL_OPTIONS: dict[str, dict[str, str]] = {
    "closed": {},
    "constant": {"rate": RATE},
    "poisson": {"rate": RATE},
    "gamma": {"rate": RATE, "burstiness": "gamma shape, > 0 (1 = Poisson, < 1 burstier)"},
    "ramp": {"rate": RATE, "end_rate": "rate reached at the end of the ramp, > 0",
             "duration": "ramp length in seconds, > 0"},
    "step": {"rate": RATE, "end_rate": "rate after the step, > 0",
             "duration": "seconds before the step, > 0"},
    "diurnal": {"rate": "mean " + RATE, "amplitude": "relative swing, from 0 to 1",
                "period": "seconds per cycle, > 0"},
}
OPTION_DEFAULTS: dict[str, float] = {"burstiness": 1.0, "amplitude": 0.5, "period": 86400.0}
# Options that may be left out (a default above applies); every other option is required.
OPTIONAL = frozenset(OPTION_DEFAULTS)


def _positive(value: Any, where: Where, what: str) -> float:
    if not is_number(value) or value <= 0:
        raise where.error(f"{show(value)} is not a valid {what} (must be a number > 0).")
    return float(value)


def parse_arrival(raw: Any, where: Where) -> ArrivalSpec:
    raw = mapping(raw, where, "process: " + " | ".join(ARRIVALS))
    process = raw.get("process")
    if process not in ARRIVALS:
        raise where.at("process").error(unknown_name("arrival process", str(process), ARRIVALS) + ".")
    known = ARRIVAL_OPTIONS[process]
    required = {k: v for k, v in known.items() if k not in OPTIONAL}
    optional = [k for k in known if k in OPTIONAL]
    check_keys(raw, where, {"process": " or ".join(ARRIVALS), **required}, optional)
    if process == "closed":
        return ArrivalSpec("closed")
    options = {k: _positive(raw[k], where.at(k), k) for k in known if k in raw and k != "rate"}
    if options.get("amplitude", 0) > 1:
        raise where.at("amplitude").error(f"{show(raw['amplitude'])} is not a valid amplitude "
                                          "(must be a number from 0 to 1).")
    return ArrivalSpec(process, _positive(raw["rate"], where.at("rate"), "rate"), options)


def parse_arrival_option(text: str) -> dict[str, Any]:
    """``--arrival poisson:5`` → ``{process: poisson, rate: 5}``; further numbers fill the process's
    other options in table order (``gamma:5:0.5``, ``ramp:1:20:60``, ``diurnal:5:0.8:3600``)."""
    from suite.errors import SpecError

    process, *numbers = text.strip().split(":")
    if process not in ARRIVALS:
        raise SpecError("--arrival: " + unknown_name("arrival process", process, ARRIVALS) + ".")
    names = list(ARRIVAL_OPTIONS[process])
    if len(numbers) > len(names):
        usage = ":".join([process, *(n.upper() for n in names)])
        raise SpecError(f"--arrival: {text!r} has too many values (use {usage}).")
    out: dict[str, Any] = {"process": process}
    for name, value in zip(names, numbers, strict=False):
        try:
            out[name] = float(value)
        except ValueError:
            raise SpecError(f"--arrival: {value!r} is not a number for {name} in {text!r}.") from None
    return out
