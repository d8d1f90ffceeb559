"""A subset of rows' pooled gaps described without gathering them (rowpool.py): the percentiles
and maximum of a sort, the mean to rounding, the fallback when a bracket misses."""

from __future__ import annotations

import numpy as np
import pytest

from suite.analyze.read import gaps as gaps_module
from suite.analyze.read.gaps import Gaps
from suite.analyze.summarize import rowpool
from suite.analyze.summarize.stats import describe


def _gaps(kind: str) -> tuple[Gaps, np.ndarray]:
    rng = np.random.default_rng(11)
    counts = rng.integers(0, 9, 60_000)
    n = int(counts.sum())
    values = rng.integers(0, 4, n).astype(np.float64) if kind == "ties" else rng.lognormal(-4, 0.6, n)
    values[rng.integers(0, n, 50)] = np.nan  # unmeasured gaps are dropped, as describe drops them
    rows = rng.random(counts.size) < 0.6
    return Gaps(values, np.concatenate([[0], np.cumsum(counts)])), rows


@pytest.mark.parametrize("kind", ["lognormal", "ties"])
def test_describe_rows_equals_describe_of_the_gathered_gaps(monkeypatch, kind: str) -> None:
    monkeypatch.setattr(gaps_module, "ROWS_AT_A_TIME", 7_001)  # many chunks, the last one short
    gaps, rows = _gaps(kind)
    n, got = rowpool.describe_rows(gaps, rows, (50, 90, 95, 99, 99.9))
    want = describe(gaps.pooled(rows).copy(), (50, 90, 95, 99, 99.9))
    assert got is not None and want is not None
    assert n == np.isfinite(gaps.values[np.repeat(rows, gaps.counts)]).sum()
    assert {k: v for k, v in got.items() if k != "mean"} == {k: v for k, v in want.items() if k != "mean"}
    assert got["mean"] == pytest.approx(want["mean"], rel=1e-12)


def test_a_missed_bracket_falls_back_to_gathering(monkeypatch) -> None:
    monkeypatch.setattr(rowpool, "bracket", lambda n, lo, hi, sample: (np.inf, np.inf))  # holds nothing
    gaps, rows = _gaps("lognormal")
    _, got = rowpool.describe_rows(gaps, rows)
    want = describe(gaps.pooled(rows).copy())
    assert got is not None and want is not None
    assert got["p95"] == want["p95"] and got["max"] == want["max"]


def test_rows_without_a_finite_gap_describe_nothing() -> None:
    gaps = Gaps(np.array([np.nan, 0.2]), np.array([0, 1, 1, 2]))
    assert rowpool.describe_rows(gaps, np.array([True, True, False])) == (0, None)



def test_the_union_of_parts_is_described_from_the_parts_own_passes(monkeypatch) -> None:
    monkeypatch.setattr(gaps_module, "ROWS_AT_A_TIME", 5_003)
    gaps, rows = _gaps("lognormal")
    model = np.random.default_rng(2).integers(0, 3, rows.size)
    parts = {f"m{k}": rows & (model == k) for k in range(3)}
    union, described = rowpool.describe_parts(gaps, parts)
    n, want = rowpool.describe_rows(gaps, rows)
    assert union[0] == n and union[1] is not None and want is not None
    points = {k: v for k, v in want.items() if k != "mean"}
    assert {k: v for k, v in union[1].items() if k != "mean"} == points
    assert union[1]["mean"] == pytest.approx(want["mean"], rel=1e-12)
    assert described == {name: rowpool.describe_rows(gaps, part) for name, part in parts.items()}
