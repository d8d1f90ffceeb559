"""How load is applied (closed/open loop, presets, warm-up, abort rules, live exporters): one value.

``LoadOptions`` is part of ``DriverConfig`` and crosses into the Locust child as one JSON
environment variable (``LLMSUITE_LOAD``), so adding a knob never adds an env-var name. Every
value is validated here, once, with a message that names the option, the bad value and the fix.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import orjson

from suite.errors import SpecError

MODES = ("closed", "open")
ARRIVALS = ("poisson", "constant")
RETRY_AFTER = ("record", "honour")
DEFAULT_ABORT_CONNECT_ERRORS = 20
DEFAULT_MAX_CONCURRENCY = 1000
DEFAULT_LAG_WARN_MS = 50.0


@dataclass(frozen=True)
class LoadOptions:
    """The load model of a run. Defaults reproduce the plain closed loop (N users, no think time)."""

    mode: str = "closed"
    # open loop: None = the corpus's own arrival times ``t``; else a rate override (req/s)
    rate: float | None = None
    arrival: str = "poisson"
    seed: int = 0
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    lag_warn_ms: float = DEFAULT_LAG_WARN_MS
    # closed loop
    think_time_s: float = 0.0
    affinity: bool = False  # a user keeps a whole multi-turn session
    preset: str | None = None
    preset_users: int | None = None  # the preset's peak rescaled to this many users
    # both
    max_requests: int | None = None
    warmup_s: float = 0.0
    abort_error_ratio: float | None = None
    abort_window_s: float = 30.0
    abort_min_requests: int = 20
    health_interval_s: float = 5.0
    health_failures: int | None = None  # consecutive /health failures that abort; None = off
    # where those checks go (the Target's --health-path / --health-method; the auth headers come
    # from the request options and the key, which cross into Locust through the environment)
    health_path: str = "/health"
    health_method: str = "GET"
    # consecutive ``connect`` errors of one process that abort (a dead target), always on
    abort_connect_errors: int = DEFAULT_ABORT_CONNECT_ERRORS
    # a 429/503's Retry-After: ``record`` it only, or ``honour`` it too (closed loop: that user
    # pauses before its next send, suite.driver.inlocust.backoff)
    retry_after: str = "record"
    prometheus_port: int | None = None
    llm_stats: bool = False  # the web UI's LLM tab (suite.driver.inlocust.webtab), never in Locust's stats
    distributed: bool = False  # set by the runner: the corpus is split over Locust workers

    def __post_init__(self) -> None:
        _choice("mode", self.mode, MODES)
        _choice("arrival", self.arrival, ARRIVALS)
        _choice("retry_after", self.retry_after, RETRY_AFTER)
        _at_least("abort_connect_errors", self.abort_connect_errors, 1)
        _positive("rate", self.rate, "requests per second")
        _positive("abort_window_s", self.abort_window_s, "seconds")
        _positive("health_interval_s", self.health_interval_s, "seconds")
        _positive("lag_warn_ms", self.lag_warn_ms, "milliseconds")
        _at_least("max_concurrency", self.max_concurrency, 1)
        _at_least("max_requests", self.max_requests, 1)
        _at_least("preset_users", self.preset_users, 1)
        _at_least("abort_min_requests", self.abort_min_requests, 1)
        _at_least("health_failures", self.health_failures, 1)
        if self.think_time_s < 0 or self.warmup_s < 0:
            bad = "think_time_s" if self.think_time_s < 0 else "warmup_s"
            raise SpecError(f"{bad}: {getattr(self, bad)} s is not valid (must be >= 0).")
        ratio = self.abort_error_ratio
        if ratio is not None and not 0 < ratio <= 1:
            raise SpecError(f"abort_error_ratio: {ratio} is not valid (must be in (0, 1], e.g. 0.5).")
        port = self.prometheus_port
        if port is not None and not 0 < port < 65536:
            raise SpecError(f"prometheus_port: {port} is not a TCP port (1..65535).")
        if self.mode == "open" and (self.preset or self.affinity):
            raise SpecError("--preset and --affinity shape closed-loop users; an open-loop run sends at "
                            "arrival times instead. Drop them or drop --open-loop.")

    def to_json(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def from_json(cls, raw: str) -> LoadOptions:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise SpecError(f"LLMSUITE_LOAD is not valid JSON ({exc}); start runs with `llmsuite run`.") \
                from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(obj) - known) if isinstance(obj, dict) else ["(not an object)"]
        if unknown:
            raise SpecError(f"LLMSUITE_LOAD: unknown option(s) {', '.join(unknown)}; known: "
                            f"{', '.join(sorted(known))}.")
        return cls(**obj)


def _choice(name: str, value: str, known: tuple[str, ...]) -> None:
    if value not in known:
        raise SpecError(f"{name}: {value!r} is not one of {', '.join(known)}.")


def _positive(name: str, value: float | None, unit: str) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise SpecError(f"{name}: {value} is not valid (must be > 0 {unit}).")


def _at_least(name: str, value: int | None, low: int) -> None:
    if value is not None and value < low:
        raise SpecError(f"{name}: {value} is not valid (must be >= {low}).")


def load_summary(opts: LoadOptions) -> dict[str, Any]:
    """The options as run.json keeps them (``extra.load``): what the run was asked to do."""
    return asdict(opts)
