"""Unpaired A/B rows: per metric and statistic, A, B, ``B − A`` and ``B / A`` with bootstrap CIs.

Each run is resampled on its own (independent samples); the replicates of a run's statistic are
drawn once and reused for its own CI, the difference and the ratio. A row always carries the sample
sizes; a value that cannot be computed is None with a ``why``. ``p`` is the two-sided bootstrap
p-value of B − A (``significance.p_value``); ``significant`` here is the raw CI test, which
``significance.apply_tests`` replaces by the corrected one when the comparison is assembled.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from suite.analyze.summarize.bootstrap import interval, percentile_replicates, replicates
from suite.compare.read.samples import LATENCY_METRICS, RunSamples
from suite.compare.summarize.significance import p_value

PERCENTILES = (50, 95, 99)
LOWER_IS_BETTER = {**dict.fromkeys(LATENCY_METRICS, True), "error_ratio": True, "hit_ratio": False,
                   "output_tokens_per_s": False, "requests_per_s": False}
UNITS = {**dict.fromkeys(LATENCY_METRICS, "s"), "error_ratio": "ratio", "hit_ratio": "ratio",
         "output_tokens_per_s": "tokens/s", "requests_per_s": "requests/s"}
NO_CI_THROUGHPUT = "one figure per run window: there is no per-request sample to resample"


@dataclass(frozen=True)
class Boot:
    """How intervals are drawn: replicates, confidence level and base seed."""

    n_boot: int = 1000
    conf: float = 0.95
    seed: int = 0

    def seed_for(self, *parts: str) -> int:
        """A stable seed per (run, group, metric): same inputs ⇒ same interval, and two runs'
        samples never share a random stream."""
        return (zlib.crc32("/".join(parts).encode()) + self.seed * 1_000_003) % (2**32)


def _ci(ci: tuple[float, float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[1], ci[2]]


def _significant(ci: tuple[float, float, float] | None, null: float) -> bool | None:
    return None if ci is None else bool(ci[1] > null or ci[2] < null)


def better(metric: str, a: float | None, b: float | None, significant: bool | None) -> str | None:
    if not significant or a is None or b is None or a == b:
        return None
    b_lower = b < a
    return "b" if b_lower == LOWER_IS_BETTER[metric] else "a"


def row(metric: str, stat: str | None, a: Any, b: Any, boot: Boot, why: str | None = None) -> dict[str, Any]:
    """A comparison row from two ``(estimate, replicates, n)`` triples (either may be None)."""
    out: dict[str, Any] = {"metric": metric, "stat": stat, "unit": UNITS[metric],
                           "a": None if a is None else a[0], "b": None if b is None else b[0],
                           "n_a": 0 if a is None else a[2], "n_b": 0 if b is None else b[2]}
    if a is None or b is None:
        side = "A" if a is None else "B"
        return {**out, "delta": None, "delta_ci": None, "ratio": None, "ratio_ci": None, "a_ci": None,
                "b_ci": None, "significant": None, "better": None, "p": None, "p_holm": None,
                "why": why or f"no {metric} values in run {side}"}
    delta = interval(b[0] - a[0], b[1] - a[1], boot.conf)
    ratio = interval(b[0] / a[0], b[1] / a[1], boot.conf) if a[0] and np.all(a[1]) else None
    significant = _significant(delta, 0.0)
    out.update({"delta": b[0] - a[0], "delta_ci": _ci(delta),
                "ratio": b[0] / a[0] if a[0] else None, "ratio_ci": _ci(ratio),
                "a_ci": _ci(interval(a[0], a[1], boot.conf)), "b_ci": _ci(interval(b[0], b[1], boot.conf)),
                "significant": significant, "better": better(metric, a[0], b[0], significant),
                "p": p_value(b[1] - a[1]), "p_holm": None})
    if ratio is None:
        out["ratio_why"] = f"{metric} of A is 0 (in the estimate or a resample): no ratio"
    return out


def _latency_reps(s: RunSamples, metric: str, boot: Boot, key: str) -> dict[str, Any]:
    values = s.values[metric]
    values = values[np.isfinite(values)]
    got = percentile_replicates(values, PERCENTILES, n_boot=boot.n_boot, seed=boot.seed_for(key, metric))
    if got is None:
        return dict.fromkeys(f"p{q}" for q in PERCENTILES)
    est, reps = got
    return {f"p{q}": (float(est[i]), reps[i], int(values.size)) for i, q in enumerate(PERCENTILES)}


def _share_reps(flags: np.ndarray, boot: Boot, key: str) -> tuple[float, np.ndarray, int] | None:
    flags = flags[np.isfinite(flags)]
    got = replicates(flags, "mean", n_boot=boot.n_boot, seed=boot.seed_for(key))
    return None if got is None else (got[0], got[1], int(flags.size))


def _throughput(s: RunSamples) -> dict[str, float | None]:
    if s.seconds <= 0:
        return {"output_tokens_per_s": None, "requests_per_s": None}
    tokens = s.completion_tokens[np.isfinite(s.completion_tokens)]
    return {"output_tokens_per_s": float(tokens.sum()) / s.seconds if tokens.size else None,
            "requests_per_s": s.ids.size / s.seconds}


def _throughput_row(metric: str, a: float | None, b: float | None) -> dict[str, Any]:
    out = {"metric": metric, "stat": None, "unit": UNITS[metric], "a": a, "b": b, "n_a": None, "n_b": None,
           "delta": None if a is None or b is None else b - a, "delta_ci": None,
           "ratio": b / a if a and b is not None else None, "ratio_ci": None, "a_ci": None, "b_ci": None,
           "significant": None, "better": None, "p": None, "p_holm": None, "why": NO_CI_THROUGHPUT}
    if a is None or b is None:
        out["why"] = "the run window has zero length or no completion token counts were recorded"
    return out


def group_rows(a: RunSamples, b: RunSamples, group: str, boot: Boot, every_a: RunSamples | None = None,
               every_b: RunSamples | None = None) -> list[dict[str, Any]]:
    """Every metric row for one group (a model, or all requests) of two runs. Latency rows come from
    ``a``/``b`` (a population, e.g. cache misses); error ratio, hit ratio and throughput from
    ``every_a``/``every_b`` (every request) when given."""
    key_a, key_b = f"{a.label}/{group}", f"{b.label}/{group}"
    rows: list[dict[str, Any]] = []
    for metric in LATENCY_METRICS:
        ra, rb = _latency_reps(a, metric, boot, key_a), _latency_reps(b, metric, boot, key_b)
        rows += [row(metric, stat, ra[stat], rb[stat], boot) for stat in ra]
    a, b = every_a or a, every_b or b
    rows.append(row("error_ratio", None, _share_reps((~a.ok).astype(float), boot, key_a + "/err"),
                    _share_reps((~b.ok).astype(float), boot, key_b + "/err"), boot))
    rows.append(row("hit_ratio", None, _share_reps(a.hit, boot, key_a + "/hit"),
                    _share_reps(b.hit, boot, key_b + "/hit"), boot,
                    why="no request of this run carried a cache signal (hit or miss)"))
    ta, tb = _throughput(a), _throughput(b)
    rows += [_throughput_row(m, ta[m], tb[m]) for m in ("output_tokens_per_s", "requests_per_s")]
    return rows
