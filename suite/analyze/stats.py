"""Pure statistics on arrays of per-request values: no pandas, no I/O, no defaults for missing data.

Percentiles use ``numpy.percentile`` with its default ``linear`` method (Hyndman & Fan type 7):
for the values 1..100, p50 = 50.5, p95 = 95.05, p99 = 99.01. They are always computed from every
request's value, never from averages. A function that cannot compute its number returns ``None``;
the caller says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

import numpy as np

PERCENTILE_METHOD = "linear"
LATENCY_PERCENTILES = (50, 90, 95, 99)


def finite(values: Any) -> np.ndarray:
    """The finite values of ``values`` as float64 (NaN marks "not measured" and is dropped)."""
    arr = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(arr)
    return arr if keep.all() else arr[keep]  # no copy of an already clean array (millions of gaps)


def percentiles(values: Any, qs: Sequence[float] = LATENCY_PERCENTILES) -> dict[str, float] | None:
    """``{"p50": ..., "p90": ..., "p95": ..., "p99": ...}`` over the finite values, or None if none."""
    arr = finite(values)
    if arr.size == 0:
        return None
    points = sorted_percentiles(np.sort(arr), qs)
    return {f"p{q:g}": float(v) for q, v in zip(qs, points, strict=True)}


def sorted_percentiles(ordered: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """numpy.percentile's ``linear`` method, bit for bit, on an already sorted array. Sorting once
    (SIMD) beats numpy's multi-point partition several times over on millions of ITL gaps."""
    n = ordered.size
    q = np.true_divide(np.asarray(qs, dtype=np.float64), 100)
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    gamma = virtual - prev
    lo = np.clip(prev.astype(np.intp), 0, n - 1)
    hi = np.clip(lo + 1, 0, n - 1)
    a, b = ordered[lo], ordered[hi]
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when the denominator is zero."""
    return float(numerator) / float(denominator) if denominator else None


def speedup(miss: float | None, hit: float | None) -> float | None:
    """How many times faster hits are than misses (``miss / hit``); None if either is unknown or hit is 0."""
    if miss is None or hit is None or hit <= 0:
        return None
    return miss / hit


def gain_bound(hit_ratio: float | None) -> float | None:
    """End-to-end speedup bound ``1 / (1 - h)`` of a cache whose hits cost nothing (None at h = 1)."""
    if hit_ratio is None or hit_ratio >= 1:
        return None
    return 1.0 / (1.0 - hit_ratio)


def tpot(e2e: Any, ttft: Any, completion_tokens: Any) -> np.ndarray:
    """Per-request time per output token after the first: ``(e2e - ttft) / (completion_tokens - 1)``,
    for requests with more than one completion token and both timings measured."""
    e2e, ttft, tokens = (np.asarray(a, dtype=np.float64) for a in (e2e, ttft, completion_tokens))
    usable = np.isfinite(e2e) & np.isfinite(ttft) & np.isfinite(tokens) & (tokens > 1)
    return (e2e[usable] - ttft[usable]) / (tokens[usable] - 1)


def describe(values: Any, qs: Sequence[float] = LATENCY_PERCENTILES) -> dict[str, float] | None:
    """Mean, the percentiles and max of the finite values (one sort for all of them), or None."""
    arr = finite(values)
    if arr.size == 0:
        return None
    ordered = np.sort(arr)
    points = sorted_percentiles(ordered, qs)
    return {"mean": float(arr.mean()), **{f"p{q:g}": float(v) for q, v in zip(qs, points, strict=True)},
            "max": float(ordered[-1])}


def pooled_gaps(itl_lists: Iterable[Any]) -> np.ndarray:
    """Every inter-token gap of every request in one array (each gap counts once); an entry that is
    not a list (a summary, or null) holds no gaps."""
    lists = [gaps for gaps in itl_lists if isinstance(gaps, list) and gaps]
    if not lists:
        return np.empty(0)
    try:
        return finite(np.fromiter(chain.from_iterable(lists), dtype=np.float64))
    except (TypeError, ValueError):  # a null inside a list: take the slow path, null becomes NaN
        return finite(np.concatenate([np.asarray(gaps, dtype=np.float64) for gaps in lists]))


def window(t_start: Any, e2e: Any) -> tuple[float, float]:
    """The measured window: first send to last end (``t_start + e2e``; ``t_start`` when e2e is unknown)."""
    start = np.asarray(t_start, dtype=np.float64)
    ends = start + np.nan_to_num(np.asarray(e2e, dtype=np.float64), nan=0.0)
    return float(start.min()), float(ends.max())


def share(mask: Any) -> float | None:
    """Fraction of True in a boolean array, or None for an empty one."""
    arr = np.asarray(mask, dtype=bool)
    return float(arr.mean()) if arr.size else None
