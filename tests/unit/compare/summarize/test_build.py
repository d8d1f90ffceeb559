"""Known-answer tests of ``llmsuite compare`` on hand-made per-request samples: deltas, CIs, the
significance flag, paired deltas joined by id (also across a model swap) and the headline words."""

from __future__ import annotations

import numpy as np
import pytest

from suite.compare import Boot, compare_samples
from suite.compare.summarize.deltas import group_rows
from suite.compare.summarize.paired import paired_section
from tests.unit.compare.fakes import samples

BOOT = Boot(n_boot=400, conf=0.95, seed=1)


def rng_e2e(n: int, scale: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(0.0, 0.3, n) * scale


def by(rows, metric: str, stat: str | None):
    return next(r for r in rows if r["metric"] == metric and r["stat"] == stat)


def test_a_real_halving_is_a_significant_delta_with_ratio_one_half() -> None:
    a = samples("A", rng_e2e(300, 1.0, 1))
    b = samples("B", a.values["e2e"] * 0.5, sha="other")
    r = by(group_rows(a, b, "(all)", BOOT), "e2e", "p50")
    assert r["a"] == pytest.approx(np.median(a.values["e2e"]))
    assert r["delta"] == pytest.approx(-r["a"] / 2)
    assert r["ratio"] == pytest.approx(0.5)
    assert r["delta_ci"][0] < r["delta"] < r["delta_ci"][1] < 0
    assert r["ratio_ci"][0] < 0.5 < r["ratio_ci"][1] < 1
    assert r["significant"] is True
    assert r["better"] == "b"


def test_two_samples_of_one_distribution_are_not_significant() -> None:
    a, b = samples("A", rng_e2e(400, 1.0, 1)), samples("B", rng_e2e(400, 1.0, 2))
    r = by(group_rows(a, b, "(all)", BOOT), "e2e", "p50")
    assert r["delta_ci"][0] < 0 < r["delta_ci"][1]
    assert r["significant"] is False
    assert r["better"] is None


def test_error_ratio_delta_counts_failures() -> None:
    a = samples("A", np.ones(100))
    b = samples("B", np.ones(100), ok=[i >= 20 for i in range(100)])
    r = by(group_rows(a, b, "(all)", BOOT), "error_ratio", None)
    assert (r["a"], r["b"], r["delta"]) == (0.0, 0.2, pytest.approx(0.2))
    assert r["significant"] is True
    assert r["better"] == "a"
    assert r["ratio"] is None  # A's error ratio is 0: no ratio, and the row says why
    assert "ratio_why" in r


def test_missing_metric_is_none_with_why_not_zero() -> None:
    a, b = samples("A", np.ones(10)), samples("B", np.ones(10))
    r = by(group_rows(a, b, "(all)", BOOT), "hit_ratio", None)
    assert r["a"] is None
    assert r["delta"] is None
    assert "cache signal" in r["why"]
    itl = by(group_rows(a, b, "(all)", BOOT), "itl_mean", "p50")
    assert itl["a"] is None
    assert itl["significant"] is None


def test_throughput_is_a_point_value_without_ci() -> None:
    a, b = samples("A", np.ones(10)), samples("B", np.ones(20))
    r = by(group_rows(a, b, "(all)", BOOT), "requests_per_s", None)
    assert (r["a"], r["b"], r["ratio"]) == (1.0, 2.0, 2.0)
    assert r["delta_ci"] is None
    assert "no per-request sample" in r["why"]


def test_paired_deltas_of_a_constant_shift_are_exact() -> None:
    base = rng_e2e(200, 1.0, 3)
    a, b = samples("A", base), samples("B", base - 0.1)
    paired = paired_section(a, b, BOOT)
    assert paired["paired"] is True
    assert paired["matched"] == 200
    e2e = next(m for m in paired["groups"][0]["metrics"] if m["metric"] == "e2e")
    assert e2e["median_delta"] == pytest.approx(-0.1)
    assert e2e["median_delta_ci"] == pytest.approx([-0.1, -0.1])
    assert e2e["share_faster_in_b"] == 1.0
    assert e2e["significant"] is True


def test_pairs_join_by_id_not_by_position() -> None:
    base = np.arange(1.0, 51.0)
    a = samples("A", base)
    order = np.random.default_rng(0).permutation(50)
    b = samples("B", base[order] + 1.0, ids=[f"r{i:04d}" for i in order])
    e2e = next(m for m in paired_section(a, b, BOOT)["groups"][0]["metrics"] if m["metric"] == "e2e")
    assert e2e["median_delta"] == pytest.approx(1.0)
    assert e2e["share_faster_in_b"] == 0.0


def test_model_swap_pairs_under_a_to_b_model_label() -> None:
    base = rng_e2e(50, 1.0, 4)
    a, b = samples("gpt-4o", base), samples("gpt-5-mini", base * 2, model="gpt-5-mini")
    paired = paired_section(a, b, BOOT)
    assert [g["group"] for g in paired["groups"]] == ["gpt-4o → gpt-5-mini"]


def test_runs_of_other_corpora_are_not_paired() -> None:
    a, b = samples("A", np.ones(5), sha="aaa"), samples("B", np.ones(5), sha="bbb")
    paired = paired_section(a, b, BOOT)
    assert paired["paired"] is False
    assert "different corpora" in paired["why"]
    c = samples("C", np.ones(5), sha=None)
    assert "cannot tell" in paired_section(a, c, BOOT)["why"]


def test_headline_words_from_the_numbers() -> None:
    a = samples("gpt-4o", np.full(100, 1.0), ttft=np.full(100, 0.5) + np.linspace(0, 0.01, 100))
    b = samples("gpt-5-mini", np.full(100, 0.8), ttft=np.full(100, 0.25) + np.linspace(0, 0.01, 100),
                model="gpt-5-mini")
    result = compare_samples([a, b], BOOT, primary="ttft.p50")
    heads = result["comparisons"][0]["headlines"]
    assert heads[0].startswith("gpt-5-mini reaches the first token 2.0× sooner than gpt-4o (p50 TTFT 255 ms "
                               "vs 505 ms; 95% CI")
    assert heads[1].startswith("gpt-5-mini completes requests 1.2× sooner than gpt-4o "
                               "(p50 E2E 800 ms vs 1.00 s")
    assert heads[2].startswith("on the same 100 requests, gpt-5-mini was faster than gpt-4o for 100.0 %")
    assert result["comparisons"][0]["note"].startswith("no model in common")


def test_no_significant_difference_is_said_so() -> None:
    a, b = samples("A", rng_e2e(300, 1.0, 1)), samples("B", rng_e2e(300, 1.0, 2), sha="x")
    heads = compare_samples([a, b], BOOT)["comparisons"][0]["headlines"]
    assert heads[0].startswith("no significant difference in p50 E2E between B and A")


def test_per_model_groups_only_for_shared_models() -> None:
    a = samples("A", np.ones(20))
    a.models[10:] = "gpt-5-mini"
    b = samples("B", np.ones(20))
    groups = [g["group"] for g in compare_samples([a, b], BOOT)["comparisons"][0]["groups"]]
    assert groups == ["(all)", "gpt-4o"]


def test_same_seed_same_result() -> None:
    a, b = samples("A", rng_e2e(100, 1.0, 1)), samples("B", rng_e2e(100, 0.9, 2))
    assert compare_samples([a, b], BOOT)["comparisons"] == compare_samples([a, b], BOOT)["comparisons"]
