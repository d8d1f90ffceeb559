"""``llmsuite history`` over real runs: three runs of one corpus and one of another, made by
``llmsuite run`` against the bundled mock, become two groups whose figures are the runs' own."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from suite import api
from tests.integration.conftest import MockServer

REPO = Path(__file__).resolve().parents[3]
# the history reads whatever the runs measured: answers in ~0.03 s, not the shipped ~0.5 s, keep the
# four runs short
FAST = {"ttft_base_s": 0.02, "ttft_jitter_s": 0.0, "tokens_per_s": 1000.0, "tps_jitter": 0.0,
        "output_tokens": {"median": 8, "spread": 0.0}}

pytestmark = pytest.mark.integration


def llmsuite(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "suite.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def start_run(cwd: Path, corpus: Path, target: str, run_id: str) -> subprocess.Popen[str]:
    args = ["run", "-c", str(corpus), "-t", target, "-u", "4", "-r", "50", "-d", "30", "--run-id", run_id,
            "--out", "reports", "--slo", "single-tenant"]
    return subprocess.Popen([sys.executable, "-m", "suite.cli", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def corpus(folder: Path, scenario: str, seed: int) -> Path:
    return api.synthesize(scenario, folder / f"{scenario}.jsonl", n=12, seed=seed, repeat_ratio=0.3,
                          models={"gpt-4o": 1}, overrides={"max_tokens": {"choices": [8]}}).corpus


def test_history_over_three_runs_and_a_different_corpus(
        tmp_path: Path, mock_server_factory: Callable[..., MockServer]) -> None:
    (tmp_path / "profiles.yaml").write_text(yaml.safe_dump({"models": {"gpt-4o": FAST}}))
    mock_server = mock_server_factory(profiles=tmp_path / "profiles.yaml")
    ops, finance = corpus(tmp_path, "ops-assistant", 1), corpus(tmp_path, "finance", 2)
    made = {"h1": ops, "h2": ops, "h3": ops, "f1": finance}
    # at once, to keep the test short: the history orders runs by run.json's start, not by name
    procs = {run_id: start_run(tmp_path, path, mock_server.url, run_id) for run_id, path in made.items()}
    try:
        for run_id, proc in procs.items():
            _, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, f"{run_id}: {err}"
    finally:
        for proc in procs.values():
            if proc.poll() is None:  # a hung run fails the test; it is ended here, by its PID
                proc.kill()
                proc.wait()
    reports = tmp_path / "reports"
    # what llmsuite check leaves beside a run it judged (the interface of issue #18)
    regressed = [{"metric": "e2e.p50", "label": "E2E p50", "unit": "s", "delta": 0.25, "ci": [0.1, 0.4],
                  "relative": 0.5, "relative_ci": [0.2, 0.8], "status": "regressed"}]
    (reports / "h2" / "check.json").write_text(json.dumps({"baseline": "h1", "regressed": regressed,
                                                           "exit_code": 9}))
    (reports / "h3" / "check.json").write_text(json.dumps({"baseline": "h1", "regressed": [],
                                                           "exit_code": 0}))
    started = {run_id: json.loads((reports / run_id / "run.json").read_text())["started"] for run_id in made}

    proc = llmsuite("history", "reports", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "h3" in proc.stdout and "YES" in proc.stdout  # the terminal table marks h2
    out = reports / "history"
    history = json.loads((out / "history.json").read_text())
    groups = {g["corpus"]: g for g in history["groups"]}
    assert history["runs_n"] == 4 and set(groups) == {"ops-assistant.jsonl", "finance.jsonl"}
    # each group holds only its corpus's runs, oldest first; the group with the newest run comes first
    ops_group, fin_group = groups["ops-assistant.jsonl"], groups["finance.jsonl"]
    assert [r["run_id"] for r in ops_group["runs"]] == sorted(["h1", "h2", "h3"], key=started.__getitem__)
    newest = max(started, key=started.__getitem__)
    assert history["groups"][0] is (fin_group if newest == "f1" else ops_group)
    assert [r["run_id"] for r in fin_group["runs"]] == ["f1"]
    for group in (ops_group, fin_group):
        for run in group["runs"]:
            meta = json.loads((reports / run["run_id"] / "run.json").read_text())
            summary = json.loads((reports / run["run_id"] / "summary.json").read_text())
            assert run["corpus_identity"] == group["corpus_identity"] == meta["corpus_sha256"]
            assert run["started"] == meta["started"]
            assert run["figures"]["e2e_p95"]["value"] == summary["overall"]["e2e"]["p95"]
            assert run["figures"]["hit_ratio"]["value"] == summary["cache"]["hit_ratio"]["value"]
            tokens = summary["overall"]["output_tokens_per_s"]["value"]
            assert run["figures"]["output_tokens_per_s"]["value"] == tokens
            assert run["slo"]["passed"] is summary["slo"]["passed"]
    assert ops_group["corpus_identity"] != fin_group["corpus_identity"]
    assert ops_group["regressions"] == ["h2"] and ops_group["checked"] == 2
    assert {r["run_id"]: r["check"]["regression"] for r in ops_group["runs"]} == \
        {"h1": None, "h2": True, "h3": False}
    latest = {row["metric"]: row for row in ops_group["latest_vs"]}["e2e_p95"]
    values = [r["figures"]["e2e_p95"]["value"] for r in ops_group["runs"]]
    assert latest["latest"] == values[2] and latest["previous"] == values[1]
    assert latest["median"] == pytest.approx(sum(values[:2]) / 2) and latest["earlier_n"] == 2

    page = (out / "history.html").read_text()
    assert page.count("<figure>") == 2
    assert "regression marked by llmsuite check in 1 run (h2)" in page
    assert page.index("ops-assistant.jsonl") < page.index("<figure>")  # answers first
    assert "4 runs in 2 groups" in page


def test_history_of_a_folder_without_runs_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = llmsuite("history", "empty", cwd=tmp_path)
    assert proc.returncode == 6
    assert "no run folder with a readable summary.json" in proc.stderr
    assert "Traceback" not in proc.stderr
