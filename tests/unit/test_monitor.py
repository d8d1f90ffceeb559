"""Target monitoring without sockets: Prometheus text parsing, failed scrapes kept as gaps, the
monitor thread with an injected fetch, and the analyzer's reading and chart of the series."""

from __future__ import annotations

import itertools
import time
import urllib.error
from pathlib import Path

import numpy as np
import orjson
import pytest

from suite.analyze import analyze_and_write
from suite.analyze.read.targetmetrics import load_series, target_section
from suite.monitor import MONITOR_FILE, monitor_target, parse_metrics, resolve_interval, sample, series_key
from tests.unit.analyze.logs import cache_log, run_dir

TEXT = """# HELP mock_cache_hits_total Response-cache hits
# TYPE mock_cache_hits_total counter
mock_cache_hits_total 12.0
# TYPE mock_in_flight_requests gauge
mock_in_flight_requests 3.0
# TYPE mock_e2e_seconds histogram
mock_e2e_seconds_bucket{cache="hit",le="0.1",model="gpt-4o"} 2.0
mock_e2e_seconds_count{cache="hit",model="gpt-4o"} 2.0
mock_e2e_seconds_sum{cache="hit",model="gpt-4o"} 0.05
"""


def test_parse_keeps_counters_gauges_sums_and_counts_not_buckets() -> None:
    values = parse_metrics(TEXT)
    assert values == {"mock_cache_hits_total": 12.0, "mock_in_flight_requests": 3.0,
                      'mock_e2e_seconds_count{cache="hit",model="gpt-4o"}': 2.0,
                      'mock_e2e_seconds_sum{cache="hit",model="gpt-4o"}': 0.05}
    assert series_key("x", {"b": "2", "a": "1"}) == 'x{a="1",b="2"}'


def test_a_failed_scrape_is_recorded_not_invented() -> None:
    def down(url: str) -> dict[str, float]:
        raise ConnectionRefusedError(111, "Connection refused")

    line = sample("http://127.0.0.1:9/metrics", clock=lambda: 5.0, fetch=down)
    assert line == {"t": 5.0, "ok": False, "error": "ConnectionRefusedError: [Errno 111] Connection refused",
                    "values": {}}


def test_auto_interval_only_when_the_target_has_metrics() -> None:
    assert resolve_interval("u", None, fetch=lambda url: {"a": 1.0})[0] == 2.0
    off, note = resolve_interval("u", None, fetch=lambda url: {})
    assert off is None
    assert note == "target monitoring off: u exposes no Prometheus samples"
    assert resolve_interval("u", 0.0) == (None, "target monitoring off (--monitor-interval 0)")


