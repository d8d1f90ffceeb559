"""After a run: line counting for progress, and every shard checked and merged."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from suite.driver.control.collect import collect, merge_into_meta
from suite.driver.control.runner import (
    LineCounter,
    LogCounter,
)


def _write(path: Path, rows: list[dict]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def test_line_counter_counts_only_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    counter = LineCounter(path)
    assert counter.count() == 0  # not created yet
    path.write_bytes(b'{"id":"a"}\n{"id":')
    assert counter.count() == 1
    with path.open("ab") as fh:
        fh.write(b'"b"}\n{"id":"c"}\n')
    assert counter.count() == 3


def test_log_counter_sums_every_shard(tmp_path: Path) -> None:
    counter = LogCounter(tmp_path)
    (tmp_path / "requests.w0.jsonl").write_bytes(b'{"id":"a"}\n')
    assert counter.count() == 1
    (tmp_path / "requests.w1.jsonl").write_bytes(b'{"id":"b"}\n{"id":"c"}\n')
    assert counter.count() == 3


def test_collect_checks_rule_1_over_all_shards_and_merges_counts(tmp_path: Path) -> None:
    _write(tmp_path / "requests.w0.jsonl", [{"id": "a", "t_start": 10.0, "scheduled": 10.0}])
    _write(tmp_path / "requests.w1.jsonl", [{"id": "b", "t_start": 10.2, "scheduled": 10.1},
                                            {"id": "a", "t_start": 11.0, "scheduled": 11.0}])
    for i, sent in enumerate((1, 2)):
        (tmp_path / f"run.w{i}.json").write_bytes(orjson.dumps(
            {"extra": {"sent": sent, "records": sent, "final": True, "shard": {"index": i},
                       "open_loop": {"overflow": i}}}))
    meta = {"extra": {"final": True, "load": {"mode": "open"}}}
    got = collect(tmp_path, meta, {"a", "b"}, lag_warn_ms=50.0)
    assert got.check.records == got.check.sent == 3
    assert got.check.duplicate_ids == ["a"]
    assert not got.check.complete
    assert got.final
    merged = merge_into_meta(meta, got)["extra"]
    assert merged["sent"] == 3
    assert [w["sent"] for w in merged["workers"]] == [1, 2]
    assert merged["log_files"] == ["requests.w0.jsonl", "requests.w1.jsonl"]
    assert merged["open_loop"]["lag_max_ms"] == pytest.approx(100.0)
    assert merged["open_loop"]["overflow"] == 1
    assert len(merged["warnings"]) == 1  # p99 100 ms > 50 ms


def test_partial_mark_names_the_signal_and_each_lost_worker_with_its_in_flight_ids() -> None:
    from suite.driver.control.collect import partial_mark

    lost = [{"index": 1, "worker": "h:42", "records": 7, "sent": 9, "in_flight": 2,
             "in_flight_ids": ["q3", "q8"], "noticed_at": 5.0}]
    mark = partial_mark({"signal": "SIGTERM", "at": 1.0}, lost)
    assert mark == {
        "reason": "interrupted by SIGTERM: the log holds the requests sent before the run was stopped; "
                  "worker 1 (h:42) died mid-run with 2 request(s) in flight (q3, q8), sent but never "
                  "recorded; its 7 flushed record(s) are kept and its unsent share was not replayed",
        "interrupted": {"signal": "SIGTERM", "at": 1.0}, "lost_workers": lost}
    assert partial_mark(None, []) is None  # a complete run has no mark (its summary keeps its bytes)


def test_a_lost_worker_counts_what_it_flushed_and_its_journal_names_in_flight(tmp_path: Path) -> None:
    (tmp_path / "requests.w0.jsonl").write_bytes(b'{"id": "a"}\n{"id": "b"}\n')
    (tmp_path / "run.w0.json").write_text('{"extra": {"shard": {"index": 0}, "worker": "h:1", "sent": 0}}')
    (tmp_path / "sent.w0.ids").write_text("a\nb\nc\n")
    got = collect(tmp_path, {"extra": {}}, {"a", "b", "c"}, 100.0)
    assert got.check.complete and got.check.sent == got.check.records == 2  # not the stale "sent 0"
    assert got.lost == [{"index": 0, "worker": "h:1", "records": 2, "sent": 3, "in_flight": 1,
                         "in_flight_ids": ["c"], "noticed_at": None}]
    assert not (tmp_path / "sent.w0.ids").exists()
