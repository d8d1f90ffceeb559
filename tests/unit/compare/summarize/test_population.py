"""``population="miss"``: latency compared on what the models did, not on what the cache served.

The issue's case: two models the backend serves identically, whose runs differ only in hit ratio,
read "16× sooner" over every request; on misses there is no difference to report.
"""

from __future__ import annotations

import numpy as np
import pytest

from suite.compare import Boot, compare_samples
from suite.compare.summarize.population import restrict
from suite.errors import SpecError
from tests.unit.compare.fakes import samples

BOOT = Boot(n_boot=1000, conf=0.95, seed=5)


def cached_run(label: str, hit_share: float, seed: int, n: int = 400, **kw):
    """Misses take ~1 s (one distribution for every run), hits ~20 ms; ``hit_share`` of them hit."""
    rng = np.random.default_rng(seed)
    hit = (rng.random(n) < hit_share).astype(float)
    e2e = np.where(hit == 1, 0.02, 1.0) * rng.lognormal(0, 0.2, n)
    return samples(label, e2e, hit=hit, **kw)


def row(result, metric: str, stat: str | None):
    return next(r for r in result["comparisons"][0]["groups"][0]["metrics"]
                if r["metric"] == metric and r["stat"] == stat)


def test_hit_ratios_alone_make_a_difference_over_all_requests_but_not_on_misses() -> None:
    a, b = cached_run("A", 0.6, 1), cached_run("B", 0.1, 2, model="gpt-5-mini", sha="c0ffee")
    everything = compare_samples([a, b], BOOT)
    assert row(everything, "e2e", "p50")["significant"] is True  # 20 ms vs 1 s medians: the cache's doing
    misses = compare_samples([a, b], BOOT, population="miss")
    e2e = row(misses, "e2e", "p50")
    assert e2e["significant"] is False
    assert (e2e["n_a"], e2e["n_b"]) == (int((a.hit == 0).sum()), int((b.hit == 0).sum()))
    heads = misses["comparisons"][0]["headlines"]
    assert heads[0].startswith("on cache misses: no significant difference in p50 E2E between B and A")
    assert heads[-1].startswith("primary metric E2E p50 of cache misses, tested at 95%")
    assert all("sooner" not in h for h in heads if "E2E" in h)


def test_error_and_hit_ratio_rows_still_use_every_request() -> None:
    a, b = cached_run("A", 0.6, 1), cached_run("B", 0.1, 2)
    result = compare_samples([a, b], BOOT, population="miss")
    hit = row(result, "hit_ratio", None)
    assert hit["a"] == pytest.approx(float(a.hit.mean()))  # over misses only it would be 0
    assert hit["n_a"] == 400
    assert row(result, "requests_per_s", None)["a"] == 40.0  # 400 requests in the 10 s window
    pop = result["population"]
    assert pop["population"] == "miss"
    assert pop["all_requests_rows"] == ["error_ratio", "hit_ratio", "output_tokens_per_s", "requests_per_s"]
    assert "always use every request" in pop["note"]
    misses = [int((s.hit == 0).sum()) for s in (a, b)]
    assert [(r["label"], r["rule"], r["requests"], r["of"]) for r in pop["runs"]] == [
        ("A", "signalled-miss", misses[0], 400), ("B", "signalled-miss", misses[1], 400)]
    assert result["comparisons"][0]["population"]["runs"] == pop["runs"]


def test_a_run_without_cache_signal_falls_back_to_first_seen_requests() -> None:
    repeat = np.array([0, 0, 1, 0, 1, 1, 0, 0, 1, 0], dtype=float)
    run = samples("A", np.arange(1.0, 11.0), repeat=repeat)
    kept, info = restrict(run, "miss")
    assert info == {"rule": "first-seen", "requests": 6, "of": 10}
    assert kept.values["e2e"].tolist() == [1.0, 2.0, 4.0, 7.0, 8.0, 10.0]
    assert kept.seconds == run.seconds  # the run's window is kept


def test_signalled_misses_win_over_repeat_marks_and_nothing_to_tell_is_said() -> None:
    run = samples("A", np.arange(1.0, 5.0), hit=[1, 0, np.nan, 0], repeat=[0, 0, 0, 1])
    kept, info = restrict(run, "miss")
    assert info["rule"] == "signalled-miss"
    assert kept.ids.tolist() == ["r0001", "r0003"]
    blind = samples("B", np.ones(4))
    same, info = restrict(blind, "miss")
    assert same is blind
    assert info["rule"] == "unrestricted"
    assert "cannot be told apart" in info["why"]
    _, info = restrict(samples("C", np.ones(3), hit=[1, 1, 1]), "miss")
    assert info["requests"] == 0 and "no request left" in info["why"]


def test_mixed_rules_are_named_in_the_headline() -> None:
    a = cached_run("A", 0.5, 1)
    rng = np.random.default_rng(3)
    b = samples("B", rng.lognormal(0, 0.2, 400), repeat=(rng.random(400) < 0.5).astype(float))
    result = compare_samples([a, b], BOOT, population="miss")
    assert [r["rule"] for r in result["population"]["runs"]] == ["signalled-miss", "first-seen"]
    assert result["comparisons"][0]["headlines"][0].startswith(
        "on cache misses (first-seen requests where the target gave no cache signal): ")


def test_population_all_is_every_request_and_bad_names_are_refused() -> None:
    a, b = cached_run("A", 0.5, 1), cached_run("B", 0.5, 2)
    result = compare_samples([a, b], BOOT)
    assert {r["rule"] for r in result["population"]["runs"]} == {"all"}
    assert not result["comparisons"][0]["headlines"][0].startswith("on ")
    with pytest.raises(SpecError, match="--population 'hits'"):
        compare_samples([a, b], BOOT, population="hits")
