"""Load models end to end: real Locust (master + workers), the real mock server, real HTTP on loopback.

- ``--processes 2``: the corpus is split between two workers; records == sent, no id twice;
- open loop against a slow target with a concurrency cap: lateness is recorded and warned about;
- ``--max-requests`` and the warm-up window;
- an abort rule stops the run (``llmsuite run`` exits 8, run.json says why);
- SIGINT to ``llmsuite run`` mid-run leaves a complete, parseable log (records == sent);
- the Prometheus exporter and Locust's web UI (its LLM tab's JSON) answer while a run is live.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from suite.driver import RunResult, run_load
from suite.driver.control.command import Topology
from suite.driver.control.loadopts import LoadOptions
from suite.errors import EXIT_RUN_ABORTED, EXIT_SLO_FAILED
from suite.records import write_jsonl
from suite.services import free_port, stop_pid
from tests.integration.conftest import MockServer, launch_mock_server
from tests.integration.driver.test_locust_run import corpus_line

pytestmark = pytest.mark.integration

FAST = {"ttft_base_s": 0.0, "ttft_jitter_s": 0.0, "tokens_per_s": float("inf"),
        "output_tokens": {"median": 4, "spread": 0.0}, "encoding": "o200k_base"}
PROFILES = {"models": {
    "fast": FAST,
    "slow": {**FAST, "ttft_base_s": 0.4},
    "paced": {**FAST, "ttft_base_s": 0.05},
    "broken": {**FAST, "faults": {"503": 1.0}},
}}


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("profiles") / "models.yaml"
    path.write_text(yaml.safe_dump(PROFILES))
    return path


@pytest.fixture(scope="module")
def server(profiles: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    """One uncached mock for the module: every test's corpus has its own ids and the answers do
    not depend on earlier requests."""
    started = launch_mock_server(tmp_path_factory.mktemp("mock"), cache="none", profiles=profiles)
    try:
        yield started
    finally:
        started.stop()


def corpus(path: Path, n: int, model: str, rate: float | None = None) -> list[dict[str, Any]]:
    rows = [{**corpus_line(i, model, f"question {i}", None, max_tokens=4),
             "t": None if rate is None else i / rate, "session": f"s{i // 2}", "turn": i % 2}
            for i in range(n)]
    write_jsonl(path, rows)
    return rows


def records(result: RunResult) -> list[dict[str, Any]]:
    return [orjson.loads(line) for path in result.log_files for line in path.read_bytes().splitlines()]


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_two_worker_processes_split_the_corpus(tmp_path: Path, server: Any) -> None:
    rows = corpus(tmp_path / "c.jsonl", 60, "fast")
    result = run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=4, spawn_rate=20,
                      duration_s=10, topology=Topology(processes=2))
    got = records(result)
    ids = [r["id"] for r in got]
    assert len(ids) == len(set(ids)) == result.records == result.sent == len(rows)  # no gap, no dup
    assert sorted(p.name for p in result.log_files) == ["requests.w0.jsonl", "requests.w1.jsonl"]
    assert len({r["worker"] for r in got}) == 2
    workers = result.meta["extra"]["workers"]
    assert sorted(w["shard"]["index"] for w in workers) == [0, 1]
    assert sum(w["sent"] for w in workers) == 60


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_a_master_and_two_workers_as_separate_runs(tmp_path: Path, server: Any) -> None:
    """The multi-host form on loopback: `run --master` and two `run --worker` (each its own folder)."""
    rows = corpus(tmp_path / "c.jsonl", 40, "fast")
    port, results = free_port(), {}

    def go(name: str, topo: Topology) -> None:
        results[name] = run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=4,
                                 spawn_rate=20, duration_s=10, run_id=name, topology=topo)

    roles = {"master": Topology(role="master", expect_workers=2, master_port=port,
                                master_bind_host="127.0.0.1"),
             **{f"worker{i}": Topology(role="worker", master_port=port) for i in range(2)}}
    threads = [threading.Thread(target=go, args=item, daemon=True) for item in roles.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(results) == set(roles)
    got = records(results["worker0"]) + records(results["worker1"])
    assert sorted(r["id"] for r in got) == sorted(row["id"] for row in rows)  # no gap, no duplicate
    assert results["worker0"].sent + results["worker1"].sent == len(rows)
    # the workers shipped their records to the master's own folder (suite.driver.inlocust.shiplink)
    assert results["master"].records == results["master"].sent == len(rows)
    assert sorted(r["id"] for r in records(results["master"])) == sorted(r["id"] for r in got)
    assert not any("copy their" in w for w in results["master"].warnings)


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_open_loop_records_lateness_when_the_target_cannot_keep_up(tmp_path: Path, server: Any) -> None:
    """40 req/s into a 0.4 s target with at most 4 in flight: sends must wait, and the records say so."""
    corpus(tmp_path / "c.jsonl", 24, "slow", rate=40.0)
    load = LoadOptions(mode="open", max_concurrency=4)
    result = run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=1, spawn_rate=1,
                      duration_s=10, load=load)
    got = records(result)
    assert result.records == result.sent == 24
    lags = sorted(r["t_start"] - r["scheduled"] for r in got)
    assert all(r["scheduled"] is not None for r in got)
    assert lags[0] < 0.05
    assert lags[-1] > 1.0  # the first on time, the last ones > 1 s late
    extra = result.meta["extra"]
    assert extra["open_loop"]["behind_schedule"]
    assert extra["open_loop"]["overflow"] >= 10
    assert extra["open_loop"]["lag_max_ms"] == pytest.approx(lags[-1] * 1000, abs=0.01)
    assert result.warnings
    assert result.warnings[0].startswith("open loop fell behind schedule: lag p99")


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_max_requests_warmup_and_session_affinity(tmp_path: Path, server: Any) -> None:
    corpus(tmp_path / "c.jsonl", 40, "paced")
    load = LoadOptions(max_requests=16, warmup_s=0.3, think_time_s=0.01, affinity=True)
    result = run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=2, spawn_rate=20,
                      duration_s=10, load=load)
    got = records(result)
    assert result.sent == result.records == 16
    assert result.corpus_size == 16
    assert {r["id"] for r in got} == {f"q{i:03d}" for i in range(16)}  # the first 16, in order
    t0 = result.meta["extra"]["t0"]
    assert all(r["warmup"] == (r["t_start"] < t0 + 0.3) for r in got)
    assert 0 < sum(r["warmup"] for r in got) < 16
    by_session: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(got, key=lambda r: r["t_start"]):
        by_session.setdefault(f"s{int(r['id'][1:]) // 2}", []).append(r)
    for turns in by_session.values():  # affinity: one user per session, turn 1 after turn 0 answered
        assert len({r["user"] for r in turns}) == 1
        assert turns[-1]["t_start"] >= turns[0]["t_start"] + turns[0]["e2e"]


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_a_preset_shape_drives_users_and_ends_the_run(tmp_path: Path, server: Any) -> None:
    """spike over 2 s with a peak of 4: 1 user, 4 for the middle fifth, 1 again; the shape ends it."""
    corpus(tmp_path / "c.jsonl", 300, "slow")
    result = run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=4, spawn_rate=10,
                      duration_s=2, load=LoadOptions(preset="spike", preset_users=4), stop_timeout_s=2)
    got = records(result)
    assert result.records == result.sent == len(got)
    assert 2 <= len(got) < 40
    assert {r["user"] for r in got} <= {0, 1, 2, 3}
    assert len({r["user"] for r in got}) >= 2
    assert "Shape test completed" in (result.run_dir / "locust.log").read_text()


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_a_target_that_stops_answering_health_checks_aborts_the_run(
        tmp_path: Path, mock_server_factory: Callable[..., Any], profiles: Path) -> None:
    doomed = mock_server_factory(cache="none", profiles=profiles)
    corpus(tmp_path / "c.jsonl", 300, "slow")
    log = tmp_path / "runs" / "r" / "requests.jsonl"

    def kill_target_after_a_few_records() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not log.exists() or log.read_bytes().count(b"\n") < 2):
            time.sleep(0.05)
        doomed.stop()

    killer = threading.Thread(target=kill_target_after_a_few_records, daemon=True)
    killer.start()
    load = LoadOptions(health_failures=2, health_interval_s=0.3)
    result = run_load(tmp_path / "c.jsonl", doomed.url, tmp_path / "runs", users=2, spawn_rate=10,
                      duration_s=30, load=load, run_id="r")
    killer.join(timeout=5)
    assert result.aborted is not None
    assert result.aborted["reason"].startswith("target health critical: 2 health checks failed in a row")
    assert result.records == result.sent < 300
    assert any(r["error"] and r["error"]["kind"] == "connect" for r in records(result))


def _cli(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    llmsuite = Path(sys.executable).with_name("llmsuite")
    return subprocess.Popen([str(llmsuite), "run", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_an_error_ratio_abort_stops_the_run_and_exits_8(tmp_path: Path, server: Any) -> None:
    corpus(tmp_path / "c.jsonl", 400, "broken")
    proc = _cli(["-c", "c.jsonl", "-t", server.url, "--run-id", "r", "--out", "runs", "-u", "2",
                 "--abort-error-ratio", "0.5", "--abort-window", "10s", "--abort-min-requests", "5",
                 "--no-analyze"], tmp_path)
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        stop_pid(proc)
    text = out.decode()
    assert proc.returncode == EXIT_RUN_ABORTED, text
    meta = json.loads((tmp_path / "runs" / "r" / "run.json").read_text())
    aborted = meta["extra"]["aborted"]
    assert aborted["reason"].startswith("error ratio 1.00 over the last 10 s")
    assert meta["extra"]["load"]["abort_min_requests"] == 5
    assert "(5 of 5 requests failed)" in aborted["reason"]  # judged from the 5th result on
    assert aborted["at"] > meta["started"]
    lines = (tmp_path / "runs" / "r" / "requests.jsonl").read_bytes().splitlines()
    assert meta["extra"]["sent"] == len(lines) < 400
    assert f"sent {len(lines)}, recorded {len(lines)}" in text
    assert "aborted: error ratio" in text


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_run_with_a_failing_slo_analyzes_and_exits_7(tmp_path: Path, server: Any) -> None:
    corpus(tmp_path / "c.jsonl", 6, "paced")
    (tmp_path / "strict.yaml").write_text('name: strict\nchecks: ["e2e.p95 < 1ms"]\n')
    proc = _cli(["-c", "c.jsonl", "-t", server.url, "--run-id", "r", "--out", "runs", "-u", "2",
                 "--slo", "strict.yaml", "--monitor-interval", "0"], tmp_path)
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        stop_pid(proc)
    assert proc.returncode == EXIT_SLO_FAILED, out.decode()
    summary = json.loads((tmp_path / "runs" / "r" / "summary.json").read_text())
    assert summary["slo"]["passed"] is False
    assert "sent 6, recorded 6" in out.decode()


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
@pytest.mark.parametrize("processes", ["0", "2"])
def test_sigint_mid_run_leaves_a_complete_log(tmp_path: Path, server: Any, processes: str) -> None:
    """Ctrl-C reaches the CLI; Locust (and, with --processes, the workers it forked) stop, the
    requests still in flight are recorded "cancelled", and every shard parses."""
    corpus(tmp_path / "c.jsonl", 300, "slow")
    proc = _cli(["-c", "c.jsonl", "-t", server.url, "--run-id", "r", "--out", "runs", "-u", "4",
                 "--processes", processes, "--no-analyze", "--monitor-interval", "0"], tmp_path)
    run_dir = tmp_path / "runs" / "r"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(
                p.read_bytes().count(b"\n") for p in run_dir.glob("requests*.jsonl")) < 4:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)  # by PID: what Ctrl-C does to the CLI
        out, _ = proc.communicate(timeout=45)
    finally:
        stop_pid(proc)
    assert proc.returncode == 130, out.decode()
    got = [orjson.loads(line) for p in run_dir.glob("requests*.jsonl")
           for line in p.read_bytes().splitlines()]  # every line parses
    meta = json.loads((tmp_path / "runs" / "r" / "run.json").read_text())
    assert meta["extra"]["sent"] == len(got) == len({r["id"] for r in got}) >= 4
    assert f"sent {len(got)}, recorded {len(got)}" in out.decode()


def _get(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as resp:
        return bytes(resp.read())


def _poll(url: str, needle: bytes, done: threading.Event) -> bytes:
    while not done.is_set():
        try:
            body = _get(url)
            if needle in body:
                return body
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never showed {needle!r} while the run was live")


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_prometheus_exporter_and_web_ui_are_live(tmp_path: Path, server: Any) -> None:
    corpus(tmp_path / "c.jsonl", 28, "slow")
    prom, web = free_port(), free_port()
    done = threading.Event()
    box: dict[str, Any] = {}

    def go() -> None:
        try:
            box["result"] = run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=4,
                                     spawn_rate=20, duration_s=20,
                                     load=LoadOptions(prometheus_port=prom, llm_stats=True),
                                     topology=Topology(web=True, web_port=web))
        finally:
            done.set()

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    metrics = _poll(f"http://127.0.0.1:{prom}/metrics", b'llmsuite_ttft_seconds_count{model="slow"', done)
    live = orjson.loads(_poll(f"http://127.0.0.1:{web}/llm/stats", b'"ttft_p50_ms":', done))
    stats = orjson.loads(_poll(f"http://127.0.0.1:{web}/stats/requests", b'"POST"', done))
    thread.join(timeout=60)
    assert b"llmsuite_requests_total{" in metrics
    assert b"llmsuite_in_flight{" in metrics
    assert [r["model"] for r in live["models"]] == ["slow"]
    rows = {(s["method"], s["name"]) for s in stats["stats"]}
    assert rows == {("POST", "slow"), ("", "Aggregated")}  # the LLM figures are not request entries
    assert box["result"].records == box["result"].sent == 28
