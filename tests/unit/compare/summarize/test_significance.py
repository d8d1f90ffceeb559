"""Known answers for the experiment's statistics: Holm's step-down correction on textbook examples,
two-sided p-values read from bootstrap replicates, the primary metric tested alone, and headlines
that never say "1.0× sooner"."""

from __future__ import annotations

import numpy as np
import pytest

from suite.compare import Boot, compare_samples
from suite.compare.summarize.significance import holm, p_value, parse_primary, resolution_note
from suite.errors import SpecError
from tests.unit.compare.fakes import samples

BOOT = Boot(n_boot=1000, conf=0.95, seed=3)


def spread(n: int, centre: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(0.0, 0.25, n) * centre


def test_holm_wikipedia_example() -> None:
    # Holm–Bonferroni, four hypotheses at alpha 0.05: H4 (0.005) and H1 (0.01) are rejected, then
    # 0.03 > 0.05/2 stops the procedure. Adjusted p-values as R's p.adjust(..., "holm") gives them.
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert [p <= 0.05 for p in adjusted] == [True, False, False, True]


def test_holm_is_monotone_and_capped_at_one() -> None:
    # 0.019·2 = 0.038 would be exceeded by nothing, so the larger raw 0.02·1 is lifted to 0.038.
    assert holm([0.001, 0.02, 0.019]) == pytest.approx([0.003, 0.038, 0.038])
    assert holm([0.5, 0.6]) == [1.0, 1.0]
    assert holm([0.04]) == [0.04]
    assert holm([]) == []


def test_holm_keeps_the_input_order_with_ties() -> None:
    assert holm([0.01, 0.01, 0.2]) == pytest.approx([0.03, 0.03, 0.2])


def test_p_value_counts_the_replicates_on_each_side_with_plus_one() -> None:
    r = 999
    assert p_value(np.full(r, 0.3)) == pytest.approx(2 / (r + 1))  # never 0
    assert p_value(-np.arange(1.0, r + 1)) == pytest.approx(2 / (r + 1))
    k = 49  # 49 replicates at or below 0 of 999: p = 2·(1 + 49)/1000
    diffs = np.concatenate([np.full(k, -1.0), np.full(r - k, 1.0)])
    assert p_value(diffs) == pytest.approx(0.1)
    assert p_value(np.zeros(r)) == 1.0  # no difference at all
    assert p_value(np.array([-1.0, 1.0] * 50)) == 1.0  # capped
    assert p_value(np.array([1.0, np.nan])) is None
    assert p_value(np.array([])) is None


def test_p_values_from_the_bootstrap_of_the_difference() -> None:
    a = samples("A", spread(300, 1.0, 1))
    halved = samples("B", a.values["e2e"] * 0.5, sha="other")
    same = samples("C", spread(300, 1.0, 2), sha="other")
    e2e = lambda res: next(r for r in res["comparisons"][0]["groups"][0]["metrics"]  # noqa: E731
                           if r["metric"] == "e2e" and r["stat"] == "p50")
    assert e2e(compare_samples([a, halved], BOOT))["p"] == pytest.approx(2 / 1001)
    assert e2e(compare_samples([a, same], BOOT))["p"] > 0.2


def test_primary_alone_at_alpha_the_rest_holm_corrected() -> None:
    a = samples("A", spread(200, 1.0, 1))
    b = samples("B", spread(200, 0.8, 2), sha="x")
    result = compare_samples([a, b], BOOT, primary="e2e.p95")
    cmp = result["comparisons"][0]
    rows = cmp["groups"][0]["metrics"]
    primary = [r for r in rows if r.get("primary")]
    assert [(r["metric"], r["stat"]) for r in primary] == [("e2e", "p95")]
    assert primary[0]["p_holm"] is None
    assert primary[0]["significant"] == (primary[0]["p"] <= 0.05)
    family = [r for r in rows if r["p"] is not None and not r.get("primary")]
    assert cmp["tests"] == {"primary": "e2e.p95", "correction": "holm", "family": len(family), "alpha": 0.05,
                            "primary_p": primary[0]["p"]}
    assert result["tests"] == {"primary": "e2e.p95", "correction": "holm", "alpha": 0.05,
                               "family": len(family)}
    assert [r["p_holm"] for r in family] == pytest.approx(holm([r["p"] for r in family]))
    for r in family:
        assert r["p_holm"] >= r["p"]
        assert r["significant"] == (r["p_holm"] <= 0.05)
        assert r["better"] is None or r["significant"]
    assert all(r["p"] is None and r["significant"] is None for r in rows if r["metric"] == "requests_per_s")


def test_raw_significance_is_not_enough_after_correction() -> None:
    # A modest TTFT shift: significant on its own (raw p < 0.05), not once 13 metrics are corrected.
    rng = np.random.default_rng(9)
    ttft_a, ttft_b = rng.lognormal(0, 0.3, 150), rng.lognormal(0, 0.3, 150) * 0.9
    a = samples("A", np.full(150, 2.0) + rng.normal(0, 0.01, 150), ttft=ttft_a)
    b = samples("B", np.full(150, 2.0) + rng.normal(0, 0.01, 150), ttft=ttft_b, sha="x")
    rows = compare_samples([a, b], BOOT)["comparisons"][0]["groups"][0]["metrics"]
    r = next(x for x in rows if x["metric"] == "ttft" and x["stat"] == "p50")
    assert r["delta_ci"][1] < 0  # the raw CI excludes 0
    assert r["p"] < 0.05 < r["p_holm"]
    assert r["significant"] is False
    assert r["better"] is None


def test_too_few_replicates_for_the_family_are_said_so() -> None:
    assert resolution_note(1000, 13, 0.05) is None
    note = resolution_note(100, 13, 0.05)
    assert note is not None and "--n-boot 519" in note
    a, b = samples("A", spread(50, 1.0, 1)), samples("B", spread(50, 0.5, 2), sha="x")
    cmp = compare_samples([a, b], Boot(n_boot=100))["comparisons"][0]
    assert cmp["tests"]["family"] == 9  # no ITL and no cache signal in these samples: 9 rows tested
    assert "--n-boot 359" in cmp["tests"]["note"]
    assert "--n-boot 359" in cmp["headlines"][-1]


def test_primary_must_name_a_latency_metric_and_percentile() -> None:
    assert parse_primary("ttft.p50") == ("ttft", "p50")
    for bad in ("e2e", "e2e.p42", "error_ratio", "latency.p50"):
        with pytest.raises(SpecError, match="--primary"):
            parse_primary(bad)
    a, b = samples("A", np.ones(5)), samples("B", np.ones(5))
    with pytest.raises(SpecError, match="--primary 'e2e.mean'"):
        compare_samples([a, b], BOOT, primary="e2e.mean")


def test_headline_leads_with_the_primary_and_states_the_method() -> None:
    a = samples("A", spread(300, 1.0, 1), ttft=np.full(300, 0.5) + np.linspace(0, 0.01, 300))
    b = samples("B", spread(300, 1.0, 2), ttft=np.full(300, 0.25) + np.linspace(0, 0.01, 300), sha="x")
    heads = compare_samples([a, b], BOOT)["comparisons"][0]["headlines"]
    assert heads[0].startswith("no significant difference in p50 E2E between B and A")  # the primary
    assert heads[1].startswith("B reaches the first token 2.0× sooner than A")  # corrected, still significant
    assert "Holm-adjusted p" in heads[1]
    # TTFT, TPOT, E2E at three percentiles and the error ratio, less the primary (no ITL, no cache signal)
    assert heads[-1] == ("primary metric E2E p50 of all requests, tested at 95%; 9 other metrics "
                         "Holm-corrected")


def test_a_factor_that_rounds_to_one_is_said_as_a_difference() -> None:
    rng = np.random.default_rng(4)
    a = samples("A", 1.000 + rng.uniform(0, 0.002, 400))
    b = samples("B", 0.980 + rng.uniform(0, 0.002, 400), sha="x")
    heads = compare_samples([a, b], BOOT)["comparisons"][0]["headlines"]
    assert "1.0×" not in " ".join(heads)
    assert heads[0] == ("B completes requests 20.1 ms (2.0 %) sooner than A (p50 E2E 981 ms vs 1.00 s; "
                        "95% CI of the difference −20.3 ms to −19.9 ms; p 0.002)")


def test_a_ci_that_excludes_zero_but_fails_holm_is_not_called_no_difference() -> None:
    """The gateway swap's case: TTFT (not the primary) differs on its own, but 200 replicates cannot
    clear Holm over the family; the sentence must not say "no significant difference" beside a CI
    that excludes 0."""
    from suite.compare.summarize.headline import latency_sentence

    row = {"metric": "ttft", "stat": "p50", "a": 0.10, "b": 0.20, "delta_ci": [0.099, 0.102],
           "ratio_ci": [1.9, 2.1], "significant": False, "p": 0.01, "p_holm": 0.13}
    text = latency_sentence("A", "B", [row], 0.95, "ttft", "p50")  # type: ignore[list-item]
    assert text is not None and "no significant difference" not in text
    assert "not significant after the Holm correction (Holm-adjusted p 0.13)" in text


def test_a_tight_ratio_ci_is_given_with_two_decimals() -> None:
    from suite.compare.summarize.headline import latency_sentence

    row = {"metric": "e2e", "stat": "p50", "a": 0.0958, "b": 0.146, "delta_ci": [0.0497, 0.0508],
           "ratio_ci": [1.52, 1.54], "significant": True, "p": 0.002}
    text = latency_sentence("A", "B", [row], 0.95)  # type: ignore[list-item]
    assert text is not None and "1.5× sooner" in text and "95% CI 1.52×–1.54×" in text
