"""run.coverage: how much of the corpus a run sent and what stopped it, from run.json alone; the
report's banner, headlines and the terminal repeat its sentence only when requests went unsent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from suite.analyze import analyze_and_write, analyze_run, render_summary_table
from suite.analyze.summarize.coverage import NO_CORPUS, NO_SENT, NO_STOP, run_coverage, truncated
from suite.records import RunMeta
from tests.unit.analyze.logs import rec, run_dir


def meta(sent: int | None = 230, corpus: int = 2000, duration: float = 60.0, wall: float = 61.0,
         **extra: Any) -> dict[str, Any]:
    """run.json's dict form as the driver writes it after a run."""
    more: dict[str, Any] = {"load": {"max_requests": None}, **extra}
    if sent is not None:
        more["sent"] = sent
    return RunMeta(run_id="r", target="http://127.0.0.1:9", corpus="c.jsonl", corpus_sha256="x", users=4,
                   duration_s=duration, started=1000.0, ended=1000.0 + wall, requests_in_corpus=corpus,
                   extra=more).to_dict()


def test_duration_limit_names_the_unsent_requests() -> None:
    node = run_coverage(meta())
    assert node == {"corpus_requests": 2000, "sent": 230, "not_sent": 1770, "stopped_by": "duration",
                    "note": "stopped by the duration limit (60 s) after 230 of 2,000 corpus requests "
                            "(1,770 not sent)"}
    assert truncated(node)


def test_exhausted_corpus_is_not_news() -> None:
    node = run_coverage(meta(sent=2000, wall=12.0))
    assert node["stopped_by"] == "corpus_exhausted" and node["not_sent"] == 0
    assert node["note"] == "every one of the 2,000 corpus requests was sent (corpus exhausted)"
    assert not truncated(node)


def test_max_requests_cut() -> None:
    node = run_coverage(meta(sent=100, wall=5.0, load={"max_requests": 100}))
    assert node["stopped_by"] == "max_requests"
    assert node["note"] == "stopped by --max-requests 100 after 100 of 2,000 corpus requests (1,900 not sent)"


def test_max_requests_not_reached_is_the_duration() -> None:
    assert run_coverage(meta(sent=50, load={"max_requests": 100}))["stopped_by"] == "duration"


@pytest.mark.parametrize(("extra", "stop", "cause"), [
    ({"aborted": {"reason": "error ratio 0.6 > 0.5", "at": 1003.0}}, "abort",
     "an abort rule (error ratio 0.6 > 0.5)"),
    ({"interrupted": {"signal": "SIGINT", "at": 1003.0}, "partial": {"reason": "interrupted"}}, "signal",
     "SIGINT"),
    ({"partial": {"reason": "worker 1 lost"}}, "worker_lost", "a lost worker"),
])
def test_early_stops_say_what_stopped_them(extra: dict[str, Any], stop: str, cause: str) -> None:
    node = run_coverage(meta(sent=40, wall=3.0, **extra))
    assert node["stopped_by"] == stop
    assert node["note"] == f"stopped by {cause} after 40 of 2,000 corpus requests (1,960 not sent)"


def test_a_short_run_nothing_explains_is_null_with_why() -> None:
    node = run_coverage(meta(sent=40, wall=3.0))  # 3 s of a 60 s limit, no abort, no signal
    assert node["stopped_by"] is None and node["why"] == NO_STOP and node["not_sent"] == 1960
    assert truncated(node)


@pytest.mark.parametrize(("m", "why"), [
    (meta(corpus=0), NO_CORPUS),  # an older driver: requests_in_corpus left at its default
    (meta(sent=None), NO_SENT),
    (None, "no run.json here"),
])
def test_missing_facts_are_null_with_why(m: dict[str, Any] | None, why: str) -> None:
    node = run_coverage(m, "no run.json here")
    assert node["why"] == why
    assert node["not_sent"] is None and node["stopped_by"] is None and node["note"] is None
    assert not truncated(node)


def _truncated_run(tmp_path: Path) -> Path:
    m = RunMeta(run_id="t", target="http://127.0.0.1:9", corpus="c.jsonl", corpus_sha256="x", users=1,
                duration_s=2.0, started=1000.0, ended=1002.5, requests_in_corpus=2000,
                extra={"sent": 3, "load": {"max_requests": None}})
    return run_dir(tmp_path, [rec(i, e2e=0.2) for i in range(3)], m)


def test_summary_banner_and_headline_name_the_unsent(tmp_path: Path) -> None:
    summary, _ = analyze_and_write(_truncated_run(tmp_path))
    note = "stopped by the duration limit (2 s) after 3 of 2,000 corpus requests (1,997 not sent)"
    assert summary["run"]["coverage"]["note"] == note
    assert summary["headlines"][0] == f"the run was {note}; every figure covers only the requests sent"
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"<li class=warn><b>TRUNCATED run:</b> {note}; every figure covers only the requests sent" in page
    console = Console(width=400, record=True)
    console.print(render_summary_table(summary))
    assert f"TRUNCATED run: {note}." in console.export_text()


def test_complete_or_unknown_runs_have_no_banner(tmp_path: Path) -> None:
    summary = analyze_run(run_dir(tmp_path, [rec(1, e2e=0.1)]))  # no run.json at all
    assert summary["run"]["coverage"]["stopped_by"] is None
    assert not any("TRUNCATED" in h or "corpus requests" in h for h in summary["headlines"])
    assert any(m["path"] == "run.coverage" for m in summary["missing"])

