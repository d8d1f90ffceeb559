"""The request log's columnar mirror: Arrow IPC (stream format) beside each JSONL shard.

JSONL stays the log of record (it streams, is greppable, survives a crash line by line); the
mirror ``requests[.wN].arrows`` holds the same records with the contract's types (``record_schema``,
one column per ``RequestRecord`` field) so a big run is read without parsing JSON.

Why a trailer and not a record count: a stream cut by a crash at a batch boundary reads back
without error, so completeness cannot be inferred from the stream itself. The writer's last
message is an empty batch whose metadata says "complete", how many records the stream holds and
how many bytes the JSONL it mirrors had; a mirror without it, or whose JSONL has changed size
since, is not used (the reader falls back to the JSONL and says why).
"""

from __future__ import annotations

import io
import mmap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.json as pj

SUFFIX = ".arrows"
TRAILER_KEY = b"llmsuite.complete"
_INT = pa.int64()
_F64 = pa.float64()
_STR = pa.string()
_BOOL = pa.bool_()
ERROR_TYPE = pa.struct([("kind", _STR), ("message", _STR)])
SCHEMA_META = {b"llmsuite.schema": b"llmsuite.requests/1"}
# text fields with a handful of distinct values in a run: the mirror holds them dictionary-encoded
# (Arrow's encoding of the same strings: each batch's few distinct values, one small integer per
# row), so the analyzer takes their categories as written instead of hashing a string per row
# (~0.1 s of the load at 1M records). A reader sees the same values; casting to string decodes.
CODED_FIELDS = ("model", "target", "worker", "tokens_source", "cache")
CODED = pa.dictionary(pa.int32(), _STR)


def headers_type(names: Sequence[str]) -> pa.StructType:
    """``cache_headers`` as a struct of the run's allow-list (the only names a record can keep;
    null = not received); a struct, not a map, so the JSON reader fills it and reads stay columnar."""
    return pa.struct([(n, _STR) for n in dict.fromkeys(names)] or [("_", _STR)])


def record_schema(headers: Sequence[str]) -> pa.Schema:
    """RequestRecord's fields in declaration order with their contract types (a unit test compares
    the two); ``headers``: the run's cache-header allow-list (run.json extra.cache_headers)."""
    return pa.schema([
        ("id", _STR), ("model", _STR), ("target", _STR), ("worker", _STR), ("user", _INT),
        ("t_start", _F64), ("scheduled", _F64), ("ttft", _F64), ("e2e", _F64), ("itl", pa.list_(_F64)),
        ("prompt_tokens", _INT), ("completion_tokens", _INT), ("tokens_source", _STR), ("status", _INT),
        ("ok", _BOOL), ("error", ERROR_TYPE), ("cache", _STR), ("cached_tokens", _INT),
        ("response_id", _STR), ("repeat", _BOOL), ("stream", _BOOL),
        ("completion_tokens_tiktoken", _INT), ("chunks", _INT), ("warmup", _BOOL),
        ("retry_after", _F64), ("cache_headers", headers_type(headers)), ("key", _STR),
    ], metadata=SCHEMA_META)


def mirror_schema(schema: pa.Schema) -> pa.Schema:
    """``record_schema``'s as the mirror stores it: ``CODED_FIELDS`` dictionary-encoded."""
    for name in CODED_FIELDS:
        i = schema.get_field_index(name)
        schema = schema.set(i, schema.field(i).with_type(CODED))
    return schema


def same_shape(schema: pa.Schema) -> bool:
    """Whether ``schema`` is a mirror's (any allow-list): every other field name and type equal
    (``CODED_FIELDS`` encoded or, in a mirror written before they were, plain strings)."""
    want = record_schema(())
    if schema.names != want.names:
        return False
    return all(schema.field(n).type == want.field(n).type
               or (n in CODED_FIELDS and schema.field(n).type == CODED)
               for n in want.names if n != "cache_headers")


def mirror_path(jsonl: Path) -> Path:
    """``requests.w0.jsonl`` → ``requests.w0.arrows`` (same folder, same shard name)."""
    return jsonl.with_name(jsonl.name.removesuffix(".jsonl") + SUFFIX)


def jsonl_path(mirror: Path) -> Path:
    return mirror.with_name(mirror.name.removesuffix(SUFFIX) + ".jsonl")


def parse_lines(data: bytes, schema: pa.Schema) -> pa.Table:
    """JSONL bytes (whole lines) → a table of ``schema``, parsed in C++ (the GIL released), so a
    driver hands it to a thread instead of converting records in Python on its hot path."""
    if not data:
        return schema.empty_table()
    opts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    table = pj.read_json(io.BytesIO(data), read_options=_one_block(len(data)), parse_options=opts)
    return table.select(schema.names).cast(schema)


def _one_block(size: int) -> pj.ReadOptions:
    return pj.ReadOptions(use_threads=False, block_size=max(size + 1, 1 << 16))


