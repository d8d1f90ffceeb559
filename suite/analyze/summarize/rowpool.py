"""The pooled gaps of some rows (one model's successful requests) described without gathering them
into one array.

Why: a model's share of a 10M-record run's gaps is ~80M values; copying them out to partition
them held 640 MB (plus a 160 MB mask) at the summary's peak, beside everything else, and on a
worker thread glibc maps such arrays afresh (suite.runtime). Here the gaps are read twice where
they lie: first each part's finite gaps are counted, summed by rows and sampled (Gaps.tally: no
part's gaps picked out, which cost more than the rest of that pass); then each part's rows are
walked a stretch at a time (Gaps.pieces), counting the gaps below each percentile's sample-placed
bracket and keeping only those inside it (select.py's method, for a subset). The order statistics
are exact, as a sort's; a bracket that misses its rank (many ties, an odd sample) falls back to
gathering the gaps and partitioning them.

The mean is summed by rows, so it can differ from ``np.mean`` of the gathered gaps in the last
bits; only selections of at least ``select.MIN_SIZE`` gaps take this path (see groups.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from suite.analyze.read.gaps import Gaps
from suite.analyze.summarize.select import SAMPLE, bands, bracket, partitioned
from suite.analyze.summarize.stats import LATENCY_PERCENTILES, linear, percentile_ranks
from suite.runtime import all_finite


def row_chunks(gaps: Gaps, rows: np.ndarray) -> Iterator[np.ndarray]:
    """The finite gaps of the selected rows, a stretch of rows at a time, in row order."""
    for picked in gaps.pieces(rows):
        yield picked if all_finite(picked) else picked[np.isfinite(picked)]


Described = tuple[int, dict[str, float] | None]  # (n, stats.describe's points), (0, None): no gap


class _Pool:
    """One selection's two passes: ``take`` the count, sum and sample of its finite gaps (made
    where the gaps lie, ``Gaps.tally``), ``place`` the brackets, ``second`` counts below and keeps
    what falls inside them (and finds the maximum), ``result`` reads the order statistics
    (``regather``: every piece again, for a bracket that missed)."""

    def __init__(self, qs: Sequence[float]) -> None:
        self.qs = qs
        self.n, self.total, self.top = 0, 0.0, -np.inf
        self.sampled: list[np.ndarray] = []

    def take(self, n: int, total: float, sample: np.ndarray) -> None:
        self.n, self.total = self.n + n, self.total + total
        self.sampled.append(sample)

    def place(self) -> None:
        sample = np.concatenate(self.sampled) if self.sampled else np.zeros(0)
        if sample.size > 2 * SAMPLE:  # a part much larger than the smallest: thinned, evenly
            sample = sample[::sample.size // SAMPLE]
        sample.sort()
        self.sampled = []
        ranks = percentile_ranks(max(self.n, 1), self.qs)
        self.ranks = ranks[ranks < self.n - 1]  # the maximum is ``top``
        self.runs = bands(self.ranks)
        self.bounds = [bracket(self.n, int(self.ranks[i]), int(self.ranks[j]), sample) for i, j in self.runs]
        self.below = [0] * len(self.runs)
        self.inside: list[list[np.ndarray]] = [[] for _ in self.runs]

    def second(self, piece: np.ndarray) -> None:
        if piece.size:
            self.top = max(self.top, float(piece.max()))
        for k, (low, high) in enumerate(self.bounds):
            under = piece < low
            self.below[k] += int(np.count_nonzero(under))
            held = np.less_equal(piece, high)
            np.logical_xor(held, under, out=held)  # low <= x <= high
            self.inside[k].append(piece[held])

    def result(self, regather: Callable[[], np.ndarray]) -> Described:
        n = self.n
        if n == 0:
            return 0, None
        got = {n - 1: self.top}
        for k, (i, j) in enumerate(self.runs):
            lo, hi = int(self.ranks[i]), int(self.ranks[j])
            picked = np.concatenate(self.inside[k])
            below = self.below[k]
            if below > lo or below + picked.size <= hi:  # the bracket missed: gather and partition
                band = partitioned(regather(), lo, hi)
            else:
                band = partitioned(picked, lo - below, hi - below)
            got.update(zip(range(lo, hi + 1), band.tolist(), strict=True))
        points = linear(n, self.qs, lambda idx: np.array([got[int(r)] for r in idx]))
        points_of = {f"p{q:g}": float(v) for q, v in zip(self.qs, points, strict=True)}
        return n, {"mean": self.total / n, **points_of, "max": self.top}


def describe_rows(gaps: Gaps, rows: np.ndarray, qs: Sequence[float] = LATENCY_PERCENTILES) -> Described:
    """``(n, stats.describe(gaps.pooled(rows)))``: the same percentiles and maximum, the mean
    summed by chunks; ``(0, None)`` when the rows hold no finite gap."""
    return describe_parts(gaps, {"": np.asarray(rows, dtype=bool)}, qs)[0]


def describe_parts(gaps: Gaps, parts: dict[str, np.ndarray],
                   qs: Sequence[float] = LATENCY_PERCENTILES) -> tuple[Described, dict[str, Described]]:
    """``describe_rows`` of the union of ``parts`` (disjoint row masks: a run's models) and of each
    part, in two passes over each part's gaps: the union is described from the same pieces, in
    another order (which no order statistic depends on; the mean's sum may differ in the last
    bits), instead of two more passes over all the gaps."""
    counts = gaps.counts
    pools = {name: _Pool(qs) for name in parts}
    union = _Pool(qs) if len(parts) > 1 else None  # one part is its own union
    held = {name: int(counts[rows].sum()) for name, rows in parts.items()}
    # every ``step``-th gap sampled: ~SAMPLE of the smallest part's (a larger one is thinned)
    step = max(1, min(held.values()) // SAMPLE) if parts else 1
    finite = True  # every gap of every part finite: the pieces need no filtering
    for name, got in zip(parts, gaps.tally(list(parts.values()), step), strict=True):
        finite = finite and got[0] == held[name]
        pools[name].take(*got)
        if union is not None:
            union.take(*got)
    for pool in (*pools.values(), *([union] if union is not None else [])):
        pool.place()
    for name, rows in parts.items():
        for piece in (gaps.pieces(rows) if finite else row_chunks(gaps, rows)):
            pools[name].second(piece)
            if union is not None:
                union.second(piece)

    def again(*selected: np.ndarray) -> Callable[[], np.ndarray]:
        return lambda: np.concatenate([p for rows in selected for p in row_chunks(gaps, rows)])

    described = {name: pools[name].result(again(rows)) for name, rows in parts.items()}
    if union is None:
        return next(iter(described.values())), described
    return union.result(again(*parts.values())), described
