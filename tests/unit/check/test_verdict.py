"""The check verdict: a primary metric regressed only when it is worse, significant under the
comparison's own tests, and its whole CI beyond the minimum effect; throughput is shown, never
judged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from suite.check.table import check_table, verdict_lines
from suite.check.verdict import (
    IMPROVED,
    PRIMARY,
    REGRESSED,
    SMALL,
    UNCHANGED,
    UNTESTED,
    Thresholds,
    judge,
    metric_name,
)
from suite.compare import Boot, compare_samples
from tests.unit.compare.fakes import samples

BOOT = Boot(n_boot=400, seed=1)


def _e2e(scale: float, n: int = 200, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(np.log(0.1), 0.25, n) * scale


def _compare(a: Any, b: Any) -> dict[str, Any]:
    return dict(compare_samples([a, b], BOOT))


def _by_metric(result: dict[str, Any], th: Thresholds | None = None) -> dict[str, dict[str, Any]]:
    return {r["metric"]: r for r in judge(result, th).rows}


def test_a_doubled_latency_regresses_every_latency_metric_with_its_ci() -> None:
    result = _compare(samples("baseline", _e2e(1.0)), samples("now", _e2e(2.0, seed=4)))
    verdict = judge(result)
    rows = {r["metric"]: r for r in verdict.rows}
    assert [r["metric"] for r in verdict.regressed] == ["e2e.p50", "e2e.p95", "ttft.p50", "ttft.p95"]
    for name in ("e2e.p50", "e2e.p95", "ttft.p50", "ttft.p95"):
        r = rows[name]
        assert r["status"] == REGRESSED and r["significant"] is True
        assert r["delta"] > 0 and r["ci"][0] > 0  # the CI excludes no change
        assert r["relative"] == pytest.approx(r["delta"] / r["a"])
        assert 0.6 < r["relative"] < 1.5
    assert rows["e2e.p50"]["primary"] and rows["e2e.p50"]["p_holm"] is None  # tested uncorrected
    assert rows["e2e.p95"]["p_holm"] is not None  # Holm-corrected
    assert rows["error_ratio"]["status"] == UNCHANGED
    assert rows["output_tokens_per_s"]["status"] == UNTESTED  # one figure per window: no CI, no verdict
    assert "resample" in rows["output_tokens_per_s"]["why"]


def test_the_same_samples_are_not_a_regression() -> None:
    verdict = judge(_compare(samples("baseline", _e2e(1.0)), samples("now", _e2e(1.0))))
    assert verdict.regressed == [] and verdict.improved == []
    assert {r["status"] for r in verdict.rows} <= {UNCHANGED, UNTESTED}


def test_faster_is_an_improvement_not_a_regression() -> None:
    verdict = judge(_compare(samples("baseline", _e2e(2.0)), samples("now", _e2e(1.0, seed=4))))
    assert verdict.regressed == []
    assert "e2e.p50" in [r["metric"] for r in verdict.improved]
    assert all(r["status"] == IMPROVED for r in verdict.improved)


def test_a_significant_shift_below_the_minimum_effect_is_ignored() -> None:
    base = _e2e(1.0, n=2000)
    result = _compare(samples("baseline", base), samples("now", base * 1.04))  # +4 %: significant
    rows = _by_metric(result, Thresholds(min_effect=0.10))
    assert rows["e2e.p50"]["significant"] is True
    assert rows["e2e.p50"]["status"] == SMALL
    assert "does not rule out a change smaller than --min-effect 0.1" in rows["e2e.p50"]["why"]
    assert _by_metric(result, Thresholds(min_effect=0.005))["e2e.p50"]["status"] == REGRESSED


def test_a_point_estimate_past_the_minimum_is_not_enough_when_the_ci_reaches_below_it() -> None:
    """Run-to-run drift: +13 % with a CI of +3 … +16 % is not "at least 10 % worse"."""
    row = _row("e2e", "p95", a=0.127, b=0.144, delta=0.017, delta_ci=[0.004, 0.021], ratio=1.13,
               ratio_ci=[1.034, 1.164])
    judged = _by_metric(_result([row]))["e2e.p95"]
    assert judged["relative"] == pytest.approx(0.017 / 0.127) and judged["relative"] > 0.10
    assert judged["status"] == SMALL and "+3.4% … +16.4%" in judged["why"]
    cleared = _by_metric(_result([{**row, "ratio_ci": [1.11, 1.2]}]))["e2e.p95"]
    assert cleared["status"] == REGRESSED


def test_an_error_ratio_from_zero_is_judged_by_its_absolute_increase() -> None:
    n = 400
    ok_b = np.ones(n, dtype=bool)
    ok_b[:60] = False  # 15 % of requests fail now, none did
    result = _compare(samples("baseline", _e2e(1.0, n=n)), samples("now", _e2e(1.0, n=n), ok=ok_b))
    rows = _by_metric(result)
    assert rows["error_ratio"]["a"] == 0 and rows["error_ratio"]["relative"] is None
    assert rows["error_ratio"]["status"] == REGRESSED
    assert _by_metric(result, Thresholds(min_error_delta=0.2))["error_ratio"]["status"] == SMALL


def _row(metric: str, stat: str | None, **kw: Any) -> dict[str, Any]:
    base = {"metric": metric, "stat": stat, "unit": "s", "a": 1.0, "b": 1.5, "delta": 0.5,
            "delta_ci": [0.4, 0.6], "ratio": 1.5, "ratio_ci": [1.4, 1.6], "p": 0.002, "p_holm": 0.01,
            "significant": True}
    return {**base, **kw}


def _result(rows: list[dict[str, Any]], note: str | None = None) -> dict[str, Any]:
    tests = {"primary": "e2e.p50", "alpha": 0.05, **({"note": note} if note else {})}
    return {"tests": {"primary": "e2e.p50", "alpha": 0.05},
            "comparisons": [{"groups": [{"group": "(all)", "metrics": rows}], "tests": tests,
                             "paired": {"paired": False, "why": "different corpora"}}]}


def test_significance_is_the_comparisons_own_flag_not_the_raw_p() -> None:
    """A raw p of 0.002 that Holm lifts above alpha is not a regression: the row says so."""
    rows = _by_metric(_result([_row("e2e", "p95", significant=False, p_holm=0.2)]))
    assert rows["e2e.p95"]["status"] == UNCHANGED


def test_throughput_falling_is_worse_but_never_judged_without_a_test() -> None:
    row = _row("output_tokens_per_s", None, unit="tokens/s", a=300.0, b=100.0, delta=-200.0, delta_ci=None,
               significant=None, p=None, p_holm=None, why="one figure per run window")
    assert _by_metric(_result([row]))["output_tokens_per_s"]["status"] == UNTESTED
    tested = _row("output_tokens_per_s", None, a=300.0, b=100.0, delta=-200.0, delta_ci=[-220.0, -180.0],
                  ratio_ci=[0.3, 0.4])  # were it ever tested: lower is worse
    assert _by_metric(_result([tested]))["output_tokens_per_s"]["status"] == REGRESSED


def test_every_primary_metric_has_a_row_even_when_the_comparison_lacks_it() -> None:
    verdict = judge(_result([_row("e2e", "p50", primary=True, p_holm=None)], note="too few replicates"))
    assert [r["metric"] for r in verdict.rows] == [metric_name(m, s) for m, s in PRIMARY]
    missing = [r for r in verdict.rows if r["metric"] != "e2e.p50"]
    assert all(r["status"] == UNTESTED and r["why"] for r in missing)
    assert verdict.notes == ["too few replicates"]


def test_a_zero_baseline_cannot_be_held_against_a_relative_minimum() -> None:
    rows = _by_metric(_result([_row("ttft", "p50", a=0.0, b=0.1, delta=0.1, ratio=None, ratio_ci=None)]))
    assert rows["ttft.p50"]["status"] == UNTESTED and "0" in rows["ttft.p50"]["why"]


def test_a_check_judges_exactly_one_comparison() -> None:
    with pytest.raises(ValueError, match="one baseline"):
        judge({"comparisons": []})


def test_table_and_sentences_name_the_metric_the_change_and_the_ci() -> None:
    from rich.console import Console

    result = _compare(samples("baseline", _e2e(1.0)), samples("now", _e2e(2.0, seed=4)))
    verdict = judge(result)
    record = {"preset": "smoke", "compared": True, "metrics": verdict.rows, "regressed": verdict.regressed,
              "improved": verdict.improved, "tests": {"conf": 0.95, "alpha": 0.05, "primary": "e2e.p50"},
              "thresholds": {"min_effect": 0.1, "min_error_delta": 0.01},
              "paired": {"paired": False, "why": "different corpora"}}
    lines = verdict_lines(record)
    assert lines[0].startswith("E2E p50 regressed: ") and "95% CI +" in lines[0] and "(primary)" in lines[0]
    assert any(line.startswith("TTFT p95 regressed: ") and "(Holm)" in line for line in lines)
    assert lines[-1] == "not paired: different corpora"
    console = Console(width=160, record=True)
    console.print(check_table(record))
    text = console.export_text()
    assert text.count("REGRESSED") == 4 and "no test" in text


def test_not_compared_says_why() -> None:
    assert verdict_lines({"compared": False, "why": "no baseline yet: nothing saved"}) == [
        "not compared: no baseline yet: nothing saved"]
