"""Known-answer tests of the bootstrap intervals: coverage and width on samples whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from suite.analyze.summarize.bootstrap import (
    bootstrap_ci,
    bootstrap_diff_ci,
    bootstrap_ratio_ci,
    excludes_one,
    excludes_zero,
    paired_delta_ci,
    replicates,
    resolve_stat,
)

SIGMA = 2.0


def normal(n: int, mean: float = 10.0, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(mean, SIGMA, n)


@pytest.mark.parametrize("n, max_points", [(400, 20_000), (5_000, 20_000), (100_000, 20_000)])
def test_mean_ci_covers_truth_with_textbook_width(n: int, max_points: int) -> None:
    est, lo, hi = bootstrap_ci(normal(n), "mean", n_boot=2000, max_points=max_points)
    assert lo < 10.0 < hi
    expected = 2 * 1.96 * SIGMA / np.sqrt(n)
    assert abs((hi - lo) - expected) / expected < 0.15


def test_median_ci_width_matches_asymptotic_formula() -> None:
    # Var(median) ≈ π σ² / (2 n) for a normal sample.
    n = 4_000
    est, lo, hi = bootstrap_ci(normal(n), "median", n_boot=2000)
    expected = 2 * 1.96 * SIGMA * np.sqrt(np.pi / (2 * n))
    assert lo < 10.0 < hi
    assert abs((hi - lo) - expected) / expected < 0.2


def test_estimate_is_the_full_sample_statistic() -> None:
    data = np.arange(1.0, 101.0)
    assert bootstrap_ci(data, "median", n_boot=10)[0] == 50.5
    assert bootstrap_ci(data, "p95", n_boot=10)[0] == pytest.approx(95.05)
    assert bootstrap_ci(data, "p99", n_boot=10)[0] == pytest.approx(99.01)


def test_same_seed_same_interval_other_seed_other_interval() -> None:
    data = normal(500)
    assert bootstrap_ci(data, seed=3) == bootstrap_ci(data, seed=3)
    assert bootstrap_ci(data, seed=3) != bootstrap_ci(data, seed=4)


def test_empty_or_all_nan_is_none() -> None:
    assert bootstrap_ci([]) is None
    assert bootstrap_ci([np.nan, np.nan]) is None
    assert bootstrap_diff_ci([], [1.0]) is None
    assert bootstrap_ratio_ci([1.0], []) is None


def test_nan_is_dropped_not_counted() -> None:
    assert bootstrap_ci([1.0, np.nan, 3.0], "mean", n_boot=50)[0] == 2.0


def test_single_value_gives_a_degenerate_interval() -> None:
    assert bootstrap_ci([4.0], "median") == (4.0, 4.0, 4.0)


def test_diff_ci_finds_a_real_shift_and_not_a_fake_one() -> None:
    a, b = normal(1_000, 10.0, seed=1), normal(1_000, 11.0, seed=2)
    shifted = bootstrap_diff_ci(a, b, "mean")
    assert shifted[1] < 1.0 < shifted[2]
    assert excludes_zero(shifted) is True
    same = bootstrap_diff_ci(a, normal(1_000, 10.0, seed=3), "mean")
    assert excludes_zero(same) is False


def test_ratio_ci_of_a_known_speedup() -> None:
    miss, hit = normal(2_000, 100.0, seed=1), normal(2_000, 25.0, seed=2)
    est, lo, hi = bootstrap_ratio_ci(miss, hit, "median")
    assert est == pytest.approx(4.0, rel=0.02)
    assert lo < 4.0 < hi
    assert excludes_one((est, lo, hi)) is True


def test_ratio_with_zero_denominator_is_none() -> None:
    assert bootstrap_ratio_ci([1.0, 2.0], [0.0, 0.0], "median") is None


def test_paired_deltas_are_sharper_than_unpaired() -> None:
    rng = np.random.default_rng(5)
    base = rng.lognormal(0.0, 1.0, 800)  # big between-request spread
    a, b = base, base * 0.9 + rng.normal(0, 0.01, 800)
    paired = paired_delta_ci(b - a, "mean")
    unpaired = bootstrap_diff_ci(a, b, "mean")
    assert excludes_zero(paired) is True
    assert (paired[2] - paired[1]) < (unpaired[2] - unpaired[1]) / 5


def test_callable_stats_with_and_without_axis() -> None:
    data = normal(300)
    fast = bootstrap_ci(data, np.mean, n_boot=100)
    slow = bootstrap_ci(data, lambda row: float(sum(row) / len(row)), n_boot=100)
    assert fast == pytest.approx(slow)


def test_memory_is_capped_by_chunks() -> None:
    est, reps = replicates(normal(50_000), "mean", n_boot=300, max_points=1_000)
    assert reps.shape == (300,)
    assert abs(reps.mean() - est) < 0.01


@pytest.mark.parametrize("bad", ["p100", "p0", "average", "q95"])
def test_unknown_stat_is_named(bad: str) -> None:
    with pytest.raises(ValueError, match=repr(bad)):
        resolve_stat(bad)


@pytest.mark.parametrize("kwargs", [{"n_boot": 0}, {"conf": 1.0}])
def test_bad_parameters_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 2.0], **kwargs)


def test_percentile_replicates_match_single_stat_estimates() -> None:
    from suite.analyze.summarize.bootstrap import interval, percentile_replicates

    data = normal(3_000)
    est, reps = percentile_replicates(data, [50, 95], n_boot=500)
    assert reps.shape == (2, 500)
    assert est[0] == bootstrap_ci(data, "median", n_boot=10)[0]
    lo, hi = interval(est[1], reps[1])[1:]
    single = bootstrap_ci(data, "p95", n_boot=500)
    assert abs((hi - lo) - (single[2] - single[1])) / (single[2] - single[1]) < 0.25
    assert percentile_replicates([], [50]) is None


@pytest.mark.parametrize("n, q", [(101, 50.0), (57, 95.0), (400, 99.0), (10, 30.0)])
def test_exact_quantile_sampler_matches_brute_force_resampling(n: int, q: float) -> None:
    from suite.analyze.summarize.bootstrap import exact_quantile_replicates

    data = np.sort(np.random.default_rng(2).lognormal(0, 1, n))
    exact = exact_quantile_replicates(data, q, 20_000, np.random.default_rng(3))
    idx = np.random.default_rng(4).integers(0, n, size=(20_000, n))
    brute = np.percentile(data[idx], q, axis=1)
    # same distribution: the two empirical CDFs differ by sampling noise only (KS distance; its 99.9 %
    # critical value for two samples of 20 000 is 1.95 * sqrt(2 / 20 000) ≈ 0.0195)
    exact, brute = np.round(exact, 9), np.round(brute, 9)  # the same atoms, interpolated in other ways
    points = np.union1d(exact, brute)
    cdf = [np.searchsorted(np.sort(x), points, side="right") / x.size for x in (exact, brute)]
    assert np.abs(cdf[0] - cdf[1]).max() < 0.0195


def test_binary_mean_is_binomial_and_exact_in_spread() -> None:
    flags = np.r_[np.ones(300), np.zeros(700)]
    est, lo, hi = bootstrap_ci(flags, "mean", n_boot=4000)
    half = 1.96 * np.sqrt(0.3 * 0.7 / 1000)
    assert est == 0.3
    assert abs((hi - lo) - 2 * half) / (2 * half) < 0.1


def test_huge_sample_quantile_ci_is_fast_and_textbook() -> None:
    import time

    data = np.random.default_rng(0).normal(0, 1, 1_000_000)
    t0 = time.perf_counter()
    est, lo, hi = bootstrap_ci(data, "median")
    assert time.perf_counter() - t0 < 2.0  # one sort, not a million-point resample per replicate
    expected = 2 * 1.96 * np.sqrt(np.pi / 2 / data.size)
    assert abs((hi - lo) - expected) / expected < 0.15


def test_sorted_view_skips_the_sort_of_sorted_data() -> None:
    from suite.analyze.summarize.bootstrap import sorted_view

    ordered = np.array([1.0, 2.0, 2.0, 5.0])
    assert sorted_view(ordered) is ordered
    shuffled = np.array([5.0, 1.0, 2.0])
    assert sorted_view(shuffled).tolist() == [1.0, 2.0, 5.0]
    assert shuffled.tolist() == [5.0, 1.0, 2.0]
    assert sorted_view(np.array([3.0])).tolist() == [3.0]


@pytest.mark.parametrize("stat", ["median", "p95"])
def test_quantile_intervals_do_not_depend_on_input_order(stat: str) -> None:
    data = np.random.default_rng(4).lognormal(0, 1, 3001)
    other = np.random.default_rng(5).lognormal(1, 1, 2000)
    assert bootstrap_ci(data, stat) == bootstrap_ci(np.sort(data), stat)
    assert bootstrap_ratio_ci(other, data, stat) == bootstrap_ratio_ci(np.sort(other), np.sort(data), stat)


@pytest.mark.parametrize("seed", range(40))
def test_unsorted_quantile_replicates_equal_the_sorted_ones_bit_for_bit(seed: int) -> None:
    from suite.analyze.summarize.bootstrap import exact_quantile_replicates, unsorted_quantile_replicates
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 2, 3, int(rng.integers(4, 5000))]))
    data = rng.lognormal(0, 1, n)
    if seed % 3 == 0:
        data = np.round(data, 1)  # ties
    if seed % 7 == 0:
        data = np.sort(data)  # already sorted: read in place
    before = data.copy()
    for q in (1.0, 50.0, 95.0, 99.0, 99.9):
        old = exact_quantile_replicates(np.sort(data), q, 300, np.random.default_rng(seed))
        new = unsorted_quantile_replicates(data, q, 300, np.random.default_rng(seed))
        assert np.array_equal(old, new)
    assert np.array_equal(data, before)  # the caller's array is not reordered
