"""Grouping runs into trends and comparing the latest run with the earlier ones."""

from __future__ import annotations

import pytest

from suite.history.group import group_runs
from tests.unit.history.fakes import run


def _ids(groups: list[dict]) -> list[list[str]]:
    return [[r["run_id"] for r in g["runs"]] for g in groups]


def test_different_corpora_targets_and_loads_are_kept_apart() -> None:
    runs = [run("a1", 1.0), run("a2", 2.0), run("other-corpus", 3.0, sha="b" * 64),
            run("other-target", 4.0, target="http://u"), run("stress", 5.0, load="preset stress"),
            run("a3", 6.0)]
    groups = group_runs(runs)
    # newest group first; a group holds only runs of one (target, corpus, load)
    assert _ids(groups) == [["a1", "a2", "a3"], ["stress"], ["other-target"], ["other-corpus"]]
    assert [g["id"] for g in groups] == ["g1", "g2", "g3", "g4"]
    assert groups[0]["runs_n"] == 3 and groups[3]["corpus_identity"] == "b" * 64


def test_runs_of_unknown_corpus_are_never_merged() -> None:
    groups = group_runs([run("x", 1.0, sha=None), run("y", 2.0, sha=None)])
    assert sorted(_ids(groups)) == [["x"], ["y"]]


def test_runs_are_ordered_by_start_and_an_unknown_start_goes_last() -> None:
    groups = group_runs([run("late", 30.0), run("unknown", None), run("early", 10.0)])
    assert _ids(groups) == [["early", "late", "unknown"]]


def test_latest_against_previous_and_median_of_the_earlier_runs() -> None:
    groups = group_runs([run("r1", 1.0, e2e=1.0), run("r2", 2.0, e2e=3.0), run("r3", 3.0, e2e=4.0),
                         run("r4", 4.0, e2e=2.0)])
    row = next(r for r in groups[0]["latest_vs"] if r["metric"] == "e2e_p50")
    assert row["latest"] == 2.0 and row["previous"] == 4.0
    assert row["vs_previous"] == {"delta": -2.0, "relative": -0.5, "direction": "better"}
    assert row["median"] == 3.0 and row["earlier_n"] == 3  # median of 1, 3, 4 — the latest left out
    assert row["vs_median"]["relative"] == pytest.approx(-1 / 3)
    assert row["vs_median"]["direction"] == "better"


def test_higher_is_better_for_hit_ratio() -> None:
    groups = group_runs([run("r1", 1.0, hit_ratio=0.5), run("r2", 2.0, hit_ratio=0.25)])
    row = next(r for r in groups[0]["latest_vs"] if r["metric"] == "hit_ratio")
    assert row["vs_previous"]["direction"] == "worse"


def test_missing_figures_stay_missing_with_why() -> None:
    groups = group_runs([run("r1", 1.0, ttft_p50=0.5), run("r2", 2.0, ttft_p50=None),
                         run("r3", 3.0, ttft_p50=0.7)])
    row = next(r for r in groups[0]["latest_vs"] if r["metric"] == "ttft_p50")
    assert row["previous"] is None and row["previous_why"] == "r2: ttft_p50 not measured"
    assert "vs_previous" not in row
    assert row["median"] == 0.5 and row["earlier_n"] == 1  # the run that did not measure it is not counted
    latest_missing = group_runs([run("r1", 1.0), run("r2", 2.0, e2e_p95=None)])[0]
    row = next(r for r in latest_missing["latest_vs"] if r["metric"] == "e2e_p95")
    assert row["latest"] is None and row["why"] == "e2e_p95 not measured"
    assert "vs_previous" not in row and "vs_median" not in row


def test_a_previous_zero_has_no_relative_change() -> None:
    groups = group_runs([run("r1", 1.0, error_ratio=0.0), run("r2", 2.0, error_ratio=0.1)])
    row = next(r for r in groups[0]["latest_vs"] if r["metric"] == "error_ratio")
    assert row["vs_previous"] == {"delta": 0.1, "relative": None, "relative_why": "the earlier value is 0",
                                  "direction": "worse"}


def test_one_run_has_nothing_to_compare_with() -> None:
    row = group_runs([run("only", 1.0)])[0]["latest_vs"][0]
    assert row["previous"] is None and row["median"] is None and row["earlier_n"] == 0
    assert row["previous_why"] == "the group has one run"


def test_regressions_and_slo_failures_are_listed_per_group() -> None:
    groups = group_runs([run("r1", 1.0, regression=False), run("r2", 2.0, regression=True, slo=False),
                         run("r3", 3.0), run("other", 4.0, sha="b" * 64, regression=True)])
    by_first = {g["runs"][0]["run_id"]: g for g in groups}
    assert by_first["r1"]["regressions"] == ["r2"] and by_first["r1"]["checked"] == 2
    assert by_first["r1"]["slo_failed"] == ["r2"]
    assert by_first["other"]["regressions"] == ["other"]
