"""The columnar mirrors of a run's log (suite.logcolumns) → logread's table, or why not.

A mirror is used for a JSONL shard when it is complete (its end marker, its count, and the JSONL
still the size it had); otherwise that shard is read from its JSONL and the reason is kept as a
note for the summary (``run.log_source``). Converting a mirror to logread's ``SCHEMA`` is a few
casts and struct-field picks: no JSON is parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from suite.analyze.read.logread import CACHE_HEADERS, CACHE_HEADERS_TYPE, FLOAT_FIELDS, SCHEMA, read_shard
from suite.errors import AnalysisError
from suite.logcolumns import CODED_FIELDS, SUFFIX, jsonl_path, mirror_path, read_mirror


@dataclass
class LogSource:
    """Which file each shard was read from, and why a mirror present was not used."""

    read: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    releases: list[Callable[[], None]] = field(default_factory=list)

    def release(self) -> None:
        """Drop the pages of the mirrors read so far from the resident set (logcolumns.release_pages):
        called as columns are copied out, so a mirror's pages and their copies do not add up."""
        for release in self.releases:
            release()

    @property
    def columnar(self) -> bool:
        return any(p.name.endswith(SUFFIX) for p in self.read)

    def section(self) -> dict[str, object] | None:
        """``run.log_source`` of the summary; None (no key) when every shard was plain JSONL with
        no mirror beside it, so such a summary keeps its bytes."""
        if not self.columnar and not self.notes:
            return None
        out: dict[str, object] = {"format": "arrow-ipc" if self.columnar else "jsonl",
                                  "files": [str(p) for p in self.read]}
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def to_schema(table: pa.Table, numbers: bool = True) -> pa.Table:
    """A mirror's table (contract types) as logread's ``SCHEMA`` (numbers as float64, the
    cache headers as the struct of ``CACHE_HEADERS``, null where the run did not keep one).
    ``numbers=False`` leaves the integer columns as they are (logread converts them to float64
    as it copies them out, one copy instead of three) and the dictionary-encoded text as it is
    (logread takes its categories as written); the schema is then not ``SCHEMA``."""
    headers = _headers(table.column("cache_headers"))
    cols = [headers if f.name == "cache_headers" else
            table.column(f.name) if not numbers and f.name in (*FLOAT_FIELDS, *CODED_FIELDS) else
            table.column(f.name).cast(f.type) for f in SCHEMA]
    if numbers:
        return pa.Table.from_arrays(cols, schema=SCHEMA)
    return pa.Table.from_arrays(cols, names=SCHEMA.names)


def _headers(held: pa.ChunkedArray) -> pa.ChunkedArray:
    """The mirror's header struct as ``CACHE_HEADERS_TYPE``, chunk by chunk: its own fields and
    nulls reused (no copy), a header it did not keep all null."""
    if held.num_chunks == 0:
        return pa.chunked_array([], CACHE_HEADERS_TYPE)
    have = {f.name for f in held.type}
    chunks = []
    for chunk in held.chunks:
        kids = [chunk.field(name) if name in have else pa.nulls(len(chunk), pa.string())
                for name in CACHE_HEADERS]
        mask = chunk.is_null() if chunk.null_count else None
        chunks.append(pa.StructArray.from_arrays(kids, fields=list(CACHE_HEADERS_TYPE), mask=mask))
    return pa.chunked_array(chunks, CACHE_HEADERS_TYPE)


def read_preferring_mirrors(paths: Sequence[Path]) -> tuple[pa.Table, LogSource]:
    """Each shard from its complete mirror when there is one, else from its JSONL."""
    source = LogSource()
    tables = []
    for path in paths:
        tables.append(_read_one(Path(path), source))
    if any(t.schema != tables[0].schema for t in tables):  # mirrors beside JSONL shards: one schema
        tables = [t.cast(SCHEMA) for t in tables]
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    return table, source


def _read_one(path: Path, source: LogSource) -> pa.Table:
    """A shard from its complete mirror, else from its JSONL (with a note why the mirror was passed
    over); ``path`` may name either file."""
    jsonl, mirror = (jsonl_path(path), path) if path.name.endswith(SUFFIX) else (path, mirror_path(path))
    if mirror.exists():
        got = read_mirror(mirror, jsonl.stat().st_size if jsonl.exists() else None)
        if got.table is not None:
            source.read.append(mirror)
            table = to_schema(got.table, numbers=False)
            if got.release is not None:
                got.release()  # what the casts read; the columns left to copy fault in again
                source.releases.append(got.release)
            return table
        if not jsonl.exists():
            raise AnalysisError(f"{mirror}: {got.why}; and there is no {jsonl.name} to read instead. "
                                "Restore the JSONL log (the mirror is only a copy of it).")
        source.notes.append(f"{got.why}; read {jsonl.name} instead")
    source.read.append(jsonl)
    return read_shard(jsonl)
