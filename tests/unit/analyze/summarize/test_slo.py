"""SLO profiles, custom checks and verdicts on hand-made logs with known answers; goodput."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from suite.analyze import analyze_run
from suite.analyze.summarize.slo import PROFILES, Check, evaluate_slo, good_mask, load_slo, parse_check
from suite.cli import cli
from suite.errors import EXIT_SLO_FAILED, SpecError
from tests.unit.analyze.logs import rec, run_dir


def e2e_log(values: list[float], failed: int = 0) -> list[dict]:
    ok = [rec(i, e2e=v, stream=True, ttft=v / 2) for i, v in enumerate(values)]
    bad = [rec(len(values) + i, ok=False, status=500, error={"kind": "http_5xx", "message": "x"})
           for i in range(failed)]
    return ok + bad


def test_profiles_hold_the_design_thresholds() -> None:
    thresholds = {name: [(c.metric, c.stat, c.op, c.threshold) for c in spec.checks]
                  for name, spec in PROFILES.items()}
    assert thresholds["multi-tenant"] == [("e2e", "p95", "<", 5.0), ("e2e", "p99", "<", 8.0),
                                          ("error_ratio", None, "<", 0.01)]
    assert thresholds["high-frequency"][:2] == [("e2e", "p95", "<", 0.5), ("e2e", "p99", "<", 1.0)]
    assert thresholds["enterprise"][:2] == [("e2e", "p95", "<", 2.0), ("e2e", "p99", "<", 3.0)]
    assert thresholds["single-tenant"][:2] == [("e2e", "p95", "<", 12.0), ("e2e", "p99", "<", 15.0)]


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(SpecError) as err:
        load_slo("enterprize")
    assert str(err.value) == ("unknown SLO profile 'enterprize'; known: single-tenant, multi-tenant, "
                              "enterprise, high-frequency (or give a path to a .yaml file of checks).")


@pytest.mark.parametrize(("text", "check"), [
    ("e2e.p95 < 5", Check("e2e", "p95", "<", 5.0)),
    ("ttft.p99 <= 800ms", Check("ttft", "p99", "<=", 0.8)),
    ("error_ratio<0.01", Check("error_ratio", None, "<", 0.01)),
    ("goodput_ratio >= 0.9", Check("goodput_ratio", None, ">=", 0.9)),
    ("itl.max < 1s", Check("itl", "max", "<", 1.0)),
])
def test_parse_check(text: str, check: Check) -> None:
    assert parse_check(text) == check


@pytest.mark.parametrize(("text", "message"), [
    ("ttft < 3", "check: 'ttft < 3' needs a statistic for ttft: one of mean, p50, p90, p95, p99, max "
                 "(e.g. 'ttft.p95 < 1')."),
    ("error_ratio.p95 < 1", "check: 'error_ratio.p95 < 1': error_ratio is a single number; drop '.p95'."),
    ("fast please", "check: 'fast please' is not a check; write 'metric.stat < value' (e.g. 'e2e.p95 < 5', "
                    "'ttft.p99 <= 800ms') or 'error_ratio < 0.01'."),
])
def test_bad_checks_are_named(text: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_check(text)
    assert str(err.value) == message


def test_verdict_passes_and_fails_on_known_percentiles(tmp_path: Path) -> None:
    # e2e 0.01..1.00 s: p95 = 0.9505, p99 = 0.9901 → high-frequency (p95 < 0.5) fails, enterprise passes
    summary = analyze_run(run_dir(tmp_path, e2e_log([i / 100 for i in range(1, 101)])))
    hf = evaluate_slo(summary, load_slo("high-frequency"))
    assert not hf["passed"]
    assert [(c["metric"], c["stat"], c["passed"]) for c in hf["checks"]] == [
        ("e2e", "p95", False), ("e2e", "p99", True), ("error_ratio", None, True)]
    assert hf["checks"][0]["value"] == pytest.approx(0.9505)
    assert hf["checks"][0]["why"] == "950 ms breaks < 500 ms"
    assert hf["checks"][2]["why"] == "0 meets < 0.01"
    assert evaluate_slo(summary, load_slo("enterprise"))["passed"]


def test_error_ceiling_fails_a_fast_run_with_failures(tmp_path: Path) -> None:
    summary = analyze_run(run_dir(tmp_path, e2e_log([0.1] * 9, failed=1)))
    verdict = evaluate_slo(summary, load_slo("enterprise"))
    assert not verdict["passed"]
    assert verdict["checks"][2]["value"] == pytest.approx(0.1)


def test_missing_value_fails_with_why(tmp_path: Path) -> None:
    summary = analyze_run(run_dir(tmp_path, [rec(i, e2e=0.1, stream=False) for i in range(3)]))
    spec = load_slo_yaml(tmp_path, "checks: ['ttft.p95 < 1']\n")
    check = evaluate_slo(summary, spec)["checks"][0]
    assert (check["passed"], check["value"]) == (False, None)
    assert check["why"] == "not measured: no streaming requests (TTFT is measured on streaming replies only)"


def load_slo_yaml(tmp_path: Path, text: str):
    path = tmp_path / "slo.yaml"
    path.write_text(text, encoding="utf-8")
    return load_slo(str(path))


def test_custom_yaml_goodput_and_per_model(tmp_path: Path) -> None:
    records = [rec(i, model="a", e2e=0.1 * (i + 1), stream=True, ttft=0.05) for i in range(10)]
    records += [rec(10 + i, model="b", e2e=2.0, stream=True, ttft=1.5) for i in range(10)]
    spec = load_slo_yaml(tmp_path, "name: api\nchecks: ['goodput_ratio >= 0.5', 'ttft.p50 < 1']\n"
                                   "request_limits: {e2e: 0.5, ttft: 1.0}\nper_model: true\n")
    summary = analyze_run(run_dir(tmp_path, records), spec)
    # a: e2e 0.1..1.0 → 5 of 10 within 0.5 s; b: every ttft 1.5 s → none good
    assert summary["goodput"]["good"] == 5
    assert summary["goodput"]["goodput_ratio"] == {"value": 0.25}
    assert summary["goodput"]["models"]["a"]["good"] == 5
    window = summary["run"]["window"]["seconds"]
    assert summary["goodput"]["goodput"]["value"] == pytest.approx(5 / window)
    verdict = {(c["scope"], c["metric"]): c["passed"] for c in summary["slo"]["checks"]}
    assert verdict == {("overall", "goodput_ratio"): False, ("overall", "ttft"): True,
                       ("a", "goodput_ratio"): True, ("a", "ttft"): True,
                       ("b", "goodput_ratio"): False, ("b", "ttft"): False}
    assert summary["slo"]["passed"] is False
    assert summary["slo"]["profile"] == "api"


def test_goodput_check_without_limits_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="a goodput check needs request_limits"):
        load_slo_yaml(tmp_path, "checks: ['goodput >= 1']\n")


def test_good_mask_treats_unmeasured_as_not_good() -> None:
    ok = np.array([True, True, True, False])
    values = {"ttft": np.array([0.1, np.nan, 0.9, 0.1])}
    assert good_mask(ok, values, {"ttft": 0.5}).tolist() == [True, False, False, False]


def test_goodput_from_summary_without_slo_is_missing(tmp_path: Path) -> None:
    summary = analyze_run(run_dir(tmp_path, e2e_log([0.1, 0.2])))
    check = evaluate_slo(summary, load_slo_yaml(tmp_path, "checks: ['goodput >= 1']\n"
                                                          "request_limits: {e2e: 1}\n"))["checks"][0]
    assert not check["passed"]
    assert "no goodput under this SLO" in check["why"]


def test_cli_exit_code_on_slo_failure(tmp_path: Path) -> None:
    run_dir(tmp_path, e2e_log([i / 100 for i in range(1, 101)]))
    failed = CliRunner().invoke(cli, ["analyze", str(tmp_path), "--slo", "high-frequency"])
    assert failed.exit_code == EXIT_SLO_FAILED, failed.output
    assert "SLO high-frequency: FAILED (1 of 3 checks)" in failed.output
    passed = CliRunner().invoke(cli, ["analyze", str(tmp_path), "--slo", "enterprise"])
    assert passed.exit_code == 0, passed.output
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<p class="pass">SLO enterprise: PASSED</p>' in page
    assert "<summary>SLO checks (enterprise)</summary>" in page


def test_cli_checks_as_flags(tmp_path: Path) -> None:
    run_dir(tmp_path, e2e_log([0.1, 0.2, 0.3]))
    result = CliRunner().invoke(cli, ["analyze", str(tmp_path), "--check", "e2e.max < 250ms",
                                      "--check", "error_ratio <= 0"])
    assert result.exit_code == EXIT_SLO_FAILED, result.output
    assert "SLO custom: FAILED (1 of 2 checks)" in result.output
    args = ["analyze", str(tmp_path), "--slo", "enterprise", "--check", "ttft.p50 < 1"]
    both = CliRunner().invoke(cli, args)
    assert both.exit_code == 0
    assert "SLO enterprise+checks: PASSED" in both.output
