"""The whole pipeline through the ``llmsuite`` command, with known truth to recover.

A round trip: the corpus says which requests repeat and the mock's profile says what TTFT a miss
has; the analyzer, reading only the request log, must find both again.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from suite import api
from suite.records import iter_jsonl
from tests.integration.conftest import MockServer

REPO = Path(__file__).resolve().parents[2]


def llmsuite(*args: str, timeout: float = 120, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "suite.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    result = api.synthesize("ops-assistant", tmp_path / "corpus.jsonl", n=80, seed=11, repeat_ratio=0.3,
                            models={"gpt-4o": 1, "gpt-5-mini": 1},
                            overrides={"max_tokens": {"choices": [16, 24]}})
    return result.corpus


@pytest.mark.parametrize("mock_server", ["redis"], indirect=True)
def test_run_then_analyze_recovers_the_known_truth(tmp_path: Path, small_corpus: Path,
                                                    mock_server: MockServer) -> None:
    # a relative --out, as a user types it (Locust itself runs inside the run folder)
    proc = llmsuite("run", "-c", str(small_corpus), "-t", mock_server.url, "-u", "6", "-r", "6",
                    "-d", "40", "--run-id", "rt", "--out", "reports", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run_dir = tmp_path / "reports" / "rt"
    records = [rec for _, rec in iter_jsonl(run_dir / "requests.jsonl")]
    corpus = [rec for _, rec in iter_jsonl(small_corpus)]
    assert sorted(r["id"] for r in records) == sorted(c["id"] for c in corpus)  # one record each
    summary = json.loads((run_dir / "summary.json").read_text())
    cache = summary["cache"]
    assert cache["corpus_repeat_ratio"]["value"] == pytest.approx(0.3)
    assert 0 < cache["hit_ratio"]["value"] <= 0.3
    # every successful miss is explained from the records' keys: compulsory, or a repeat in one class
    explained = cache["repeat_misses"]
    assert explained["first_seen_misses"] + explained["repeat_misses"] == cache["misses"]
    assert sum(explained[k]["count"] for k in ("in_flight", "first_copy_failed", "after_finish")) == \
        explained["repeat_misses"]
    assert cache["model_comparison"]["population"] == "miss"  # two models, compared on misses only
    # the gpt-4o profile: TTFT 0.45 s ± 0.15 on a miss; hits answer in milliseconds
    # (bounds leave room for a loaded CI machine; gpt-5-mini's 0.9 s would fall outside them)
    miss_ttft = [r["ttft"] for r in records if r["model"] == "gpt-4o" and r["cache"] == "miss"]
    assert 0.3 < statistics.median(miss_ttft) < 0.7
    hit_e2e = [r["e2e"] for r in records if r["cache"] == "hit"]
    miss_e2e = [r["e2e"] for r in records if r["cache"] == "miss"]
    assert 10 * statistics.median(hit_e2e) < statistics.median(miss_e2e)
    for name in ("report.html", "latency_cdf.png", "per_model.csv"):
        assert (run_dir / name).stat().st_size > 0
    # a mock started by hand says it is the bundled mock; run.json and the report's banner keep it
    mock = json.loads((run_dir / "run.json").read_text())["extra"]["target"]["bundled_mock"]
    assert mock["profiles"] and "gpt-4o" in mock["profiles"]
    assert "bundled mock" in (run_dir / "report.html").read_text()


def test_run_against_nothing_names_the_target_and_the_fix(tmp_path: Path, small_corpus: Path) -> None:
    from suite.services import free_port

    port = free_port()
    proc = llmsuite("run", "-c", str(small_corpus), "-t", f"http://127.0.0.1:{port}", "-d", "5",
                    "--out", str(tmp_path))
    assert proc.returncode == 4
    assert f"cannot reach target http://127.0.0.1:{port}/health" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_malformed_corpus_line_is_named(tmp_path: Path, small_corpus: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(small_corpus.read_text().splitlines()[0] + "\n{not json\n")
    proc = llmsuite("run", "-c", str(bad), "-t", "http://127.0.0.1:9", "-d", "5", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert f"{bad}:2: not valid JSON" in proc.stderr


def test_demo_runs_every_stage_on_a_private_redis(tmp_path: Path) -> None:
    proc = llmsuite("demo", "--n", "40", "--users", "8", "--duration", "20", "--out", str(tmp_path),
                    timeout=150)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = list(tmp_path.glob("demo-*"))
    names = {p.name for p in run_dir.iterdir()}
    assert {"corpus.jsonl", "requests.jsonl", "summary.json", "report.html", "latency_cdf.png"} <= names
    assert "cache backend: redis" in proc.stdout
    # the report never reads like a measurement of real models
    mock = json.loads((run_dir / "run.json").read_text())["extra"]["target"]["bundled_mock"]
    assert mock["cache"] == "redis" and mock["seed"] == 7 and "gpt-4o" in mock["profiles"]
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<b>target:</b> bundled mock server (simulated models; profiles: " in page
    assert "<b>cache backend:</b> redis (the mock&#x27;s)" in page
    for stage in ("synth", "redis", "mock", "run", "analyze"):
        assert f"▶ {stage}" in proc.stdout