class MirrorWriter:
    """Appends batches to a ``.arrows`` stream; ``close(jsonl_bytes)`` writes the trailer. Tables
    come in ``record_schema``'s types and are stored in ``mirror_schema``'s (a batch's dictionaries
    are its own: the stream format carries a new one whenever it changes)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = mirror_schema(schema)
        self.records = 0
        self._sink: BinaryIO | None = path.open("wb")
        self._writer: pa.ipc.RecordBatchStreamWriter | None = pa.ipc.new_stream(self._sink, self.schema)

    def write(self, table: pa.Table) -> None:
        if self._writer is None or self._sink is None:
            raise ValueError(f"{self.path}: mirror is closed")
        for batch in table.cast(self.schema).to_batches():
            self._writer.write_batch(batch)
        self._sink.flush()  # the batch reaches the OS as soon as it is written
        self.records += table.num_rows

    def close(self, jsonl_bytes: int | None) -> None:
        """End the stream; with ``jsonl_bytes`` (the mirrored JSONL's size) it is marked complete,
        without it (the mirror failed or lost a batch) it is left unmarked, so never used."""
        if self._writer is None or self._sink is None:
            return
        if jsonl_bytes is not None:
            meta = {TRAILER_KEY: b"1", b"records": str(self.records).encode(),
                    b"jsonl_bytes": str(jsonl_bytes).encode()}
            empty = pa.RecordBatch.from_pylist([], schema=self.schema)
            self._writer.write_batch(empty, custom_metadata=meta)
        self._writer.close()
        self._sink.close()
        self._writer = self._sink = None


@dataclass
class Mirror:
    """A mirror as read: its table when complete, else why it cannot be used."""

    path: Path
    table: pa.Table | None
    why: str | None = None
    # drops the mapped pages this process has read from its page table (``release_pages``)
    release: Callable[[], None] | None = None


def read_mirror(path: Path, jsonl_bytes: int | None) -> Mirror:
    """The mirror's records if its trailer says complete, its count matches and (when the JSONL
    it mirrors exists, ``jsonl_bytes``) that JSONL still has the size it had when the mirror closed."""
    batches: list[pa.RecordBatch] = []
    trailer: dict[bytes, bytes] | None = None
    try:
        # mapped, not read: batches point into the page cache (the map lives as long as they do)
        mapped = _map(path)
        with pa.ipc.open_stream(pa.py_buffer(mapped)) as reader:
            if not same_shape(reader.schema):
                return Mirror(path, None, f"{path.name} has another schema (written by another version)")
            reader_schema = reader.schema
            while True:
                try:
                    batch, meta = reader.read_next_batch_with_custom_metadata()
                except StopIteration:
                    break
                if meta is not None and TRAILER_KEY in meta:
                    trailer = dict(meta)
                    break
                batches.append(batch)
    except (pa.ArrowInvalid, OSError, ValueError) as exc:  # ValueError: mmap of an empty file
        return Mirror(path, None, f"{path.name} is unreadable or cut short ({exc})")
    if trailer is None:
        return Mirror(path, None, f"{path.name} has no end marker (the writer did not close it: "
                                  "a crash or a kill)")
    rows = sum(b.num_rows for b in batches)
    if rows != int(trailer[b"records"]):
        said = int(trailer[b"records"])
        return Mirror(path, None, f"{path.name} holds {rows} records, its marker says {said}")
    if jsonl_bytes is not None and jsonl_bytes != int(trailer[b"jsonl_bytes"]):
        return Mirror(path, None, f"{jsonl_path(path).name} changed since {path.name} was written "
                                  f"({jsonl_bytes} bytes now, {int(trailer[b'jsonl_bytes'])} then)")
    return Mirror(path, pa.Table.from_batches(batches, schema=reader_schema),
                  release=lambda: release_pages(mapped))


def _map(path: Path) -> mmap.mmap:
    with path.open("rb") as fh:
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def release_pages(mapped: mmap.mmap) -> None:
    """Drop every page of the map from this process's resident set. The data stays valid: a mirror
    is never written once complete, so a later read faults the page in again from the page cache.
    Why: a 10M-record mirror is ~4 GB; once its columns are copied into the analyzer's arrays,
    keeping the pages read counts them twice in the peak RSS. (No-op where madvise is missing.)"""
    advise = getattr(mapped, "madvise", None)
    flag = getattr(mmap, "MADV_DONTNEED", None)
    if advise is not None and flag is not None and not mapped.closed:
        advise(flag)


def convert_jsonl(jsonl: Path, headers: Sequence[str]) -> tuple[Path, int]:
    """Write the complete mirror of an existing JSONL log (streamed: memory stays bounded);
    returns its path and record count. Written beside under a temporary name, then renamed, so
    an interrupted convert leaves no half mirror under the real name. A line the JSON reader
    refuses is a ``ValueError`` (``llmsuite analyze`` on the JSONL names the line)."""
    schema = record_schema(headers)
    size = jsonl.stat().st_size
    out = mirror_path(jsonl)
    tmp = out.with_name(out.name + ".tmp")
    writer = MirrorWriter(tmp, schema)
    try:
        opts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        reader = (pj.open_json(jsonl, read_options=pj.ReadOptions(block_size=16 << 20), parse_options=opts)
                  if size else ())  # the streaming reader refuses an empty file
        for batch in reader:
            writer.write(pa.Table.from_batches([batch]).select(schema.names).cast(schema))
    except pa.ArrowInvalid as exc:
        writer.close(None)
        tmp.unlink(missing_ok=True)
        raise ValueError(f"{jsonl}: a line does not fit the record contract ({exc})") from None
    except BaseException:
        writer.close(None)
        tmp.unlink(missing_ok=True)
        raise
    writer.close(size)
    tmp.replace(out)
    return out, writer.records
