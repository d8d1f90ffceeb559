"""The target monitor against the real mock server on loopback: /metrics scraped while the official
openai SDK sends traffic; the series land in the run folder and the analyzer reads them."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from openai import OpenAI

from suite.analyze.read.targetmetrics import load_series, target_section
from suite.monitor import MONITOR_FILE, monitor_target
from tests.integration.conftest import MockServer

pytestmark = pytest.mark.integration


def test_monitor_scrapes_the_mock_during_traffic(tmp_path: Path, mock_server: MockServer) -> None:
    client = OpenAI(base_url=f"{mock_server.url}/v1", api_key="test", timeout=30, max_retries=0)
    ask = {"model": "gpt-4o", "max_tokens": 8, "messages": [{"role": "user", "content": "ping"}]}
    with monitor_target(mock_server.url, 0.2, tmp_path / "scratch.jsonl") as monitoring:
        assert monitoring.note == f"monitoring {mock_server.url}/metrics every 0.2 s"
        client.chat.completions.create(**ask)
        client.chat.completions.create(**ask)  # the same request again: a cache hit
        time.sleep(0.5)
    client.close()
    assert monitoring.save_to(tmp_path) == tmp_path / MONITOR_FILE
    lines = [orjson.loads(x) for x in (tmp_path / MONITOR_FILE).read_bytes().splitlines()]
    assert len(lines) >= 3
    assert all(line["ok"] for line in lines)
    assert lines[-1]["values"]["mock_cache_hits_total"] >= 1
    section = target_section(load_series(tmp_path))
    assert section["failed"] == 0
    assert section["series"]["in-flight requests"]["points"] == len(lines)


def test_auto_interval_is_off_when_nothing_answers(tmp_path: Path) -> None:
    from suite.services import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with monitor_target(url, None, tmp_path / "scratch.jsonl") as monitoring:
        pass
    assert monitoring.monitor is None
    assert monitoring.note.startswith(f"target monitoring off: {url}/metrics did not answer (")


def test_api_run_monitors_then_analyze_charts_it(tmp_path: Path, mock_server: MockServer) -> None:
    from suite import api

    corpus = api.synthesize("ops-assistant", tmp_path / "corpus.jsonl", n=30, seed=5, repeat_ratio=0.3,
                            overrides={"max_tokens": {"choices": [8]}}).corpus
    notes: list[str] = []
    result = api.run(corpus, mock_server.url, tmp_path / "reports", users=4, spawn_rate=4.0, duration_s=30,
                     run_id="mon", monitor_interval=0.5, notify=notes.append)
    assert notes == [f"monitoring {mock_server.url}/metrics every 0.5 s"]
    assert (result.run_dir / MONITOR_FILE).exists()
    assert not list((tmp_path / "reports").glob(".target_metrics.*"))  # the scratch file was moved
    analysis = api.analyze(result.run_dir, slo="single-tenant")
    assert analysis.summary["target_metrics"]["scrapes"] >= 1
    assert analysis.summary["slo"]["profile"] == "single-tenant"
    assert (result.run_dir / "target_metrics.png").exists()
