"""The pooled gaps of some rows (one model's successful requests) described without gathering them
into one array.

Why: a model's share of a 10M-record run's gaps is ~80M values; copying them out to partition
them held 640 MB (plus a 160 MB mask) at the summary's peak, beside everything else, and on a
worker thread glibc maps such arrays afresh (suite.runtime). Here the rows are walked a stretch
at a time (Gaps.pieces), twice: the first pass counts, sums and samples the finite gaps; the second
counts the gaps below each percentile's sample-placed bracket and keeps only those inside it
(select.py's method, for a subset). The order statistics are exact, as a sort's; a bracket that
misses its rank (many ties, an odd sample) falls back to gathering the gaps and partitioning them.

The mean is summed chunk by chunk, so it can differ from ``np.mean`` of the gathered gaps in the
last bits; only selections of at least ``select.MIN_SIZE`` gaps take this path (see groups.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from suite.analyze.read.gaps import Gaps
from suite.analyze.summarize.select import SAMPLE, bands, bracket, partitioned
from suite.analyze.summarize.stats import LATENCY_PERCENTILES, linear, percentile_ranks
from suite.runtime import all_finite


def row_chunks(gaps: Gaps, rows: np.ndarray) -> Iterator[np.ndarray]:
    """The finite gaps of the selected rows, a stretch of rows at a time, in row order."""
    for picked in gaps.pieces(rows):
        yield picked if all_finite(picked) else picked[np.isfinite(picked)]


def describe_rows(gaps: Gaps, rows: np.ndarray,
                  qs: Sequence[float] = LATENCY_PERCENTILES) -> tuple[int, dict[str, float] | None]:
    """``(n, stats.describe(gaps.pooled(rows)))``: the same percentiles and maximum, the mean
    summed by chunks; ``(0, None)`` when the rows hold no finite gap."""
    rows = np.asarray(rows, dtype=bool)
    every = max(1, int(gaps.counts[rows].sum()) // SAMPLE)  # a systematic sample of ~SAMPLE gaps
    n, total, top, sampled = 0, 0.0, -np.inf, []
    for piece in row_chunks(gaps, rows):
        if piece.size:
            n, total, top = n + piece.size, total + float(piece.sum()), max(top, float(piece.max()))
            sampled.append(piece[::every].copy())  # a view would keep the whole piece alive
    if n == 0:
        return 0, None
    sample = np.sort(np.concatenate(sampled))
    ranks = percentile_ranks(n, qs)
    ranks = ranks[ranks < n - 1]  # the maximum is ``top``
    runs = bands(ranks)
    bounds = [bracket(n, int(ranks[i]), int(ranks[j]), sample) for i, j in runs]
    below: list[int] = [0] * len(runs)
    inside: list[list[np.ndarray]] = [[] for _ in runs]
    for piece in row_chunks(gaps, rows):
        for k, (low, high) in enumerate(bounds):
            under = piece < low
            below[k] += int(np.count_nonzero(under))
            held = np.less_equal(piece, high)
            np.logical_xor(held, under, out=held)  # low <= x <= high
            inside[k].append(piece[held])
    got = {n - 1: top}
    for k, (i, j) in enumerate(runs):
        lo, hi = int(ranks[i]), int(ranks[j])
        picked = np.concatenate(inside[k])
        if below[k] > lo or below[k] + picked.size <= hi:  # the bracket missed: gather and partition
            band = partitioned(np.concatenate(list(row_chunks(gaps, rows))), lo, hi)
        else:
            band = partitioned(picked, lo - below[k], hi - below[k])
        got.update(zip(range(lo, hi + 1), band.tolist(), strict=True))
    points = linear(n, qs, lambda idx: np.array([got[int(r)] for r in idx]))
    return n, {"mean": total / n, **{f"p{q:g}": float(v) for q, v in zip(qs, points, strict=True)},
               "max": top}
