"""The check's exit code (aborted 8 > error ratio 5 > regression 9 > SLO 7 > 0), its plan checks made
before any load is sent, and check.json's shape (``llmsuite history`` reads it)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from suite.check.flow import CheckOutcome, CheckPlan, build_record, check_plan, exit_code, finite
from suite.check.verdict import REGRESSED, Thresholds, Verdict
from suite.compare import Boot
from suite.errors import EXIT_ERROR_RATIO, EXIT_REGRESSION, EXIT_RUN_ABORTED, EXIT_SLO_FAILED, SpecError


def _outcome(*, aborted: bool = False, error_ratio: float = 0.0, regressed: bool = False,
             slo: bool | None = None, tmp: Path = Path("/runs/x")) -> CheckOutcome:
    run = SimpleNamespace(aborted={"reason": "too many errors"} if aborted else None, run_dir=tmp)
    totals = {"error_ratio": error_ratio, "sent": 10, "failed": round(10 * error_ratio), "errors": []}
    summary: dict[str, Any] = {"totals": totals, "slo": {} if slo is None else {"passed": slo}}
    rows = [{"metric": "e2e.p50", "status": REGRESSED if regressed else "no significant change"}]
    return CheckOutcome(run=run, analysis=SimpleNamespace(summary=summary),  # type: ignore[arg-type]
                        verdict=Verdict(rows, Thresholds(), 0.05, "e2e.p50"))


@pytest.mark.parametrize(("kw", "code"), [
    ({}, 0),
    ({"slo": True}, 0),
    ({"slo": False}, EXIT_SLO_FAILED),
    ({"regressed": True, "slo": False}, EXIT_REGRESSION),
    ({"regressed": True, "error_ratio": 0.8}, EXIT_ERROR_RATIO),
    ({"regressed": True, "error_ratio": 0.8, "aborted": True}, EXIT_RUN_ABORTED),
])
def test_exit_code_precedence(kw: dict[str, Any], code: int) -> None:
    assert exit_code(_outcome(**kw), max_error_ratio=0.5) == code


def _plan(tmp_path: Path, **kw: Any) -> CheckPlan:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("")
    base: dict[str, Any] = {"preset": "smoke", "target": None, "boot": Boot(), "corpus": corpus}
    return CheckPlan(**{**base, **kw})


@pytest.mark.parametrize(("kw", "message"), [
    ({"preset": "nightly"}, "unknown preset 'nightly'"),
    ({"scenario": "finance"}, "give -c CORPUS or --scenario NAME"),
    ({"corpus": None}, "give -c CORPUS or --scenario NAME"),
    ({"n": 10}, "--n sizes the corpus synthesized from --scenario"),
    ({"baseline": "reports/nowhere"}, "not a run folder with a request log"),
    ({"slo": "no-such-profile"}, "no-such-profile"),
])
def test_mistakes_are_found_before_any_load(tmp_path: Path, kw: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        check_plan(_plan(tmp_path, **kw))


def test_a_run_folder_latest_and_none_are_baselines(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "requests.jsonl").write_text("")
    for baseline in ("latest", "none", str(run)):
        check_plan(_plan(tmp_path, baseline=baseline))


def test_check_json_keeps_the_agreed_shape(tmp_path: Path) -> None:
    outcome = _outcome(regressed=True, tmp=tmp_path)
    outcome.baseline, outcome.baseline_why, outcome.exit_code = tmp_path / "b", "latest baseline", 9
    record = build_record(_plan(tmp_path), outcome)
    assert {"preset", "baseline", "compared", "why", "regressed", "improved", "exit_code", "metrics",
            "paired", "thresholds", "tests", "slo", "saved_baseline"} <= set(record)
    assert record["compared"] is True and record["exit_code"] == 9
    assert record["baseline"] == str(tmp_path / "b")
    assert record["regressed"] == [{"metric": "e2e.p50", "status": REGRESSED}]
    assert record["slo"] is None  # no SLO asked: not a pass, not a fail


def test_non_finite_numbers_become_missing() -> None:
    assert finite({"a": [float("nan"), 1.0], "b": float("inf"), "c": "x"}) == {"a": [None, 1.0], "b": None,
                                                                                "c": "x"}
