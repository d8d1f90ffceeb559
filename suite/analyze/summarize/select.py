"""Order statistics of a large array without reordering or copying it: a few vectorised passes
instead of ``np.partition``'s introselect over all the values.

Why: the pooled ITL of a 1M-record run is ~16M gaps (160M at 10M records); partitioning them (and
the per-model pools) was the largest numpy cost of the summary, and needed a copy of all gaps for
the whole run (1.2 GB at 10M records). Bracketing is ~25 % faster than partitioning (a few passes
per wanted rank, each streaming through memory) and copies only the values inside the brackets.

How: a seeded random sample of the values brackets each wanted rank by two values; one pass
counts the values below the bracket, one picks the (few) values inside it, and only those are
partitioned. The result is the exact order statistic — the sample only
decides how much work is done: when a bracket misses its rank (a few standard deviations off, or
many ties), the values are partitioned as before.
"""

from __future__ import annotations

import numpy as np

from suite.runtime import ARRAY_CHUNK

SAMPLE = 1 << 16  # values sampled to place the brackets
MIN_SIZE = 1 << 20  # below this a partition of a copy is about as fast
SIGMAS = 6.0  # bracket half-width, in standard deviations of the sample rank


def order_band(arr: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``np.sort(arr)[lo:hi + 1]`` (finite ``arr``, left untouched), found by bracketing when
    ``arr`` is large."""
    if arr.size >= MIN_SIZE:
        got = _bracketed(arr, lo, hi, _sample(arr))
        if got is not None:
            return got
    return partitioned(arr, lo, hi)


def ranked_values(arr: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The values of a sorted ``arr`` at ``ranks`` (ascending, 0-based), ``arr`` left untouched: the
    maximum read by ``max``, nearby ranks bracketed together."""
    n = arr.size
    out = np.empty(ranks.size, dtype=np.float64)
    top = ranks == n - 1
    if top.any():
        out[top] = arr.max()
    rest = ranks[~top]
    sample = _sample(arr) if rest.size and n >= MIN_SIZE else None
    pos = np.flatnonzero(~top)
    for i, j in bands(rest):
        lo, hi = int(rest[i]), int(rest[j])
        band = _bracketed(arr, lo, hi, sample) if sample is not None else None
        if band is None:
            band = partitioned(arr, lo, hi)
        out[pos[i:j + 1]] = band[rest[i:j + 1] - lo]
    return out


def bands(ranks: np.ndarray) -> list[tuple[int, int]]:
    """Positions ``(i, j)`` in ascending ``ranks`` of the runs read together: a type-7 pair (a rank
    and the next one) is one band."""
    out, i = [], 0
    while i < ranks.size:
        j = i
        while j + 1 < ranks.size and ranks[j + 1] - ranks[i] <= 1:
            j += 1
        out.append((i, j))
        i = j + 1
    return out


def _sample(arr: np.ndarray) -> np.ndarray:
    """A sorted sample of ``arr``, seeded by its size: the same array gives the same brackets."""
    rng = np.random.default_rng(arr.size)
    picked = arr[rng.integers(0, arr.size, SAMPLE)]
    picked.sort()
    return picked


def _bracketed(arr: np.ndarray, lo: int, hi: int, sample: np.ndarray) -> np.ndarray | None:
    """Ranks ``lo..hi`` sorted, from the values between two sample values around them; None when
    the bracket does not hold them (the caller partitions instead)."""
    n = arr.size
    low_value, high_value = bracket(n, lo, hi, sample)
    below, pieces = 0, []
    for start in range(0, n, ARRAY_CHUNK):  # chunk by chunk: no mask as large as ``arr`` (runtime)
        part = arr[start:start + ARRAY_CHUNK]
        under = part < low_value
        below += int(np.count_nonzero(under))
        inside = np.less_equal(part, high_value)
        np.logical_xor(inside, under, out=inside)  # low_value <= x <= high_value (under ⊂ inside)
        pieces.append(part[inside])
    if below > lo:
        return None
    picked = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    if below + picked.size <= hi:
        return None
    return partitioned(picked, lo - below, hi - below)


def bracket(n: int, lo: int, hi: int, sample: np.ndarray) -> tuple[float, float]:
    """Two values of the sorted ``sample`` (of ``n`` values) that should hold ranks ``lo..hi``
    between them, ``SIGMAS`` standard deviations of the sample rank to either side."""
    s = sample.size
    p_lo, p_hi = lo / n, (hi + 1) / n
    below_pos = int(np.floor(p_lo * s - SIGMAS * np.sqrt(s * p_lo * (1 - p_lo)) - 2))
    above_pos = int(np.ceil(p_hi * s + SIGMAS * np.sqrt(s * p_hi * (1 - p_hi)) + 2))
    low_value = float(sample[below_pos]) if below_pos >= 0 else -np.inf
    high_value = float(sample[above_pos]) if above_pos < s else np.inf
    return low_value, high_value


def partitioned(arr: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Ranks ``lo..hi`` of ``arr`` sorted, from a partitioned copy."""
    work = np.partition(arr, [lo, hi]) if hi > lo else np.partition(arr, lo)
    band = work[lo:hi + 1]
    band.sort()
    return band
