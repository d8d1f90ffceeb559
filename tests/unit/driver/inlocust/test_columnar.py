"""The driver's columnar mirror: written beside the JSONL, complete only when every batch made it."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.analyze.read.logread import read_shard
from suite.cachesignal import allowlist
from suite.driver.inlocust.sink import BatchWriter
from suite.logcolumns import mirror_path, read_mirror
from suite.records import RequestRecord


def record(i: int, **fields: object) -> RequestRecord:
    base: dict[str, object] = {"id": f"r{i}", "model": "m", "target": "t", "worker": "w", "user": i,
                               "t_start": 1.0 + i, "itl": [0.01] * (i % 3), "ok": True, "status": 200}
    base.update(fields)
    return RequestRecord(**base)  # type: ignore[arg-type]


def test_the_mirror_holds_what_the_jsonl_holds_in_batches_at_flushes(tmp_path: Path) -> None:
    path = tmp_path / "requests.w0.jsonl"
    writer = BatchWriter(path, batch=4, interval_s=3600, headers=allowlist())
    assert writer.mirror is not None
    writer.mirror.rows = 8
    for i in range(20):
        writer.write(record(i, cache_headers={"x-cache": "HIT"} if i == 3 else None))
    assert read_mirror(mirror_path(path), None).table is None  # not closed: no end marker yet
    writer.close()
    got = read_mirror(mirror_path(path), path.stat().st_size)
    assert got.table is not None, got.why
    assert got.table.num_rows == 20
    assert got.table.column("cache_headers")[3].as_py()["x-cache"] == "HIT"
    assert [b.num_rows for b in got.table.to_batches()] == [8, 8, 4]  # shipped at flushes, then the rest
    assert got.table.column("id").to_pylist() == read_shard(path).column("id").to_pylist()


def test_a_log_that_had_records_before_is_not_mirrored(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b'{"id": "old", "model": "m", "t_start": 1}\n')
    writer = BatchWriter(path, headers=allowlist())
    assert writer.mirror is None
    writer.write(record(1))
    writer.close()
    assert not mirror_path(path).exists()


@pytest.mark.parametrize("value", ["0", "off"])
def test_the_switch_turns_the_mirror_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         value: str) -> None:
    monkeypatch.setenv("LLMSUITE_COLUMNAR_LOG", value)
    writer = BatchWriter(tmp_path / "requests.jsonl", headers=allowlist())
    assert writer.mirror is None
    writer.close()


def test_a_record_the_mirror_cannot_take_costs_the_mirror_not_the_record(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    writer = BatchWriter(path, batch=1, interval_s=3600, headers=allowlist())
    assert writer.mirror is not None
    writer.mirror.rows = 1
    writer.write(record(1))
    writer.write(record(2, status="teapot"))  # outside the contract: the JSON reader refuses it
    writer.write(record(3))
    writer.close()
    assert path.read_bytes().count(b"\n") == 3
    assert writer.mirror.error is not None
    got = read_mirror(mirror_path(path), path.stat().st_size)
    assert got.table is None and "no end marker" in (got.why or "")


def test_no_headers_no_mirror(tmp_path: Path) -> None:
    writer = BatchWriter(tmp_path / "requests.jsonl")
    assert writer.mirror is None
    writer.close()
