"""Reading a run's key figures, SLO verdict and check verdict from its files' JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suite.history.figures import (
    METRICS,
    check_verdict,
    corpus_identity,
    figures,
    load_shape,
    metric_key,
    slo_verdict,
    target_of,
)
from tests.unit.history.fakes import NO_STREAM, summary

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "expected"


def test_every_figure_is_read_from_its_summary_path() -> None:
    figs = figures(summary(e2e=1.5, ttft=0.25, sent=20, failed=5, hit=0.4, speedup=30.0, tokens_per_s=12.5))
    assert {k: f["value"] for k, f in figs.items()} == {
        "ttft_p50": 0.25, "ttft_p95": 0.5, "e2e_p50": 1.5, "e2e_p95": 3.0, "error_ratio": 0.25,
        "hit_ratio": 0.4, "per_hit_speedup": 30.0, "output_tokens_per_s": 12.5}
    assert figs["per_hit_speedup"]["ci"] == [24.0, 36.0]


def test_the_figures_of_a_real_summary_match_its_own_blocks() -> None:
    s = json.loads((GOLDEN / "analyze-run-a" / "summary.json").read_text())
    figs = figures(s)
    assert figs["e2e_p95"]["value"] == s["overall"]["e2e"]["p95"]
    assert figs["hit_ratio"]["value"] == s["cache"]["hit_ratio"]["value"]
    assert figs["per_hit_speedup"]["value"] == s["cache"]["speedup"]["e2e_p50"]["value"]
    assert all(f["value"] is not None for f in figs.values()), figs


def test_a_figure_not_measured_is_none_with_the_summarys_own_why() -> None:
    figs = figures(summary(ttft=None, hit=None, speedup=None, tokens_per_s=None))
    assert figs["ttft_p50"] == {"value": None, "why": NO_STREAM}
    assert figs["ttft_p95"] == {"value": None, "why": NO_STREAM}
    assert figs["hit_ratio"] == {"value": None, "why": "no successful request carried a cache signal"}
    assert figs["per_hit_speedup"] == {"value": None, "why": "no successful hits"}
    assert figs["output_tokens_per_s"] == {"value": None, "why": "the window has zero length"}
    assert figs["e2e_p50"]["value"] == 1.0  # the rest is still read


def test_nothing_sent_is_no_error_ratio_not_zero() -> None:
    assert figures(summary(sent=0))["error_ratio"] == {"value": None,
                                                       "why": "no request was sent (outside the warm-up)"}


def test_an_absent_block_says_which_path_is_missing() -> None:
    s = summary()
    del s["cache"]["speedup"]
    s["overall"]["e2e"]["p95"] = "fast"
    figs = figures(s)
    assert figs["per_hit_speedup"] == {
        "value": None, "why": "summary.json has no cache.speedup (written by an older suite?)"}
    assert figs["e2e_p95"] == {"value": None, "why": "overall.e2e.p95 is not a number ('fast')"}


def test_slo_verdicts() -> None:
    assert slo_verdict(summary(slo=True)) == {"profile": "p", "passed": True, "failed": []}
    assert slo_verdict(summary(slo=False)) == {"profile": "p", "passed": False, "failed": ["e2e p95"]}
    assert slo_verdict(summary()) == {"passed": None, "why": "no SLO given (analyze with --slo PROFILE|FILE)"}


def test_check_verdicts_mark_regressions() -> None:
    got = check_verdict({"baseline": "reports/baselines/smoke", "exit_code": 9,
                         "regressed": [{"metric": "e2e.p50", "delta": 0.4, "ci": [0.2, 0.6]},
                                       {"metric": "ttft", "stat": "p95", "delta": 0.1}]})
    assert got["regression"] is True and got["exit_code"] == 9
    assert [r["key"] for r in got["regressed"]] == ["e2e_p50", "ttft_p95"]
    assert check_verdict({"baseline": "b", "regressed": [], "exit_code": 0})["regression"] is False
    # the exit code alone says so too; a baseline given as an object is named by its run id
    only_code = check_verdict({"baseline": {"run_id": "base-1"}, "exit_code": 9})
    assert only_code["regression"] is True and only_code["baseline"] == "base-1"
    absent = check_verdict(None)
    assert absent["regression"] is None and "no check.json" in absent["why"]
    # check ran without a baseline yet: nothing was judged, which is not "no regression"
    first = check_verdict({"baseline": None, "compared": False, "regressed": [], "exit_code": 0,
                           "why": "no baseline yet: nothing saved under reports/baselines/smoke"})
    assert first["regression"] is None
    assert first["why"] == "llmsuite check compared nothing: no baseline yet: nothing saved under " \
                           "reports/baselines/smoke"
    bad = check_verdict({"regressed": "e2e"})
    assert bad["regression"] is None and "'regressed' is not a list" in bad["why"]


@pytest.mark.parametrize(("name", "stat", "key"), [
    ("e2e.p50", None, "e2e_p50"), ("TTFT_P95", None, "ttft_p95"), ("e2e", "p95", "e2e_p95"),
    ("hit_ratio", None, "hit_ratio"), ("tpot.p50", None, None)])
def test_check_metric_names_map_to_history_keys(name: str, stat: str | None, key: str | None) -> None:
    assert metric_key(name, stat) == key


def test_corpus_identity_prefers_the_source_of_a_model_override_copy() -> None:
    meta = {"corpus_sha256": "copy"}
    assert corpus_identity(meta, {"derived_from": {"corpus_sha256": "source"}})[0] == "source"
    assert corpus_identity(meta, None) == ("copy", "run.json corpus_sha256")
    assert corpus_identity({}, None)[0] is None


def test_load_and_target_identity() -> None:
    assert load_shape({"users": 5, "extra": {"load": {"mode": "closed"}}}) == "5 users"
    assert load_shape({"users": 5, "extra": {"load": {"preset": "smoke"}}}) == "preset smoke"
    assert load_shape({"users": 1, "extra": {"load": {"mode": "open", "rate": 20.0}}}) == "open loop 20.0/s"
    assert target_of({"target": "http://h:1", "extra": {"target_path": "/v1/x"}}, {}) == "http://h:1/v1/x"
    assert target_of({}, {"run": {"targets": ["http://b", "http://a"]}}) == "http://a, http://b"
    assert len(METRICS) == 8


def test_regressed_rows_in_words() -> None:
    from suite.history.text import regression_text

    def words(*rows: dict) -> str:
        return regression_text(check_verdict({"regressed": list(rows), "exit_code": 9}))

    row = {"metric": "e2e.p50", "label": "E2E p50", "unit": "s", "delta": 0.3, "ci": [-0.05, 0.5]}
    assert words(row) == "REGRESSED: E2E p50 +300 ms (CI −50.0 ms … +500 ms)"
    assert words({"metric": "error_ratio", "delta": 0.02}) == "REGRESSED: error_ratio +0.02"
    assert regression_text(check_verdict({"regressed": [], "exit_code": 9})) == "REGRESSED: exit code 9"
    assert regression_text(check_verdict({"regressed": [], "exit_code": 0})) == "none"
    assert regression_text(check_verdict(None)) == "not checked"
