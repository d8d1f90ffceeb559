"""Pure statistics: known inputs, exact answers (numpy's linear percentiles, documented in stats.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from suite.analyze.summarize import stats


def test_percentiles_of_1_to_100_use_numpy_linear() -> None:
    assert stats.percentiles(np.arange(1, 101)) == {"p50": 50.5, "p90": pytest.approx(90.1), "p95": 95.05,
                                                    "p99": pytest.approx(99.01)}


def test_percentiles_ignore_not_measured_values() -> None:
    assert stats.percentiles([1.0, math.nan, 3.0], (50,)) == {"p50": 2.0}
    assert stats.percentiles([math.nan]) is None
    assert stats.percentiles([]) is None


@pytest.mark.parametrize(("miss", "hit", "expected"), [
    (0.3, 0.01, 30.0), (None, 0.01, None), (0.3, None, None), (0.3, 0.0, None),
])
def test_speedup(miss: float | None, hit: float | None, expected: float | None) -> None:
    result = stats.speedup(miss, hit)
    assert result == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(("h", "bound"), [(0.0, 1.0), (0.5, 2.0), (0.75, 4.0), (1.0, None), (None, None)])
def test_gain_bound(h: float | None, bound: float | None) -> None:
    assert stats.gain_bound(h) == bound


def test_tpot_excludes_first_token_and_single_token_replies() -> None:
    result = stats.tpot([1.0, 2.0, 0.5, math.nan], [0.1, 0.2, 0.1, 0.1], [10, 1, 5, 3])
    assert result.tolist() == pytest.approx([0.1, 0.1])


def test_pooled_gaps_counts_every_gap_once() -> None:
    gaps = stats.pooled_gaps([[0.1, 0.2], None, [], [0.3], {"p50": 1.0}])
    assert gaps.tolist() == [0.1, 0.2, 0.3]
    assert stats.pooled_gaps([None]).size == 0


def test_window_spans_first_send_to_last_end() -> None:
    assert stats.window([100.0, 101.0, 102.0], [1.0, 5.0, math.nan]) == (100.0, 106.0)


def test_ratio_and_share() -> None:
    assert stats.ratio(1, 4) == 0.25
    assert stats.ratio(1, 0) is None
    assert stats.share([True, False, False, False]) == 0.25
    assert stats.share([]) is None


def test_pooled_gaps_with_a_null_inside_a_list() -> None:
    assert stats.pooled_gaps([[0.1, None], [0.2]]).tolist() == [0.1, 0.2]


@pytest.mark.parametrize("seed", range(40))
def test_sorted_percentiles_match_numpy_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.lognormal(0, 2, int(rng.integers(1, 400)))
    qs = (0, 50, 90, 95, 99, 99.9, 100)
    assert np.array_equal(stats.sorted_percentiles(np.sort(values), qs), np.percentile(values, qs))


def test_describe_has_mean_percentiles_and_max() -> None:
    assert stats.describe(np.arange(1, 101)) == {"mean": 50.5, "p50": 50.5, "p90": pytest.approx(90.1),
                                                 "p95": 95.05, "p99": pytest.approx(99.01), "max": 100.0}
    assert stats.describe([math.nan]) is None


@pytest.mark.parametrize("seed", range(30))
def test_merged_percentiles_equal_those_of_the_merged_array(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # ties (rounded values) and empty or one-value parts are the hard cases of a k-th-of-union search
    parts = [np.sort(np.round(rng.exponential(1.0, int(rng.integers(0, 60))), 1)) for _ in range(3)]
    parts = [p for p in parts if p.size] or [np.array([1.0])]
    qs = (0, 1, 50, 90, 95, 99, 99.9, 100)
    merged = np.concatenate(parts)
    assert np.array_equal(stats.merged_percentiles(parts, qs), np.percentile(merged, qs))
    assert stats.describe_merged(merged, parts) == stats.describe(merged)


def test_kth_smallest_of_sorted_parts() -> None:
    parts = [np.array([1.0, 4.0, 4.0, 9.0]), np.array([2.0, 4.0]), np.array([0.5])]
    assert [stats.kth_smallest(parts, k) for k in range(7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 9.0]
    with pytest.raises(IndexError):
        stats.kth_smallest(parts, 7)


def test_describe_merged_refuses_parts_that_are_not_the_values() -> None:
    with pytest.raises(ValueError, match="the parts hold 1 values, not 2"):
        stats.describe_merged([1.0, 2.0], [np.array([1.0])])
    assert stats.describe_merged([math.nan], []) is None


def test_describe_sorts_in_place_only_what_it_may() -> None:
    values = np.array([3.0, 1.0, 2.0])
    assert stats.describe(values)["p50"] == 2.0
    assert values.tolist() == [3.0, 1.0, 2.0]  # caller's array
    assert stats.describe(values, scratch=True)["p50"] == 2.0
    assert values.tolist() == [1.0, 2.0, 3.0]
    with_nan = np.array([3.0, math.nan, 1.0])
    got, ordered = stats.describe_sorted(with_nan)
    assert ordered.tolist() == [1.0, 3.0]
    assert np.isnan(with_nan[1])  # the finite copy was sorted
    # the mean is taken before sorting: same summation order, same bits as numpy's on the input
    rng = np.random.default_rng(3)
    noisy = rng.lognormal(0, 3, 10_001)
    assert stats.describe(noisy.copy(), scratch=True)["mean"] == float(noisy.mean())


def test_sort_owned_never_reorders_a_view_or_a_list() -> None:
    base = np.array([2.0, 1.0, 3.0])
    view = base[:2]
    assert stats.sort_owned(view, base).tolist() == [1.0, 2.0]
    assert base.tolist() == [2.0, 1.0, 3.0]
    listed = [2.0, 1.0]
    arr = np.asarray(listed)
    assert stats.sort_owned(arr, listed).tolist() == [1.0, 2.0]
    assert listed == [2.0, 1.0]


def _old_describe(values: np.ndarray) -> dict[str, float] | None:
    """describe as it was before selection: one full sort, then the order statistics."""
    got = stats.describe_sorted(values)
    return None if got is None else got[0]


@pytest.mark.parametrize("seed", range(60))
def test_selection_gives_the_sorts_numbers_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 2, 3, int(rng.integers(4, 3000))]))
    values = rng.lognormal(-3, 2, n)
    if seed % 3 == 0:
        values = np.round(values, 2)  # ties
    if seed % 4 == 0 and n:
        values[rng.random(n) < 0.2] = math.nan  # not measured
    if seed % 5 == 0 and n:
        values[:] = values[0]  # all tied
    qs = (0, 1, 50, 90, 95, 99, 99.9, 100)
    kept = values[np.isfinite(values)]
    assert stats.describe(values.copy()) == _old_describe(values.copy())
    if kept.size:
        assert stats.describe(values.copy(), qs, scratch=True) == stats.describe_sorted(values.copy(), qs)[0]
    else:
        assert stats.describe(values, qs) is None
    assert stats.percentiles(values, qs) == (None if not kept.size else {
        f"p{q:g}": float(v) for q, v in zip(qs, np.percentile(kept, qs), strict=True)})
    if kept.size:
        points, top = stats.select_percentiles(kept.copy(), qs)
        assert np.array_equal(points, stats.sorted_percentiles(np.sort(kept), qs))
        assert top == float(kept.max())


@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_percentile_ranks_are_the_order_statistics_interpolation_reads(n: int) -> None:
    ranks = stats.percentile_ranks(n, (0, 50, 99, 100))
    assert ranks.tolist() == sorted(set(ranks.tolist()))
    assert ranks[0] == 0 and ranks[-1] == n - 1 and ranks.max() < n


def test_describe_leaves_the_callers_array_alone_unless_scratch() -> None:
    values = np.array([5.0, 3.0, 1.0, 4.0, 2.0])
    assert stats.describe(values) == {"mean": 3.0, "p50": 3.0, "p90": 4.6, "p95": 4.8, "p99": 4.96,
                                      "max": 5.0}
    assert values.tolist() == [5.0, 3.0, 1.0, 4.0, 2.0]
    listed = [2.0, 1.0]
    assert stats.describe(listed)["max"] == 2.0 and listed == [2.0, 1.0]
