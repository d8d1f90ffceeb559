"""The monitoring stack end to end: Debian's Prometheus, configured from corpora/monitoring, scrapes
a real `llmsuite run --processes 2 --prometheus-port P` against the bundled mock.

- request counts in Prometheus equal the run's records, per worker and summed (each worker's
  series carries its own `worker` label and instance), and the mock's own count agrees;
- every PromQL expression of the Grafana dashboard (variables substituted) returns data;
- every recording rule yields a series; promtool accepts the rules and the generated config.
Loopback only; Prometheus runs on a free port with temp storage and is stopped by PID.
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from suite.records import write_jsonl
from suite.services import free_port, stop_pid
from tests.integration.conftest import REPO, MockServer
from tests.integration.driver.test_locust_run import corpus_line
from tests.integration.monitoring.prom import NO_PROMETHEUS, Prometheus, find_prometheus, start_prometheus

pytestmark = pytest.mark.integration

MONITORING = REPO / "corpora" / "monitoring"
SCRAPE_S = 0.5
SCRAPE = f"{SCRAPE_S * 1000:.0f}ms"  # Prometheus durations are integers with a unit
# Grafana's $__rate_interval is max(4 x scrape interval, step + scrape interval)
VARIABLES = {"$__rate_interval": f"{4 * SCRAPE_S * 1000:.0f}ms", "$model": ".*"}
FAST = {"ttft_base_s": 0.02, "ttft_jitter_s": 0.0, "tokens_per_s": 2000.0,
        "output_tokens": {"median": 8, "spread": 0.0}, "encoding": "o200k_base"}
PROFILES = {"models": {"fast": FAST, "flaky": {**FAST, "faults": {"503": 0.25}}}}
RATE, N = 25.0, 150  # open loop, 6 s of arrivals


def write_load_corpus(path: Path) -> None:
    """Two models; every 4th request from #24 on repeats an earlier one (a cache hit by then)."""
    rows: list[dict[str, Any]] = []
    for i in range(N):
        if i >= 24 and i % 4 == 0:
            row = {**rows[i - 24], "id": f"q{i:03d}", "session": f"s{i}", "repeat_of": rows[i - 24]["id"]}
        else:
            row = corpus_line(i, ("fast", "flaky")[i % 2], f"question {i}", None, max_tokens=8)
        rows.append({**row, "t": i / RATE})
    write_jsonl(path, rows)


def two_free_ports() -> int:
    """P with P+1 free too: worker i of --processes serves its exporter on P+i."""
    for _ in range(50):
        port = free_port()
        try:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port + 1))
        except (OSError, OverflowError):
            continue
        return port
    raise AssertionError("no two adjacent free loopback ports")


def prometheus_config(folder: Path, exporters: list[str], target: str) -> Path:
    """The shipped prometheus.yml and rules.yml, with this run's targets in their file_sd files
    and short intervals (the run lasts seconds)."""
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    config["global"].update(scrape_interval=SCRAPE, scrape_timeout=SCRAPE,
                            evaluation_interval="1s")
    shutil.copy(MONITORING / "rules.yml", folder / "rules.yml")
    (folder / "targets").mkdir()
    listed = {"llmsuite-driver": exporters, "llmsuite-target": [target]}
    for job in config["scrape_configs"]:
        (sd,) = job["file_sd_configs"]
        (name,) = sd["files"]
        (folder / name).write_text(yaml.safe_dump([{"targets": listed.pop(job["job_name"])}]))
    assert not listed, f"prometheus.yml lacks the jobs {sorted(listed)}"
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def prometheus_binary() -> str:
    binary = find_prometheus()
    if binary is None:
        pytest.skip(NO_PROMETHEUS)
    return binary


@pytest.fixture
def started() -> Iterator[list[Prometheus]]:
    procs: list[Prometheus] = []
    yield procs
    for prom in procs:
        prom.stop()


