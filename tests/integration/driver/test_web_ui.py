"""Locust's web UI during a ``--web`` run: its own numbers are Locust's, the LLM figures have their tab.

Real Locust, the real mock (with its memory cache), loopback only. Locust's ``/stats/requests``
holds only real request entries (one per model, method POST) and its totals equal the requests
sent; ``/llm/stats`` shows TTFT per model; the page declares the LLM tab and ``/stats/requests``
carries its rows as ``extended_stats``; with workers, their figures reach the master's tab;
``llmsuite run --web`` prints the UI's address before the run's output.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner

from suite.cli import cli
from suite.driver import run_load
from suite.driver.control.command import Topology
from suite.driver.control.loadopts import LoadOptions
from suite.records import write_jsonl
from suite.services import free_port
from tests.integration.conftest import (
    NO_CHROMIUM,
    MockServer,
    artifacts_dir,
    find_chromium,
    launch_mock_server,
)
from tests.integration.driver.test_locust_run import corpus_line

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")]

FAST = {"ttft_base_s": 0.0, "ttft_jitter_s": 0.0, "tokens_per_s": float("inf"),
        "output_tokens": {"median": 4, "spread": 0.0}, "encoding": "o200k_base"}
MODELS = {"slow": {**FAST, "ttft_base_s": 0.3}, "paced": {**FAST, "ttft_base_s": 0.05}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    profiles = tmp_path_factory.mktemp("profiles") / "models.yaml"
    profiles.write_text(yaml.safe_dump({"models": MODELS}))
    started = launch_mock_server(tmp_path_factory.mktemp("mock"), cache="memory", profiles=profiles)
    try:
        yield started
    finally:
        started.stop()


def two_model_corpus(path: Path, salt: str) -> int:
    """Per model 6 questions, then 3 of them again (exact repeats: cache hits on the mock); ``salt``
    keeps one test's questions from hitting what another left in the shared mock's cache."""
    rows = []
    for model in MODELS:
        for q in [*range(6), *range(3)]:
            rows.append({**corpus_line(len(rows), model, f"{salt} {model} question {q}", None, max_tokens=4)})
    write_jsonl(path, rows)
    return len(rows)


def _get(url: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as resp:
        body = bytes(resp.read())
    return orjson.loads(body) if resp.headers.get_content_type() == "application/json" else body


def _watch(web: int, n: int, done: threading.Event) -> tuple[list[dict[str, Any]], dict[str, Any], bytes]:
    """Poll the UI while the run is live: every /stats/requests seen, the last /llm/stats with a
    TTFT for each model, the page. Ends when Locust counts ``n`` requests (or the run ends)."""
    base = f"http://127.0.0.1:{web}"
    seen: list[dict[str, Any]] = []
    llm: dict[str, Any] = {}
    page = b""
    while not done.is_set():
        try:
            stats = _get(f"{base}/stats/requests")
            seen.append(stats)
            live = _get(f"{base}/llm/stats")
            if all(r["ttft_p50_ms"] is not None for r in live["models"]) and len(live["models"]) == 2:
                llm = live
            page = page or _get(f"{base}/")
            if llm and stats["stats"][-1]["num_requests"] >= n:
                break
        except OSError:
            pass  # not up yet
        time.sleep(0.1)
    return seen, llm, page


@pytest.mark.parametrize("processes", [0, 2], ids=["standalone", "master+2workers"])
def test_web_ui_counts_only_real_requests_and_shows_llm_figures_in_its_tab(
        tmp_path: Path, server: MockServer, processes: int) -> None:
    """With workers, their figures reach the master's tab with Locust's own reports."""
    n = two_model_corpus(tmp_path / "c.jsonl", salt=f"p{processes}")
    web = free_port()
    done = threading.Event()
    box: dict[str, Any] = {}

    def go() -> None:
        try:
            box["result"] = run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=2,
                                     spawn_rate=20, duration_s=12, load=LoadOptions(llm_stats=True),
                                     topology=Topology(web=True, web_port=web,
                                                       processes=processes))
        finally:
            done.set()

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    seen, llm, page = _watch(web, n, done)
    thread.join(timeout=30)
    result = box["result"]
    assert result.sent == result.records == n
    assert seen, "the web UI never answered while the run was live"
    for stats in seen:  # only real entries, at every moment: one per model, method POST
        *entries, total = stats["stats"]
        assert {(e["method"], e["name"]) for e in entries} <= {("POST", m) for m in MODELS}
        assert total["name"] == "Aggregated"
        assert total["num_requests"] == sum(e["num_requests"] for e in entries) <= n
    assert seen[-1]["stats"][-1]["num_requests"] == n  # Locust's total is the requests sent
    assert seen[-1]["stats"][-1]["num_failures"] == 0
    rows = {r["model"]: r for r in llm["models"]}
    assert set(rows) == set(MODELS)
    assert rows["slow"]["ttft_p50_ms"] > rows["paced"]["ttft_p50_ms"] >= 0
    assert all(r["ttft_p95_ms"] >= r["ttft_p50_ms"] for r in rows.values())
    # 3 of each model's 9 are repeats sent after their original finished: cache hits
    assert all(r["hit_ratio"] == pytest.approx(1 / 3) and r["out_tok_s"] > 0 for r in rows.values())
    tab = {t["key"]: t for t in seen[-1]["extended_stats"]}["llm"]
    assert {r["model"] for r in tab["data"]} == set(MODELS)
    assert b"extended_tabs" in page and b'"llm"' in page


def test_llmsuite_run_prints_the_web_ui_address_at_start(tmp_path: Path, server: MockServer) -> None:
    two_model_corpus(tmp_path / "c.jsonl", salt="cli")
    web = free_port()
    res = CliRunner().invoke(cli, ["run", "-c", str(tmp_path / "c.jsonl"), "-t", server.url, "-u", "2",
                                   "-d", "10", "--web", "--web-port", str(web), "--no-analyze",
                                   "--out", str(tmp_path / "runs")])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("web UI: "))
    assert lines[first].startswith(f"web UI: http://127.0.0.1:{web} ")
    assert first < next(i for i, line in enumerate(lines) if line.startswith("sent 18, recorded 18"))


@pytest.mark.skipif(find_chromium() is None, reason=NO_CHROMIUM)
def test_the_llm_tab_renders_in_a_browser(tmp_path: Path, server: MockServer) -> None:
    """Locust's own page, rendered by headless Chromium, shows the LLM tab with a row per model."""
    rows = [corpus_line(i, "slow", f"render {i}", None, max_tokens=4) for i in range(30)]
    write_jsonl(tmp_path / "c.jsonl", rows)
    web = free_port()
    done = threading.Event()

    def go() -> None:
        try:
            run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=2, spawn_rate=20,
                     duration_s=12, load=LoadOptions(llm_stats=True),
                     topology=Topology(web=True, web_port=web))
        finally:
            done.set()

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    while not done.is_set():  # until a first TTFT is in
        with contextlib.suppress(OSError):
            if _get(f"http://127.0.0.1:{web}/llm/stats")["models"][0]["ttft_p50_ms"] is not None:
                break
        time.sleep(0.1)
    artifacts_dir().mkdir(parents=True, exist_ok=True)
    shot = artifacts_dir() / "locust-llm-tab.png"
    cmd = [find_chromium() or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
           "--virtual-time-budget=3000", "--window-size=1400,900", f"http://127.0.0.1:{web}/?tab=llm"]
    dom = subprocess.run([*cmd, "--dump-dom"], capture_output=True, text=True, timeout=30).stdout
    subprocess.run([*cmd, f"--screenshot={shot}"], capture_output=True, timeout=30)  # an artifact
    thread.join(timeout=30)
    text = re.sub(r"\s+", " ", re.sub(r"<script.*?</script>|<[^>]+>", " ", dom, flags=re.S))
    assert "TTFT p50 (ms)" in text and "Hit ratio (%)" in text
    assert re.search(r"Not shown, why slow \d+ ", text), text[:2000]
