"""Finding runs in a reports folder: what counts as a run, what is skipped and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.errors import AnalysisError
from suite.history import build_history
from suite.history.collect import collect
from tests.unit.history.fakes import summary, write_run


def test_runs_with_and_without_check_json(tmp_path: Path) -> None:
    write_run(tmp_path / "a", summary(run_id="a", started=1.0))
    write_run(tmp_path / "nested" / "b", summary(run_id="b", started=2.0, e2e=2.0),
              check={"baseline": "a", "regressed": [{"metric": "e2e.p50", "delta": 1.0}], "exit_code": 9})
    write_run(tmp_path / "c", summary(run_id="c", started=3.0), check="{not json")
    runs, skipped = collect(tmp_path)
    by_id = {r["run_id"]: r for r in runs}
    assert sorted(by_id) == ["a", "b", "c"] and skipped == []
    assert by_id["b"]["run_dir"] == "nested/b"
    assert by_id["b"]["check"]["regression"] is True
    assert by_id["a"]["check"] == {"regression": None,
                                   "why": "no check.json (the run was not made by llmsuite check)"}
    assert by_id["c"]["check"]["regression"] is None and "check.json unreadable" in by_id["c"]["check"]["why"]
    assert by_id["b"]["figures"]["e2e_p50"] == {"value": 2.0}
    assert by_id["a"]["load"] == "4 users" and by_id["a"]["corpus"] == "corpus.jsonl"


def test_without_run_json_the_summarys_own_meta_is_used(tmp_path: Path) -> None:
    write_run(tmp_path / "a", summary(run_id="a", started=5.0, sha="f" * 64), run_json=False)
    (run,), _ = collect(tmp_path)
    assert run["corpus_identity"] == "f" * 64 and run["started"] == 5.0


def test_sweep_steps_copies_and_unreadable_summaries_are_skipped_with_why(tmp_path: Path) -> None:
    write_run(tmp_path / "run1", summary(run_id="run1", started=1.0))
    write_run(tmp_path / "baselines" / "smoke" / "run1", summary(run_id="run1", started=1.0))
    (tmp_path / "sweep-x").mkdir()
    (tmp_path / "sweep-x" / "sweep.json").write_text("{}")
    write_run(tmp_path / "sweep-x" / "step-0", summary(run_id="s0", started=2.0))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("[1, 2")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "summary.json").write_text('{"schema": "something/1"}')
    runs, skipped = collect(tmp_path)
    assert [r["run_dir"] for r in runs] == ["run1"]
    why = {s["path"]: s["why"] for s in skipped}
    assert set(why) == {"baselines/smoke/run1", "sweep-x/step-0", "broken", "other"}
    assert why["baselines/smoke/run1"].startswith("a copy of run1")
    assert "a step of sweep-x (sweep.json)" in why["sweep-x/step-0"]
    assert "summary.json unreadable" in why["broken"]
    assert "not an llmsuite summary" in why["other"]


def test_the_history_output_folder_is_not_walked(tmp_path: Path) -> None:
    write_run(tmp_path / "a", summary(run_id="a"))
    write_run(tmp_path / "history" / "odd", summary(run_id="odd"))
    runs, _ = collect(tmp_path, exclude=tmp_path / "history")
    assert [r["run_id"] for r in runs] == ["a"]


def test_no_run_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "summary.json").write_text("nope")
    with pytest.raises(AnalysisError, match=r"no run folder with a readable summary.json.*skipped: x"):
        build_history(tmp_path)
    with pytest.raises(AnalysisError, match="not a folder"):
        build_history(tmp_path / "missing")