def test_a_refused_scrape_says_the_credentials_were_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A guarded /metrics (401/403) is named as such, not as a raw URLError; the run's auth headers
    go with every scrape (the opener is replaced: no socket)."""
    import io
    import urllib.error

    from suite import monitor

    sent: list[dict[str, str]] = []

    def urlopen(request, timeout: float):  # noqa: ANN001, ANN202
        sent.append(dict(request.header_items()))
        raise urllib.error.HTTPError(request.full_url, 401, "Unauthorized", {}, io.BytesIO(b"no"))  # type: ignore[arg-type]

    monkeypatch.setattr(monitor.urllib.request, "urlopen", urlopen)
    line = sample("http://gw/metrics", clock=lambda: 1.0,
                  fetch=lambda url: monitor.scrape(url, headers={"Authorization": "Bearer k"}))
    assert line["ok"] is False
    assert line["error"].startswith("HTTP 401: the target's /metrics refused the run's credentials")
    assert sent == [{"Authorization": "Bearer k"}]
    off, note = resolve_interval("http://gw/metrics", None, fetch=lambda url: monitor.scrape(url))
    assert off is None
    assert note.startswith("target monitoring off: http://gw/metrics: HTTP 401: the target's /metrics "
                           "refused the run's credentials")


def test_monitor_thread_writes_one_line_per_scrape(tmp_path: Path) -> None:
    counter = itertools.count()

    def fetch(url: str) -> dict[str, float]:
        n = next(counter)
        if n == 2:
            raise TimeoutError("timed out")
        return {"mock_cache_hits_total": float(n), "mock_in_flight_requests": 1.0}

    scratch = tmp_path / "scratch.jsonl"
    with monitor_target("http://127.0.0.1:9", 0.01, scratch, fetch=fetch) as mon:
        deadline = time.monotonic() + 10
        while mon.monitor is not None and mon.monitor.samples < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert mon.save_to(tmp_path) == tmp_path / MONITOR_FILE
    lines = [orjson.loads(x) for x in (tmp_path / MONITOR_FILE).read_bytes().splitlines()]
    assert len(lines) >= 4
    assert [x["ok"] for x in lines[:4]] == [True, True, False, True]
    assert lines[2]["error"] == "TimeoutError: timed out"
    assert lines[2]["values"] == {}


def write_series(run: Path) -> None:
    samples = [{"t": 100.0, "ok": True, "error": None, "values": {"mock_cache_hits_total": 0.0}},
               {"t": 102.0, "ok": True, "error": None, "values": {"mock_cache_hits_total": 10.0,
                                                                 "process_resident_memory_bytes": 5e7}},
               {"t": 104.0, "ok": False, "error": "down", "values": {}},
               {"t": 106.0, "ok": True, "error": None, "values": {"mock_cache_hits_total": 30.0}}]
    (run / MONITOR_FILE).write_bytes(b"".join(orjson.dumps(s) + b"\n" for s in samples))


def test_series_rates_with_gaps_left_missing(tmp_path: Path) -> None:
    write_series(tmp_path)
    series = load_series(tmp_path)
    assert series is not None
    hits = series.values["cache hits /s"]
    assert hits[1] == pytest.approx(5.0)
    assert np.isnan(hits[2])
    assert np.isnan(hits[3])  # no rate across a gap
    section = target_section(series)
    assert (section["scrapes"], section["failed"]) == (4, 1)
    assert section["series"]["process RSS (MB)"]["max"] == pytest.approx(50.0)
    assert section["series"]["in-flight requests"] == {"why": "not exposed by the target"}


def test_report_charts_the_target_series(tmp_path: Path) -> None:
    run_dir(tmp_path, cache_log())
    write_series(tmp_path)
    summary, files = analyze_and_write(tmp_path)
    assert "target_metrics.png" in {p.name for p in files}
    assert summary["target_metrics"]["failed"] == 1
    assert "Target monitoring" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_no_series_says_why(tmp_path: Path) -> None:
    assert target_section(load_series(tmp_path))["why"].startswith("no target_metrics.jsonl")


def _raises(exc: BaseException):  # noqa: ANN202
    def fetch(url: str) -> dict[str, float]:
        raise exc

    return fetch


@pytest.mark.parametrize(
    ("exc", "tail"),
    [
        (urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
         "did not answer (connection refused)"),
        (urllib.error.URLError(TimeoutError("timed out")), "did not answer (timed out)"),
        (TimeoutError("timed out"), "did not answer (timed out)"),
        (ValueError("bad\nline 3"), "is not Prometheus text (bad line 3)"),
    ],
)
def test_the_automatic_check_note_is_one_plain_line(exc: BaseException, tail: str) -> None:
    """The note comes before the run's own error about the same target: a side remark in plain
    words, never urllib's nested ``URLError: <urlopen error [Errno 111] ...>``."""
    off, note = resolve_interval("http://127.0.0.1:9/metrics", None, fetch=_raises(exc))
    assert off is None
    assert note == f"target monitoring off: http://127.0.0.1:9/metrics {tail}"
    assert "\n" not in note and "URLError" not in note and "Errno" not in note
