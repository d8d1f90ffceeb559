"""Bracketed order statistics (select.py): the exact values of a sort, the input left untouched,
whether the sample's brackets hold the ranks or the partition fallback has to answer."""

from __future__ import annotations

import numpy as np
import pytest

from suite.analyze.summarize import select, stats

N = select.MIN_SIZE + 12_345


def _data(kind: str) -> np.ndarray:
    rng = np.random.default_rng(7)
    if kind == "lognormal":
        return rng.lognormal(-3.0, 0.7, N)
    if kind == "ties":  # ten distinct values: brackets collapse onto ties
        return rng.integers(0, 10, N).astype(np.float64)
    if kind == "sorted":
        return np.sort(rng.normal(size=N))
    return np.concatenate([rng.normal(0, 1, N // 2), rng.normal(50, 1, N - N // 2)])  # two modes


@pytest.mark.parametrize("kind", ["lognormal", "ties", "sorted", "bimodal"])
def test_ranked_values_equal_a_sort_and_leave_the_input(kind: str) -> None:
    data = _data(kind)
    before = data.copy()
    ranks = stats.percentile_ranks(N, (0.01, 50, 90, 95, 99, 99.9))
    got = select.ranked_values(data, np.concatenate([[0], ranks]))
    assert np.array_equal(got, np.sort(data)[np.concatenate([[0], ranks])])
    assert np.array_equal(data, before)


@pytest.mark.parametrize(("lo", "hi"), [(0, 3), (N // 2 - 500, N // 2 + 4000), (N - 10, N - 1)])
def test_order_band_is_the_sorted_slice(lo: int, hi: int) -> None:
    data = _data("lognormal")
    assert np.array_equal(select.order_band(data, lo, hi), np.sort(data)[lo:hi + 1])


def test_brackets_hold_the_ranks_of_continuous_data() -> None:
    """The fast path is taken (no fallback) where values are distinct."""
    data = _data("lognormal")
    sample = select._sample(data)
    for rank in (0, N // 2, int(0.99 * N), N - 2):
        assert select._bracketed(data, rank, rank + 1, sample) is not None


def test_describe_of_millions_matches_the_sorted_reading() -> None:
    data = _data("bimodal")
    got = stats.describe(data)
    expected, _ = stats.describe_sorted(data.copy())
    assert got == expected


def test_brackets_counted_chunk_by_chunk_give_the_same_order_statistics(monkeypatch) -> None:
    monkeypatch.setattr(select, "ARRAY_CHUNK", 100_003)  # many chunks, the last one short
    data = _data("bimodal")
    ranks = stats.percentile_ranks(N, (50, 90, 95, 99))
    assert select.ranked_values(data, ranks).tolist() == np.sort(data)[ranks].tolist()
