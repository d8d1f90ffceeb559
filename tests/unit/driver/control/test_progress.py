"""The live figures of a running load test: tallied from the growing log, ended by the first bound."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from suite.driver.control.progress import (
    LiveSnapshot,
    LogTail,
    estimate,
    fraction,
    panel_lines,
    plain_line,
)


def _rec(i: int, ok: bool = True, ttft: float | None = 0.1, cache: str | None = "miss",
         t: float = 1000.0) -> bytes:
    return orjson.dumps({"id": f"r{i}", "ok": ok, "ttft": ttft, "cache": cache, "t_start": t + i}) + b"\n"


def _snap(**kw: object) -> LiveSnapshot:
    base: dict = dict(recorded=100, ok=98, failed=2, hits=30, misses=68, ttft_p50_ms=212.0,
                      ttft_p95_ms=540.4, sent=None, elapsed_s=10.0, total=2000, duration_s=30.0,
                      sending=True)
    base.update(kw)
    return LiveSnapshot(**base)  # type: ignore[arg-type]


def test_the_duration_bounds_the_estimate_when_it_ends_the_run_first() -> None:
    # 10 requests/s: the corpus of 2000 would need 200 s, the 30 s limit stops it near 300
    est = estimate(100, 2000, 10.0, 30.0)
    assert est.by == "duration" and est.expected == 300 and est.eta_s == pytest.approx(20.0)


def test_the_corpus_bounds_the_estimate_when_it_ends_first() -> None:
    est = estimate(100, 150, 10.0, 60.0)
    assert est.by == "corpus" and est.expected == 150 and est.eta_s == pytest.approx(5.0)


def test_before_any_record_the_pace_and_so_the_eta_are_unknown() -> None:
    assert estimate(0, 2000, 3.0, 30.0).eta_s is None
    assert estimate(2000, 2000, 3.0, 30.0).eta_s == 0.0


def test_the_bar_follows_the_bound_that_ends_the_run() -> None:
    assert fraction(_snap()) == pytest.approx(1 / 3)  # 10 of 30 s, not 100 of 2000 requests
    assert fraction(_snap(total=120, recorded=100)) == pytest.approx(100 / 120)
    assert fraction(_snap(sending=False, recorded=0)) == 0.0
    assert fraction(_snap(finished=True)) == 1.0


def test_panel_lines_say_the_counts_latency_cache_and_which_bound_ends_the_run() -> None:
    timing, counts, figures = panel_lines(_snap())
    assert timing == "0:10 elapsed · ~0:20 left (the duration limit 0:30 ends it before the corpus)"
    assert counts == ("recorded 100 of 2,000 in the corpus · ~300 expected before the duration limit · "
                      "in flight: not counted by a single process")
    assert figures == ("ok 98 · failed 2 (2.0%) · TTFT p50 212 ms · p95 540 ms · "
                       "hit ratio 0.31 (30 of 98)")


def test_panel_lines_show_in_flight_when_sends_are_journalled_and_missing_figures_as_missing() -> None:
    _, counts, figures = panel_lines(_snap(total=120, sent=108, ttft_p50_ms=None, ttft_p95_ms=None,
                                           hits=0, misses=0))
    assert "~" not in counts and counts.endswith("sent 108 · in flight 8")
    assert "TTFT — (no successful streamed request yet)" in figures
    assert "hit ratio — (no hit/miss signal yet)" in figures
    capped = panel_lines(_snap(total=120, capped=True))
    assert capped[0].endswith("(--max-requests is reached before the duration limit 0:30)")
    assert capped[1].startswith("recorded 100 of 120 (--max-requests)")
    timing = panel_lines(_snap(elapsed_s=31.0))[0]
    assert "duration limit 0:30 reached: stopping" in timing


def test_a_multi_host_master_says_it_has_no_live_figures() -> None:
    lines = panel_lines(_snap(remote=True, recorded=0, ok=0, failed=0, hits=0, misses=0))
    assert len(lines) == 2 and "written on the workers' hosts: no live figures here" in lines[1]


def test_the_plain_line_has_no_control_codes() -> None:
    line = plain_line(_snap())
    assert line.startswith("run: 0:10 elapsed") and "\x1b" not in line and "\n" not in line


def test_log_tail_tallies_complete_lines_of_every_shard(tmp_path: Path) -> None:
    now = [1010.0]
    tail = LogTail(tmp_path, total=10, duration_s=60.0, clock=lambda: now[0])
    assert tail.read() == 0 and not tail.snapshot().sending
    (tmp_path / "requests.w0.jsonl").write_bytes(_rec(0) + _rec(1, cache="hit", ttft=0.3) + b'{"id":')
    (tmp_path / "requests.w1.jsonl").write_bytes(_rec(2, ok=False, ttft=None, cache=None))
    assert tail.read() == 3  # the partial line waits until it is complete
    with (tmp_path / "requests.w0.jsonl").open("ab") as fh:
        fh.write(b'"r3","ok":true,"ttft":0.2,"cache":"miss","t_start":1003.0}\n')
    (tmp_path / "sent.w0.ids").write_text("r0\nr1\nr3\nr4\nr5\n")
    assert tail.read() == 4
    snap = tail.snapshot()
    assert (snap.recorded, snap.ok, snap.failed, snap.hits, snap.misses) == (4, 3, 1, 1, 2)
    assert snap.ttft_p50_ms == pytest.approx(200.0) and snap.ttft_p95_ms == pytest.approx(290.0)
    assert snap.elapsed_s == pytest.approx(10.0)  # since the first send, not since Locust started
    assert snap.sent == 5 and snap.in_flight == 1
