"""Pure statistics on arrays of per-request values: no pandas, no I/O, no defaults for missing data.

Percentiles use ``numpy.percentile`` with its default ``linear`` method (Hyndman & Fan type 7):
for the values 1..100, p50 = 50.5, p95 = 95.05, p99 = 99.01. They are always computed from every
request's value, never from averages. A function that cannot compute its number returns ``None``;
the caller says why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any, Literal

import numpy as np

from suite.analyze.summarize.select import MIN_SIZE, ranked_values
from suite.runtime import ARRAY_CHUNK, all_finite

PERCENTILE_METHOD = "linear"
LATENCY_PERCENTILES = (50, 90, 95, 99)


def finite(values: Any) -> np.ndarray:
    """The finite values of ``values`` as float64 (NaN marks "not measured" and is dropped)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size > ARRAY_CHUNK and all_finite(arr):
        return arr  # millions of gaps: checked chunk by chunk, no mask as large as the array
    keep = np.isfinite(arr)
    return arr if keep.all() else arr[keep]  # no copy of an already clean array


def percentiles(values: Any, qs: Sequence[float] = LATENCY_PERCENTILES) -> dict[str, float] | None:
    """``{"p50": ..., "p90": ..., "p95": ..., "p99": ...}`` over the finite values, or None if none."""
    arr = finite(values)
    if arr.size == 0:
        return None
    points, _ = _selected(arr, qs, _fresh(arr, values))
    return {f"p{q:g}": float(v) for q, v in zip(qs, points, strict=True)}


