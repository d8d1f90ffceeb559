"""Seeded, vectorised bootstrap confidence intervals for per-request statistics (pure numpy).

Every function returns ``(estimate, lo, hi)`` — the statistic on the full data and a
percentile-bootstrap interval at ``conf`` — or **None** when the statistic cannot be computed
(no finite value left, a zero denominator, a ratio that is unbounded within resampling). None is
the documented answer for missing data, as in ``suite.analyze.summarize.stats``: the caller says why. NaN
marks "not measured" and is dropped before resampling (``stats.finite``).

Same inputs and ``seed`` ⇒ the same interval, on any machine (``numpy.random.default_rng``).

Quantiles (``"median"``, ``"pNN"``) are bootstrapped exactly, without materialising resamples: the
k-th order statistic of a resample of the sorted data x₍₁₎..x₍ₙ₎ is x₍⌈n·U₍ₖ₎⌉₎, where U₍ₖ₎ ~ Beta(k,
n−k+1) is the k-th order statistic of n uniforms, and the next one is U₍ₖ₊₁₎ = U₍ₖ₎ + (1 − U₍ₖ₎)·
Beta(1, n−k). So a replicate of numpy's linear (type 7) quantile costs O(1) after one sort, whatever
n is: a 1M-point median CI costs one sort. Means of 0/1 data (error ratio, hit ratio, shares) are
exact too: a resample's mean is Binomial(n, p̂)/n.

Other statistics (``"mean"`` of real values, callables) resample indices, with memory and time
capped: a sample longer than ``max_points`` is resampled ``m``-out-of-``n`` (``m = max_points``
draws per replicate) and each replicate's deviation from the full-sample estimate is shrunk by
``sqrt(m / n)`` (means are √n-consistent). Replicates are drawn in chunks of at most
``_CHUNK_CELLS`` resampled values (~16 MB of indices), whatever ``n_boot`` is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from suite.analyze.summarize.select import MIN_SIZE, order_band
from suite.analyze.summarize.stats import PERCENTILE_METHOD, finite

Stat = str | Callable[..., Any]
CI = tuple[float, float, float]

MAX_POINTS = 20_000
_CHUNK_CELLS = 2_000_000
_PCT = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


def resolve_stat(stat: Stat) -> Callable[[np.ndarray], np.ndarray]:
    """A function ``f(matrix) -> one value per row`` for ``"mean"``, ``"median"``, ``"pNN"``, or a
    callable. A callable is first tried as ``f(matrix, axis=-1)`` (numpy style, fast); one that does
    not take ``axis`` is applied row by row."""
    if callable(stat):
        return _row_wise(stat)
    if stat == "mean":
        return lambda m: np.mean(m, axis=-1)
    if stat == "median":
        return lambda m: np.median(m, axis=-1)
    match = _PCT.match(stat) if isinstance(stat, str) else None
    if match is None or not 0 < float(match.group(1)) < 100:
        raise ValueError(f"unknown bootstrap statistic {stat!r}; use 'mean', 'median', 'p50'..'p99.9' "
                         "or a callable")
    q = float(match.group(1))
    return lambda m: np.percentile(m, q, axis=-1, method=PERCENTILE_METHOD)


def _row_wise(func: Callable[..., Any]) -> Callable[[np.ndarray], np.ndarray]:
    def apply(matrix: np.ndarray) -> np.ndarray:
        try:
            out = np.asarray(func(matrix, axis=-1), dtype=np.float64)
            if out.shape == matrix.shape[:-1]:
                return out
        except TypeError:
            pass
        return np.array([float(func(row)) for row in np.atleast_2d(matrix)]).reshape(matrix.shape[:-1])
    return apply


def quantile_level(stat: Stat) -> float | None:
    """The percentile (0-100) a stat name asks for, or None for anything else."""
    if stat == "median":
        return 50.0
    match = _PCT.match(stat) if isinstance(stat, str) else None
    return float(match.group(1)) if match and 0 < float(match.group(1)) < 100 else None


def exact_quantile_replicates(ordered: np.ndarray, q: float, n_boot: int,
                              rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` bootstrap replicates of the type-7 ``q``-th percentile of sorted data, drawn from the
    exact order-statistic distribution (module docstring) instead of from resamples."""
    return _quantile_replicates(ordered.size, q, n_boot, rng, lambda idx: ordered[idx])