def poll(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """The first truthy check() within timeout, else its last value (the assert then says why)."""
    deadline, value = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    return value


def has_data(result: list[dict[str, Any]]) -> bool:
    return any(not math.isnan(float(v)) for series in result for _, v in series["values"])


def rule_names() -> list[str]:
    rules = yaml.safe_load((MONITORING / "rules.yml").read_text())
    return [rule["record"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[tuple[str, str]]:
    board = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = []
    for panel in board["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for name, value in VARIABLES.items():
                expr = expr.replace(name, value)
            assert "$" not in expr, f"unsubstituted variable in {panel['title']!r}: {expr}"
            exprs.append((panel["title"], expr))
    return exprs


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_prometheus_sees_every_record_of_every_worker_and_the_dashboard_has_data(
        tmp_path: Path, mock_server_factory: Callable[..., MockServer], prometheus_binary: str,
        started: list[Prometheus]) -> None:
    (tmp_path / "profiles.yaml").write_text(yaml.safe_dump(PROFILES))
    mock = mock_server_factory(cache="memory", profiles=tmp_path / "profiles.yaml")
    write_load_corpus(tmp_path / "c.jsonl")
    port = two_free_ports()
    exporters = [f"127.0.0.1:{port}", f"127.0.0.1:{port + 1}"]
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    config = prometheus_config(prom_dir, exporters, mock.url.removeprefix("http://"))
    prom = start_prometheus(prometheus_binary, config, prom_dir)
    started.append(prom)

    t0 = time.time()
    llmsuite = Path(sys.executable).with_name("llmsuite")
    run = subprocess.Popen(
        [str(llmsuite), "run", "-c", "c.jsonl", "-t", mock.url, "--open-loop", "--processes", "2",
         "--prometheus-port", str(port), "--run-id", "r", "--out", "runs", "-d", "30s",
         "--no-analyze", "--monitor-interval", "0"],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out = run.communicate(timeout=45)[0].decode()
    finally:
        stop_pid(run)  # SIGTERM by PID: the CLI stops Locust's process group itself
    assert run.returncode == 0, out
    records = [orjson.loads(line) for p in (tmp_path / "runs" / "r").glob("requests.w*.jsonl")
               for line in p.read_bytes().splitlines()]
    assert len(records) == N, out
    per_worker = Counter(r["worker"] for r in records)
    assert len(per_worker) == 2
    assert any(r.get("error") for r in records) and any(r.get("cache") == "hit" for r in records)

    # counters as last scraped (the exporters are gone: an instant selector would see stale series)
    last = 'last_over_time(llmsuite_requests_total{job="llmsuite-driver"}[5m])'

    def counts_by_worker() -> dict[str, float] | None:
        got = {dict(k)["worker"]: v for k, v in prom.instant(f"sum by (worker) ({last})").items()}
        return got if sum(got.values()) == N else None  # None: not all ingested yet

    by_worker = poll(counts_by_worker)
    assert by_worker == {w: float(n) for w, n in per_worker.items()}, prom.log()
    assert prom.instant(f"sum({last})") == {(): float(N)}
    instances = prom.instant(f"count by (worker, instance) ({last})")
    assert sorted(dict(k)["instance"] for k in instances) == exporters  # one worker per exporter
    assert sorted(dict(k)["worker"] for k in instances) == sorted(per_worker)
    outcomes = Counter((r["model"], (r.get("error") or {}).get("kind", "ok")) for r in records)
    got = prom.instant(f"sum by (model, outcome) ({last})")
    assert {(dict(k)["model"], dict(k)["outcome"]): v for k, v in got.items()} == \
        {k: float(n) for k, n in outcomes.items()}
    # the target's own count: the records plus the pre-flight's one 1-token request per model
    target = prom.instant('sum(mock_requests_total{job="llmsuite-target"})')
    assert target == {(): float(N + len(PROFILES["models"]))}

    end = time.time() + 1
    for title, expr in dashboard_exprs():
        assert has_data(prom.ranged(expr, t0, end, SCRAPE_S)), f"panel {title!r}: no data for {expr}"
    names = rule_names()
    assert len(names) >= 7  # requests/s, TTFT p95, tokens/s, hit ratio, error ratio, in flight, lag
    for name in names:
        assert has_data(prom.ranged(name, t0, end, SCRAPE_S)), f"recording rule {name}: no data"


def test_promtool_accepts_the_rules_and_the_config(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip(NO_PROMETHEUS.replace("prometheus, not found", "promtool (in it), not found"))
    config = prometheus_config(tmp_path, ["127.0.0.1:9464", "127.0.0.1:9465"], "127.0.0.1:8000")
    outputs = []
    for args in (["check", "rules", str(MONITORING / "rules.yml")], ["check", "config", str(config)],
                 ["check", "config", str(MONITORING / "prometheus.yml")]):
        done = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout)
    assert f"SUCCESS: {len(rule_names())} rules found" in outputs[0], outputs[0]


def test_the_dashboard_takes_its_datasource_from_a_variable_and_covers_the_figures() -> None:
    board = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    sources = [p["datasource"] for p in board["panels"]] + \
        [t["datasource"] for p in board["panels"] for t in p["targets"]]
    assert all(s == {"type": "prometheus", "uid": "${datasource}"} for s in sources)
    exprs = " ".join(expr for _, expr in dashboard_exprs())
    for family in ("llmsuite_ttft_seconds_bucket", 'kind="completion"', 'status="hit"', "outcome",
                   "llmsuite_in_flight", "llmsuite_schedule_lag_seconds_bucket"):
        assert family in exprs, family