def sorted_percentiles(ordered: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """numpy.percentile's ``linear`` method, bit for bit, on an already sorted array (or one only
    partitioned at ``percentile_ranks``: the interpolation reads no other position)."""
    return linear(ordered.size, qs, lambda idx: ordered[idx])


def merged_percentiles(parts: Sequence[np.ndarray], qs: Sequence[float]) -> np.ndarray:
    """``sorted_percentiles`` of the union of several sorted arrays (e.g. each model's sorted gaps,
    for the whole run), bit for bit, without merging them: each order statistic needed is found by
    binary search (``kth_smallest``), so the millions of values are neither copied nor sorted again."""
    n = sum(p.size for p in parts)
    return linear(n, qs, lambda idx: np.array([kth_smallest(parts, int(k)) for k in idx]))


def linear(n: int, qs: Sequence[float], at: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Type-7 interpolation between the order statistics ``at(lo)`` and ``at(hi)`` (numpy's formula)."""
    q = np.true_divide(np.asarray(qs, dtype=np.float64), 100)
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    gamma = virtual - prev
    lo = np.clip(prev.astype(np.intp), 0, n - 1)
    hi = np.clip(lo + 1, 0, n - 1)
    a, b = at(lo), at(hi)
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def kth_smallest(parts: Sequence[np.ndarray], k: int) -> float:
    """The ``k``-th smallest value (0-based) of the union of ascending arrays, in O(m² log² n) for m
    parts. The answer x is in some part; there, the first value v with ``count(≤ v) > k`` is x itself,
    while in a part without x that first value has ``count(< v) > k``."""
    def count(v: float, side: Literal["left", "right"]) -> int:
        return sum(int(np.searchsorted(p, v, side)) for p in parts)

    for part in parts:
        lo, hi = 0, part.size
        while lo < hi:
            mid = (lo + hi) // 2
            if count(part[mid], "right") > k:
                hi = mid
            else:
                lo = mid + 1
        if lo < part.size and count(part[lo], "left") <= k:
            return float(part[lo])
    raise IndexError(f"k={k} is outside the {sum(p.size for p in parts)} values")


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


def describe(values: Any, qs: Sequence[float] = LATENCY_PERCENTILES, *,
             scratch: bool = False) -> dict[str, float] | None:
    """Mean, the percentiles and max of the finite values, or None: the same numbers, bit for bit,
    as sorting them (``describe_sorted``), but read by selection (``select_percentiles``), ~4x less
    work than a sort on millions of values.

    ``scratch=True`` says ``values`` is the caller's temporary: it is then reordered in place instead
    of copied first (a copy of millions of gaps saved). A copy ``finite`` made is always reordered."""
    arr = finite(values)
    if arr.size == 0:
        return None
    mean = float(arr.mean())  # before any reordering: the summation order stays the input's
    points, top = _selected(arr, qs, scratch or _fresh(arr, values))
    return {"mean": mean, **{f"p{q:g}": float(v) for q, v in zip(qs, points, strict=True)},
            "max": top}


def percentile_ranks(n: int, qs: Sequence[float]) -> np.ndarray:
    """The 0-based ranks (order statistics) type-7 interpolation reads for ``qs`` out of ``n``
    values, plus the maximum's (``n - 1``): ascending, each once."""
    q = np.true_divide(np.asarray(qs, dtype=np.float64), 100)
    lo = np.clip(np.floor((n - 1) * q).astype(np.intp), 0, n - 1)
    return np.unique(np.concatenate([lo, np.clip(lo + 1, 0, n - 1), [n - 1]]))


def _selected(arr: np.ndarray, qs: Sequence[float], owned: bool) -> tuple[np.ndarray, float]:
    """``select_percentiles`` of ``arr`` (finite, at least one value; reordered only when ``owned``).
    Millions of values the caller does not own (the whole run's pooled ITL: the run's own gap
    array) are bracketed instead (suite.analyze.summarize.select): the same order statistics
    without the copy a partition needs (1.2 GB at 10M records; on 15.5M gaps ~0.17 s against
    ~0.23 s for a partition plus its copy). An owned array is partitioned in place: no extra memory,
    and no faster bracketed on a loaded 2-core machine."""
    if arr.size < MIN_SIZE or owned:
        return select_percentiles(arr if owned else arr.copy(), qs)
    ranks = percentile_ranks(arr.size, qs)
    got = dict(zip(ranks.tolist(), ranked_values(arr, ranks).tolist(), strict=True))
    return linear(arr.size, qs, lambda idx: np.array([got[int(k)] for k in idx])), got[arr.size - 1]


def select_percentiles(work: np.ndarray, qs: Sequence[float]) -> tuple[np.ndarray, float]:
    """``sorted_percentiles(np.sort(work), qs)`` and the maximum, from ``work`` (finite values, at
    least one) partially ordered in place: ``np.partition`` at every rank needed puts exactly the
    value a full sort would there, so the interpolation reads the same numbers. (Only the sign of
    a zero among tied zeros may differ, as it may between two sort algorithms.)"""
    work.partition(percentile_ranks(work.size, qs))
    return sorted_percentiles(work, qs), float(work[-1])


def describe_sorted(values: Any, qs: Sequence[float] = LATENCY_PERCENTILES, *,
                    scratch: bool = False) -> tuple[dict[str, float], np.ndarray] | None:
    """``describe`` and the sorted finite values it was read from (kept for ``describe_merged``)."""
    arr = finite(values)
    if arr.size == 0:
        return None
    mean = float(arr.mean())  # before any in-place sort: the summation order stays the input's
    ordered = sort_owned(arr, values, scratch)
    points = sorted_percentiles(ordered, qs)
    return {"mean": mean, **{f"p{q:g}": float(v) for q, v in zip(qs, points, strict=True)},
            "max": float(ordered[-1])}, ordered


def describe_merged(values: Any, parts: Sequence[np.ndarray],
                    qs: Sequence[float] = LATENCY_PERCENTILES) -> dict[str, float] | None:
    """``describe(values)`` when ``parts`` are the same finite values split into sorted arrays (each
    group's own, already sorted): the mean from ``values`` in their order, the order statistics from
    the parts. Same numbers, bit for bit, without sorting ``values``."""
    arr = finite(values)
    if arr.size == 0:
        return None
    if arr.size != sum(p.size for p in parts):
        raise ValueError(f"the parts hold {sum(p.size for p in parts)} values, not {arr.size}")
    points = merged_percentiles([p for p in parts if p.size], qs)
    return {"mean": float(arr.mean()), **{f"p{q:g}": float(v) for q, v in zip(qs, points, strict=True)},
            "max": max(float(p[-1]) for p in parts if p.size)}


def sort_owned(arr: np.ndarray, source: Any, scratch: bool = False) -> np.ndarray:
    """``arr`` sorted: in place when it may be reordered (``scratch``, or a fresh copy of the numpy
    array ``source``), else a sorted copy. Anything else (a list, a pandas column) is never reordered."""
    if scratch or _fresh(arr, source):
        arr.sort()
        return arr
    return np.sort(arr)


def _fresh(arr: np.ndarray, source: Any) -> bool:
    """Whether ``arr`` is a copy ``finite`` made of the numpy array ``source`` (so it may be reordered)."""
    return isinstance(source, np.ndarray) and arr is not source and not np.may_share_memory(arr, source)


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
