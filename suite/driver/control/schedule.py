"""Open loop: when each request is due, and how late the driver actually sent it.

Pure: ``offsets`` turns a corpus (its arrival times ``t``) or a rate override into seconds from the
run's start, seeded so the same options give the same schedule on every worker; ``LagStats`` keeps
every lateness (``t_start - scheduled``) and says whether the driver kept the schedule. Lateness
is the coordinated-omission signal: a driver that cannot send on time hides queueing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from suite.errors import CorpusError, SpecError
from suite.records import CorpusRequest


def offsets(requests: Sequence[CorpusRequest], rate: float | None = None, arrival: str = "poisson",
            seed: int = 0) -> list[float]:
    """Seconds from the run's start at which each request is due (non-decreasing).

    Without ``rate`` the corpus's own ``t`` is used (made relative to the first request); with it,
    a constant or Poisson process at ``rate`` requests/s, drawn from ``random.Random(seed)``.
    """
    if rate is not None:
        if not (math.isfinite(rate) and rate > 0):
            raise SpecError(f"rate: {rate} is not valid (must be > 0 requests per second).")
        return _rate_offsets(len(requests), rate, arrival, seed)
    missing = [r.id for r in requests if r.t is None]
    if missing:
        raise CorpusError(f"open loop needs arrival times, but {len(missing)} corpus request(s) have t=null "
                          f"(e.g. {missing[0]}). Pass --rate R, or synthesize with --arrival poisson:R.")
    times = [float(r.t) for r in requests]  # type: ignore[arg-type]
    if any(b < a for a, b in zip(times, times[1:], strict=False)):
        raise CorpusError("open loop needs arrival times in corpus order, but t decreases somewhere; "
                          "sort the corpus by t or pass --rate R.")
    first = times[0] if times else 0.0
    return [t - first for t in times]


def _rate_offsets(n: int, rate: float, arrival: str, seed: int) -> list[float]:
    if arrival == "constant":
        return [i / rate for i in range(n)]
    if arrival != "poisson":
        raise SpecError(f"arrival: {arrival!r} is not one of poisson, constant.")
    rng = random.Random(seed)
    out, t = [], 0.0
    for i in range(n):
        if i:
            t += rng.expovariate(rate)
        out.append(t)
    return out


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None for no values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class LagStats:
    """Every open-loop lateness of this process, and the requests that waited for a free slot."""

    def __init__(self, warn_ms: float) -> None:
        self.warn_ms = warn_ms
        self.lags: list[float] = []
        self.overflow = 0  # sends delayed because max_concurrency requests were already in flight

    def add(self, lag_s: float) -> None:
        self.lags.append(lag_s)

    def summary(self) -> dict[str, Any]:
        """Lag percentiles in ms (None when nothing was sent) and whether the schedule was kept."""
        ordered = sorted(self.lags)
        p50, p99 = percentile(ordered, 50), percentile(ordered, 99)
        behind = p99 is not None and p99 * 1000 > self.warn_ms
        return {"sent": len(ordered), "lag_p50_ms": _ms(p50), "lag_p99_ms": _ms(p99),
                "lag_max_ms": _ms(ordered[-1] if ordered else None), "overflow": self.overflow,
                "warn_ms": self.warn_ms, "behind_schedule": behind}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def lag_warning(summary: dict[str, Any], where: str = "") -> str | None:
    """The warning a person reads when the driver could not keep the schedule, else None."""
    if not summary.get("behind_schedule"):
        return None
    extra = (f"; {summary['overflow']} send(s) waited for a free slot (raise --max-concurrency)"
             if summary.get("overflow") else "")
    return (f"open loop fell behind schedule{where}: lag p99 {summary['lag_p99_ms']:.1f} ms > "
            f"{summary['warn_ms']:.0f} ms{extra}. Latencies from t_start understate queueing; use "
            f"the scheduled-time (corrected) figures, or add driver processes (--processes N).")
