"""Sweep warnings for steps that left corpus requests unsent (their summaries' run.coverage)."""

from __future__ import annotations

from typing import Any, cast

from suite.analyze.schema import Summary
from suite.analyze.summarize.coverage import run_coverage
from suite.sweep.rows import coverage_warnings


def step(sent: int, wall: float) -> Summary:
    meta = {"duration_s": 2.0, "started": 1000.0, "ended": 1000.0 + wall, "requests_in_corpus": 200,
            "extra": {"sent": sent, "load": {"max_requests": None}}}
    return cast("Summary", {"run": {"coverage": run_coverage(meta)}})


def test_sweep_warns_per_truncated_step() -> None:
    steps: list[tuple[str, Any]] = [("users-8", step(46, 2.4)), ("users-2", step(200, 1.5)),
                                    ("warm-up", {})]  # a swap's warm-up summary is empty
    assert coverage_warnings(steps) == [
        "step 'users-8' stopped by the duration limit (2 s) after 46 of 200 corpus requests (154 not "
        "sent): its row covers only the requests sent. Raise -d (a safety cap) or send fewer requests "
        "per step (--n)."]


def test_no_warning_when_every_step_exhausted_its_corpus() -> None:
    assert coverage_warnings([("ratio-0", step(200, 1.0)), ("ratio-0.5", step(200, 1.2))]) == []
