"""--web-keep: the run counts as over once every process finalised its meta and flushed its records."""

from __future__ import annotations

from pathlib import Path

import orjson

from suite.driver.control.webkeep import settled


def _meta(path: Path, final: bool, records: int | None = None, shard: int | None = None) -> None:
    extra: dict = {"final": final}
    if records is not None:
        extra["records"] = records
    if shard is not None:
        extra["shard"] = {"index": shard, "count": 2}
    path.write_bytes(orjson.dumps({"extra": extra}))


def test_a_standalone_run_settles_when_final_and_every_record_is_on_disk(tmp_path: Path) -> None:
    meta = tmp_path / "run.json"
    assert not settled(tmp_path, meta)  # not written yet
    _meta(meta, final=False, records=2)
    (tmp_path / "requests.jsonl").write_bytes(b'{"id":"a"}\n{"id":"b"}\n')
    assert not settled(tmp_path, meta)  # still running
    _meta(meta, final=True, records=3)
    assert not settled(tmp_path, meta)  # the third record is not flushed yet
    with (tmp_path / "requests.jsonl").open("ab") as fh:
        fh.write(b'{"id":"c"}\n')
    assert settled(tmp_path, meta)


def test_a_distributed_run_waits_for_every_worker(tmp_path: Path) -> None:
    meta = tmp_path / "run.json"
    _meta(meta, final=True, records=0)
    _meta(tmp_path / "run.w0.json", final=True, records=1, shard=0)
    _meta(tmp_path / "run.w1.json", final=False, records=1, shard=1)
    (tmp_path / "requests.w0.jsonl").write_bytes(b'{"id":"a"}\n')
    (tmp_path / "requests.w1.jsonl").write_bytes(b'{"id":"b"}\n')
    assert not settled(tmp_path, meta)
    _meta(tmp_path / "run.w1.json", final=True, records=1, shard=1)
    assert settled(tmp_path, meta)


def test_lines_are_counted_from_where_the_last_poll_stopped(tmp_path: Path) -> None:
    from suite.driver.control.webkeep import _lines

    log = tmp_path / "requests.jsonl"
    assert _lines(log) == 0  # not there yet
    log.write_bytes(b"a\nb\npartial")
    assert _lines(log) == 2
    with log.open("ab") as fh:
        fh.write(b" line\nc\n")
    assert _lines(log) == 4  # only the appended bytes were read, the half line completed
    log.write_bytes(b"x\n")  # replaced by a shorter file: counted again from the start
    assert _lines(log) == 1
