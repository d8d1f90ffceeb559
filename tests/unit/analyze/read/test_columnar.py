"""The columnar mirror (requests*.arrows): same table as the JSONL, used only when complete."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from suite.analyze import analyze_run
from suite.analyze.read.columnar import read_preferring_mirrors
from suite.analyze.read.logread import SCHEMA, frame_of, read_shard
from suite.cachesignal import allowlist
from suite.errors import AnalysisError
from suite.logcolumns import (
    CODED,
    CODED_FIELDS,
    TRAILER_KEY,
    MirrorWriter,
    convert_jsonl,
    mirror_path,
    parse_lines,
    read_mirror,
    record_schema,
)
from suite.records import RequestRecord, write_jsonl
from tests.unit.analyze.logs import rec


def varied() -> list[dict[str, Any]]:
    """Every kind of field filled somewhere: gaps, errors, headers, nulls, warm-up, retry_after."""
    return [
        rec(1, stream=True, itl=[0.01, 0.02], ttft=0.1, e2e=0.2, completion_tokens=3, cache="HIT",
            cache_headers={"x-cache": "HIT"}, key="k1", chunks=3, tokens_source="usage"),
        rec(2, ok=False, status=503, error={"kind": "http_5xx", "message": "busy"}, retry_after=2.0,
            e2e=0.05, model="gpt-5-mini", worker="w1"),
        rec(3, warmup=True, e2e=0.3, completion_tokens_tiktoken=7, repeat=True, key="k1"),
        rec(4, e2e=0.4, itl=[], cached_tokens=12, response_id="chatcmpl-4", user=2),
    ]


def log(tmp_path: Path, records: list[dict[str, Any]] | None = None) -> Path:
    path = tmp_path / "requests.jsonl"
    write_jsonl(path, records if records is not None else varied())
    return path


def test_the_mirror_schema_is_the_record_contract() -> None:
    schema = record_schema(allowlist())
    assert schema.names == [f.name for f in dataclasses.fields(RequestRecord)]


def test_a_converted_mirror_reads_as_the_same_table_as_its_jsonl(tmp_path: Path) -> None:
    path = log(tmp_path)
    out, n = convert_jsonl(path, allowlist())
    assert (out, n) == (mirror_path(path), 4)
    table, source = read_preferring_mirrors([path])
    assert source.read == [out] and source.notes == []
    # integer columns stay integers (logread converts them as it copies them out)
    assert table.schema.names == SCHEMA.names and table.schema.field("user").type == pa.int64()
    assert table.cast(SCHEMA).to_pylist() == read_shard(path).to_pylist()
    assert frame_of(table).equals(frame_of(read_shard(path)))


def test_the_mirror_stores_its_few_valued_text_dictionary_encoded(tmp_path: Path) -> None:
    path = log(tmp_path)
    out, _ = convert_jsonl(path, allowlist())
    got = read_mirror(out, path.stat().st_size).table
    assert got is not None
    assert {n: got.schema.field(n).type for n in CODED_FIELDS} == dict.fromkeys(CODED_FIELDS, CODED)
    assert got.schema.field("key").type == pa.string()  # a key per request: nothing to share
    assert got.column("model").to_pylist() == ["gpt-4o", "gpt-5-mini", "gpt-4o", "gpt-4o"]


def test_a_mirror_written_with_plain_text_columns_still_reads_the_same(tmp_path: Path) -> None:
    """Mirrors written before the few-valued columns were encoded hold them as strings."""
    path = log(tmp_path)
    schema = record_schema(allowlist())
    table = parse_lines(path.read_bytes(), schema)
    with mirror_path(path).open("wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
        writer.write_table(table)
        writer.write_batch(pa.RecordBatch.from_pylist([], schema=schema), custom_metadata={
            TRAILER_KEY: b"1", b"records": b"4", b"jsonl_bytes": str(path.stat().st_size).encode()})
    old, source = read_preferring_mirrors([path])
    assert source.read == [mirror_path(path)] and old.schema.field("model").type == pa.string()
    plain_summary = analyze_run(tmp_path)
    convert_jsonl(path, allowlist())
    new, _ = read_preferring_mirrors([path])
    assert new.schema.field("model").type == CODED
    assert frame_of(old).equals(frame_of(new))
    assert orjson.dumps(analyze_run(tmp_path)) == orjson.dumps(plain_summary)


def test_a_mirror_beside_a_jsonl_shard_reads_as_one_table(tmp_path: Path) -> None:
    first = log(tmp_path)
    second = tmp_path / "requests.w1.jsonl"
    write_jsonl(second, varied())
    convert_jsonl(first, allowlist())
    table, source = read_preferring_mirrors([first, second])
    assert source.read == [mirror_path(first), second]
    assert table.schema == SCHEMA
    assert table.to_pylist() == read_shard(first).to_pylist() + read_shard(second).to_pylist()


def test_convert_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = log(tmp_path)
    out, _ = convert_jsonl(path, allowlist())
    got = read_mirror(out, path.stat().st_size).table
    assert got is not None
    back = [{k: v for k, v in row.items() if k != "cache_headers"} for row in got.to_pylist()]
    want = [{k: v for k, v in orjson.loads(line).items() if k != "cache_headers"}
            for line in path.read_bytes().splitlines()]
    assert back == want
    headers = [row["cache_headers"] for row in got.to_pylist()]
    assert headers[0]["x-cache"] == "HIT" and headers[1] is None


def test_a_mirror_cut_short_falls_back_to_the_jsonl_with_a_note(tmp_path: Path) -> None:
    path = log(tmp_path)
    out, _ = convert_jsonl(path, allowlist())
    data = out.read_bytes()
    out.write_bytes(data[: len(data) - 400])  # the end marker (and more) lost, as by a kill
    table, source = read_preferring_mirrors([path])
    assert source.read == [path]
    assert len(source.notes) == 1 and "read requests.jsonl instead" in source.notes[0]
    assert table.to_pylist() == read_shard(path).to_pylist()
    summary = analyze_run(tmp_path)
    assert summary["run"]["log_source"]["format"] == "jsonl"
    assert summary["run"]["log_source"]["notes"] == source.notes


def test_a_mirror_without_end_marker_is_not_used_even_when_cut_at_a_batch(tmp_path: Path) -> None:
    path = log(tmp_path)
    schema = record_schema(allowlist())
    writer = MirrorWriter(mirror_path(path), schema)
    writer.write(parse_lines(path.read_bytes(), schema))
    writer.close(None)  # a whole stream, but no marker: the writer did not finish
    got = read_mirror(mirror_path(path), path.stat().st_size)
    assert got.table is None and "no end marker" in (got.why or "")


def test_a_jsonl_grown_after_the_mirror_closed_is_read_instead(tmp_path: Path) -> None:
    path = log(tmp_path)
    convert_jsonl(path, allowlist())
    with path.open("ab") as fh:
        fh.write(orjson.dumps(rec(9, e2e=0.9)) + b"\n")
    table, source = read_preferring_mirrors([path])
    assert table.num_rows == 5 and source.read == [path]
    assert "changed since" in source.notes[0]


def test_summary_from_the_mirror_equals_the_jsonl_one_but_for_log_source(tmp_path: Path) -> None:
    path = log(tmp_path)
    plain = analyze_run(tmp_path)
    assert "log_source" not in plain["run"]
    convert_jsonl(path, allowlist())
    mirrored = analyze_run(tmp_path)
    source = mirrored["run"].pop("log_source")
    assert source == {"format": "arrow-ipc", "files": [str(mirror_path(path))]}
    assert orjson.dumps(mirrored) == orjson.dumps(plain)


def test_a_mirror_alone_is_read_and_a_bad_one_alone_is_an_error(tmp_path: Path) -> None:
    path = log(tmp_path)
    out, _ = convert_jsonl(path, allowlist())
    path.unlink()
    assert analyze_run(tmp_path)["run"]["log_source"]["files"] == [str(out)]
    out.write_bytes(out.read_bytes()[:-300])
    with pytest.raises(AnalysisError, match="no requests.jsonl to read instead"):
        analyze_run(tmp_path)


def test_convert_names_a_record_that_breaks_the_contract(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b'{"id": "a", "model": "m", "t_start": 1, "status": "two hundred"}\n')
    with pytest.raises(ValueError, match="does not fit the record contract"):
        convert_jsonl(path, allowlist())
    assert not mirror_path(path).exists() and not list(tmp_path.glob("*.tmp"))


def test_mirror_table_converts_empty(tmp_path: Path) -> None:
    path = log(tmp_path, [])
    path.write_bytes(b"")
    out, n = convert_jsonl(path, allowlist())
    got = read_mirror(out, 0)
    assert n == 0 and got.table is not None and got.table.num_rows == 0
    assert isinstance(got.table, pa.Table)


def _resident_kb() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4


def test_released_mirror_pages_read_back_the_same_records(tmp_path: Path) -> None:
    path = log(tmp_path, [rec(i, itl=[0.001 * i] * 64, key=f"k{i}", e2e=0.1 + i) for i in range(1, 4001)])
    out, _ = convert_jsonl(path, allowlist())
    mirror = read_mirror(out, path.stat().st_size)
    assert mirror.table is not None and mirror.release is not None
    before = mirror.table.to_pylist()  # every page read: resident
    mirror.release()  # dropped from the resident set; a read faults them in again from the file
    assert mirror.table.to_pylist() == before
    table, source = read_preferring_mirrors([path])
    source.release()
    assert table.to_pylist() == read_shard(path).to_pylist()


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_releasing_a_mirror_shrinks_the_resident_set(tmp_path: Path) -> None:
    path = log(tmp_path, [rec(i, itl=[0.001 * i] * 512) for i in range(1, 8001)])  # ~33 MB of gaps
    out, _ = convert_jsonl(path, allowlist())
    mirror = read_mirror(out, path.stat().st_size)
    assert mirror.table is not None and mirror.release is not None
    gaps = mirror.table.column("itl")
    total = sum(pa.compute.sum(c.values).as_py() for c in gaps.chunks)  # touch every gap page
    touched = _resident_kb()
    mirror.release()
    assert touched - _resident_kb() > 20_000  # KB: most of the ~33 MB of mapped gaps left the set
    assert sum(pa.compute.sum(c.values).as_py() for c in gaps.chunks) == total