def unsorted_quantile_replicates(data: np.ndarray, q: float, n_boot: int,
                                 rng: np.random.Generator) -> np.ndarray:
    """``exact_quantile_replicates(np.sort(data), ...)``, bit for bit, without sorting ``data`` (left
    as it is): the ranks drawn lie in a narrow band around ``q`` (a few thousand of a million values),
    so a copy is partitioned at the band's ends and only the band is sorted."""
    def at(idx: np.ndarray) -> np.ndarray:
        if data.size >= MIN_SIZE:  # millions of values: the band bracketed, ``data`` not copied
            lo = int(idx.min())
            return order_band(data, lo, int(idx.max()))[idx - lo]
        return ranked(data, idx)[idx]
    return _quantile_replicates(data.size, q, n_boot, rng, at)


def ranked(data: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``data`` (or a copy) in sorted order at every rank from ``idx.min()`` to ``idx.max()``."""
    if data.size < 2 or bool(np.all(data[1:] >= data[:-1])):  # already sorted (~1/50 of a sort)
        return data
    lo, hi = int(idx.min()), int(idx.max())
    work = np.partition(data, [lo, hi])  # ranks lo..hi now sit, unordered, between the two
    work[lo:hi + 1].sort()
    return work


def _quantile_replicates(n: int, q: float, n_boot: int, rng: np.random.Generator,
                         at: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The draws of ``exact_quantile_replicates``; ``at(ranks)`` reads the sorted data's values."""
    if n == 1:
        return np.full(n_boot, at(np.zeros(1, dtype=np.int64))[0])
    h = (n - 1) * q / 100.0
    k = int(np.floor(h)) + 1  # 1-based rank of the lower order statistic
    frac = h - (k - 1)
    u_low = rng.beta(k, n - k + 1, size=n_boot)
    low_idx = np.clip(np.ceil(n * u_low).astype(np.int64) - 1, 0, n - 1)
    if frac == 0 or k >= n:
        return at(low_idx)
    u_high = u_low + (1.0 - u_low) * rng.beta(1, n - k, size=n_boot)
    high_idx = np.clip(np.ceil(n * u_high).astype(np.int64) - 1, 0, n - 1)
    values = at(np.concatenate([low_idx, high_idx]))  # one partition for both ends
    low, high = values[:n_boot], values[n_boot:]
    return low + frac * (high - low)


def sorted_view(data: np.ndarray) -> np.ndarray:
    """``data`` itself when already in ascending order (a check costs ~1/50 of a sort), else a sorted
    copy. Callers often pass arrays a summary has just sorted in place."""
    if data.size < 2 or bool(np.all(data[1:] >= data[:-1])):
        return data
    return np.sort(data)


def _is_binary(data: np.ndarray) -> bool:
    return bool(np.all((data == 0) | (data == 1)))


def replicates(values: Any, stat: Stat = "median", *, n_boot: int = 1000, seed: int | np.random.Generator = 0,
               max_points: int = MAX_POINTS) -> tuple[float, np.ndarray] | None:
    """The full-sample estimate and ``n_boot`` bootstrap replicates of ``stat`` (exact for quantiles
    and 0/1 means, rescaled when ``m``-out-of-``n`` resampling applies), or None when no finite value
    is left. The building block of the intervals below; exposed so callers can combine replicates."""
    data = finite(values)
    if data.size == 0:
        return None
    func = resolve_stat(stat)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    estimate = float(func(data[np.newaxis, :])[0])
    q = quantile_level(stat)
    if q is not None:
        return estimate, unsorted_quantile_replicates(data, q, n_boot, rng)
    if stat == "mean" and _is_binary(data):
        return estimate, rng.binomial(data.size, estimate, size=n_boot) / data.size
    m = min(data.size, max_points)
    rows_per_chunk = max(1, _CHUNK_CELLS // m)
    out = np.empty(n_boot, dtype=np.float64)
    for start in range(0, n_boot, rows_per_chunk):
        rows = min(rows_per_chunk, n_boot - start)
        idx = rng.integers(0, data.size, size=(rows, m))
        out[start:start + rows] = func(data[idx])
    if m < data.size:
        out = estimate + (out - estimate) * np.sqrt(m / data.size)
    return estimate, out


def percentile_replicates(values: Any, qs: Sequence[float], *, n_boot: int = 1000,
                          seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray] | None:
    """Several percentiles after one sort: estimates of shape ``(len(qs),)`` and exact replicates
    ``(len(qs), n_boot)`` (each percentile's own marginal bootstrap distribution); None when no
    finite value is left."""
    data = finite(values)
    if data.size == 0:
        return None
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    ordered = sorted_view(data)
    estimates = np.percentile(ordered, np.asarray(qs, dtype=np.float64), method=PERCENTILE_METHOD)
    reps = np.stack([exact_quantile_replicates(ordered, float(q), n_boot, rng) for q in qs])
    return estimates, reps


def interval(estimate: float, reps: np.ndarray, conf: float = 0.95) -> CI | None:
    """``(estimate, lo, hi)`` from replicates (percentile method); None if anything is not finite.
    Use it to combine replicates, e.g. ``interval(b_est - a_est, b_reps - a_reps)``."""
    return _interval(estimate, np.asarray(reps, dtype=np.float64), conf)


def _interval(estimate: float, reps: np.ndarray, conf: float) -> CI | None:
    if not np.isfinite(estimate) or not np.all(np.isfinite(reps)):
        return None
    alpha = (1.0 - conf) / 2.0
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    return float(estimate), float(lo), float(hi)


def _check(n_boot: int, conf: float) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot={n_boot} must be ≥ 1")
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf={conf} must be between 0 and 1 (e.g. 0.95)")


def bootstrap_ci(values: Any, stat: Stat = "median", *, n_boot: int = 1000, conf: float = 0.95,
                 seed: int = 0, max_points: int = MAX_POINTS) -> CI | None:
    """``(stat(values), lo, hi)``: percentile-bootstrap CI of one sample's statistic.

    >>> est, lo, hi = bootstrap_ci([1.0, 2.0, 3.0, 4.0, 5.0], "mean", n_boot=200)
    >>> est, lo <= est <= hi
    (3.0, True)
    >>> bootstrap_ci([]) is None
    True
    """
    _check(n_boot, conf)
    got = replicates(values, stat, n_boot=n_boot, seed=seed, max_points=max_points)
    return None if got is None else _interval(got[0], got[1], conf)


def paired_delta_ci(deltas: Any, stat: Stat = "median", *, n_boot: int = 1000, conf: float = 0.95,
                    seed: int = 0, max_points: int = MAX_POINTS) -> CI | None:
    """CI of a statistic of per-request paired deltas (``b_i − a_i`` for the same request id):
    pairing removes the between-request spread, so this is the sharp test when both runs replayed
    the same corpus."""
    return bootstrap_ci(deltas, stat, n_boot=n_boot, conf=conf, seed=seed, max_points=max_points)


def _two_samples(a: Any, b: Any, stat: Stat, n_boot: int, seed: int,
                 max_points: int) -> tuple[tuple[float, np.ndarray] | None, tuple[float, np.ndarray] | None]:
    """Replicates of both samples from independent child streams of one seed."""
    seed_a, seed_b = np.random.SeedSequence(seed).spawn(2)
    got_a = replicates(a, stat, n_boot=n_boot, seed=np.random.default_rng(seed_a), max_points=max_points)
    got_b = replicates(b, stat, n_boot=n_boot, seed=np.random.default_rng(seed_b), max_points=max_points)
    return got_a, got_b


def bootstrap_diff_ci(a: Any, b: Any, stat: Stat = "median", *, n_boot: int = 1000, conf: float = 0.95,
                      seed: int = 0, max_points: int = MAX_POINTS) -> CI | None:
    """``stat(b) − stat(a)`` with a CI, each sample resampled independently (unpaired runs)."""
    _check(n_boot, conf)
    got_a, got_b = _two_samples(a, b, stat, n_boot, seed, max_points)
    if got_a is None or got_b is None:
        return None
    return _interval(got_b[0] - got_a[0], got_b[1] - got_a[1], conf)


def bootstrap_ratio_ci(num: Any, den: Any, stat: Stat = "median", *, n_boot: int = 1000, conf: float = 0.95,
                       seed: int = 0, max_points: int = MAX_POINTS) -> CI | None:
    """``stat(num) / stat(den)`` with a CI, each sample resampled independently — e.g. the cache
    speedup ``median(miss) / median(hit)``. None when a denominator (estimate or replicate) is 0."""
    _check(n_boot, conf)
    got_num, got_den = _two_samples(num, den, stat, n_boot, seed, max_points)
    if got_num is None or got_den is None or got_den[0] == 0 or np.any(got_den[1] == 0):
        return None
    return _interval(got_num[0] / got_den[0], got_num[1] / got_den[1], conf)


def excludes_zero(ci: CI | None) -> bool | None:
    """Significance flag of a difference: True when the interval lies entirely on one side of 0,
    None when there is no interval."""
    if ci is None:
        return None
    return ci[1] > 0 or ci[2] < 0


def excludes_one(ci: CI | None) -> bool | None:
    """Significance flag of a ratio: True when the interval lies entirely on one side of 1."""
    if ci is None:
        return None
    return ci[1] > 1 or ci[2] < 1
