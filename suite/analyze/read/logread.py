"""Request-log shards → one Arrow table with a fixed schema, then typed pandas columns + ITL gaps.

Fast path: pyarrow's JSON reader with an explicit schema (C++, blocks parsed on every core). When it
refuses a file (a malformed line, a field of the wrong type, an ``itl`` summary instead of a list)
the file is read again line by line with orjson, which finds the line or field at fault and names
it — or, for legal but unusual shapes, builds the same table.

Invariant: ``itl`` never becomes Python lists per row; its gaps stay float64 in the table's own
buffers, one segment per chunk, with per-row counts (suite.analyze.read.gaps).
Warm-up rows are dropped column by column while converting (``keep``), never by ``Table.filter``,
which would copy every column, the millions of gaps included, only to convert them again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from suite.analyze.read.gaps import Gaps, Segment
from suite.cachesignal import allowlist
from suite.errors import AnalysisError

FLOAT_FIELDS = ("t_start", "scheduled", "ttft", "e2e", "prompt_tokens", "completion_tokens",
                "completion_tokens_tiktoken", "cached_tokens", "status", "user", "chunks")
# ``key``: the corpus request's key (absent from logs written before it: then null on every row),
# a category so a repeat's earlier copies are found by integer codes, not string compares
CATEGORY_FIELDS = ("model", "target", "worker", "tokens_source", "cache", "key")
STRING_FIELDS = ("id", "response_id")
FLAG_FIELDS = ("repeat", "stream", "warmup", "ok")
REQUIRED_FIELDS = ("id", "model", "t_start")
ERROR_TYPE = pa.struct([("kind", pa.string()), ("message", pa.string())])
# the recorded cache headers ``auto`` reads (every preset's and the common ones): parsed in the same
# pass, for naming the signal found and re-attributing (suite.analyze.summarize.cachesignal); a
# header outside this list (a custom rule's) is read by a second pass, only when asked for
CACHE_HEADERS = allowlist()
CACHE_HEADERS_TYPE = pa.struct([(n, pa.string()) for n in CACHE_HEADERS])
SCHEMA = pa.schema([
    *((n, pa.float64()) for n in FLOAT_FIELDS),
    *((n, pa.string()) for n in (*CATEGORY_FIELDS, *STRING_FIELDS)),
    *((n, pa.bool_()) for n in FLAG_FIELDS),
    ("itl", pa.list_(pa.float64())),
    ("error", ERROR_TYPE),
    ("cache_headers", CACHE_HEADERS_TYPE),
])
_PARSE = pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore")
# whole-file, multi-threaded read: on 2 cores about half the wall time of the streaming reader; it
# holds ~200 MB more while reading a 1M-record log, below the peak reached later (~1.2 GB in all)
_READ = pj.ReadOptions(block_size=4 << 20, use_threads=True)


# --- reading -------------------------------------------------------------------------------------


def read_shard(path: Path) -> pa.Table:
    """One JSONL shard as a table of ``SCHEMA``; any refusal is retried on the slow, naming path."""
    try:
        # the system allocator, not Arrow's default mimalloc: the reader's many short-lived block
        # buffers are then reused in place instead of purged and faulted in again (far less system
        # time on large logs, measured by bench/bench_analyze.py; the table is the same)
        table = pj.read_json(path, read_options=_READ, parse_options=_PARSE,
                             memory_pool=pa.system_memory_pool())
    except FileNotFoundError:
        raise AnalysisError(f"{path}: no request log here. Run a load test first (llmsuite run ...) or "
                            "point at a run directory that contains requests.jsonl.") from None
    except pa.ArrowInvalid:
        return slow_table(path)
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot read the request log ({exc}).") from None
    return table.cast(SCHEMA) if table.schema != SCHEMA else table


def _parse_line(path: Path, lineno: int, line: bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise AnalysisError(f"{path}:{lineno}: not valid JSON ({exc}). Fix or remove the line.") from None
    if not isinstance(obj, dict):
        raise AnalysisError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}.")
    return obj


def parse_records(path: Path) -> tuple[list[int], list[dict[str, Any]]]:
    """Line numbers and objects of every non-blank line; a bad line is an AnalysisError naming it."""
    lines = path.read_bytes().split(b"\n")
    numbered = [(n, _parse_line(path, n, line)) for n, line in enumerate(lines, start=1) if line.strip()]
    return [n for n, _ in numbered], [obj for _, obj in numbered]


def _need(name: str) -> str:
    if name in FLOAT_FIELDS:
        return "a number or null"
    return "true, false or null" if name in FLAG_FIELDS else "a string or null"


def _check_type(path: Path, linenos: list[int], name: str, values: Sequence[Any], ok: Any) -> None:
    for lineno, v in zip(linenos, values, strict=True):
        if v is not None and not ok(v):
            raise AnalysisError(f"{path}:{lineno}: field {name!r} holds {v!r}; it must be {_need(name)}.")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def slow_table(path: Path) -> pa.Table:
    """The same table built from orjson-parsed records; every refusal names file, line and field."""
    linenos, rows = parse_records(path)
    cols: dict[str, Any] = {}
    for name in FLOAT_FIELDS:
        cols[name] = [row.get(name) for row in rows]
        _check_type(path, linenos, name, cols[name], _is_number)
    for name in (*CATEGORY_FIELDS, *STRING_FIELDS):
        cols[name] = [row.get(name) for row in rows]
        _check_type(path, linenos, name, cols[name], lambda v: isinstance(v, str))
    for name in FLAG_FIELDS:
        cols[name] = [row.get(name) for row in rows]
        _check_type(path, linenos, name, cols[name], lambda v: isinstance(v, bool))
    cols["itl"] = [_gaps(path, lineno, row.get("itl")) for lineno, row in zip(linenos, rows, strict=True)]
    cols["error"] = [_error(row.get("error")) for row in rows]
    cols["cache_headers"] = [_cache_headers(row.get("cache_headers")) for row in rows]
    return pa.table({n: pa.array(cols[n], type=SCHEMA.field(n).type) for n in SCHEMA.names})


def _gaps(path: Path, lineno: int, value: Any) -> list[float | None] | None:
    """A list of gaps (null inside stays null); a summary dict holds no gaps we can pool."""
    if not isinstance(value, list):
        return None
    bad = next((g for g in value if g is not None and not _is_number(g)), None)
    if bad is not None:
        raise AnalysisError(f"{path}:{lineno}: field 'itl' holds {bad!r}; inter-token gaps must be numbers "
                            "(seconds).")
    return value


def _error(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {k: None if value.get(k) is None else str(value.get(k)) for k in ("kind", "message")}


def _cache_headers(value: Any) -> dict[str, str | None] | None:
    if not isinstance(value, dict):
        return None
    return {n: v if isinstance(v := value.get(n), str) else None for n in CACHE_HEADERS}


def cache_headers_of(table: pa.Table, keep: np.ndarray | None = None) -> pa.StructArray:
    """The recorded cache headers of the rows in ``keep`` (a struct of ``CACHE_HEADERS``). A header
    no row carries (most of the allow-list, on any one target) is one shared all-null array: each
    would otherwise hold its own buffer of zero offsets, 40 MB at 10M records."""
    col = table.column("cache_headers").combine_chunks()
    col = col if keep is None else col.filter(pa.array(keep, type=pa.bool_()))
    kids = col.flatten()  # the fields with the struct's own nulls applied
    if not any(kid.null_count == len(kid) for kid in kids):
        return col
    none = pa.nulls(len(col), pa.string())
    kids = [none if kid.null_count == len(kid) else kid for kid in kids]
    mask = col.is_null() if col.null_count else None
    return pa.StructArray.from_arrays(kids, fields=list(col.type), mask=mask)


def read_shards(paths: Sequence[Path]) -> pa.Table:
    tables = [read_shard(p) for p in paths]
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


# --- table → frame -------------------------------------------------------------------------------


def check_required(where: str, table: pa.Table) -> None:
    """Every record has id, model and t_start; the first one lacking any is named."""
    for name in REQUIRED_FIELDS:
        nulls = table.column(name).null_count
        if nulls:
            i = int(np.flatnonzero(table.column(name).is_null().to_numpy(zero_copy_only=False))[0])
            missing = [n for n in REQUIRED_FIELDS if table.column(n)[i].as_py() is None]
            raise AnalysisError(
                f"{where}: record {i + 1} (id {table.column('id')[i].as_py()!r}) lacks {', '.join(missing)}; "
                "every record needs id, model and t_start. Was it written by llmsuite's driver?")


def _category(col: pa.ChunkedArray | pa.Array) -> pd.Categorical:
    """Codes plus categories of pandas's default text dtype (what a list of ``str`` becomes)."""
    encoded = (col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col).dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int32)
    return pd.Categorical.from_codes(codes, dtype=_categories(encoded.dictionary), validate=False)


def _coded(col: pa.ChunkedArray, keep: np.ndarray | None, lower: bool = False) -> pd.Categorical:
    """``_category`` of a dictionary-encoded column (a mirror's ``CODED_FIELDS``) without hashing a
    string per row: the batches' small dictionaries are unified and the rows keep their integer
    codes. The same categorical as ``_category`` of the decoded strings: categories in order of
    first appearance among the kept rows, none without a row (``lower``: values lower-cased,
    "HIT" and "hit" one category)."""
    unified = col.unify_dictionaries()
    size = len(col) if keep is None else int(np.count_nonzero(keep))
    codes = np.empty(size, dtype=np.int32)
    pos = row = 0
    for chunk in unified.chunks:
        indices = chunk.indices
        got = (pc.fill_null(indices, -1) if indices.null_count else indices).to_numpy()
        if keep is not None:
            got = got[keep[row:row + len(chunk)]]
        row += len(chunk)
        codes[pos:pos + got.size] = got
        pos += got.size
    dictionary = unified.chunk(0).dictionary if unified.num_chunks else pa.array([], pa.string())
    if lower:
        dictionary = pc.utf8_lower(dictionary)
    # the dictionary's values (lowered ones may repeat) → the distinct values in order of first
    # appearance among the kept rows, as dictionary_encode of the strings would number them
    distinct = dictionary.dictionary_encode()
    values = distinct.dictionary
    if len(values) < len(dictionary):  # -1 (null) stays -1
        codes = np.append(distinct.indices.to_numpy(zero_copy_only=False).astype(np.int32), -1)[codes]
    order = _first_seen(codes, int(np.count_nonzero(np.bincount(codes + 1, minlength=1)[1:])))
    if not np.array_equal(order, np.arange(len(values))):  # else the codes are already these
        renumber = np.full(len(values) + 1, -1, dtype=np.int32)
        renumber[order] = np.arange(order.size, dtype=np.int32)
        codes = renumber[codes]  # renumber[-1] is the -1 at the end
    return pd.Categorical.from_codes(codes, dtype=_categories(values.take(pa.array(order))),
                                     validate=False)


def _first_seen(codes: np.ndarray, distinct: int, block: int = 1 << 16) -> np.ndarray:
    """The distinct non-negative values of ``codes`` (``distinct`` of them) in order of first
    appearance, read a block at a time: a run's few models or targets all show up in its first rows."""
    found: dict[int, int] = {}
    for start in range(0, codes.size, block):
        if len(found) == distinct:
            break
        part = codes[start:start + block]
        values, first = np.unique(part[part >= 0], return_index=True)
        new = [(int(f), int(v)) for v, f in zip(values, first, strict=True) if int(v) not in found]
        for _, v in sorted(new):
            found[v] = len(found)
    return np.fromiter(found, dtype=np.int64, count=len(found))


_TEXT = pd.Index(["x"]).dtype  # pandas 3: "str" (Arrow-backed); pandas 2: object
_FASTPATH = getattr(pd.CategoricalDtype, "_from_fastpath", None)


def _categories(dictionary: pa.Array) -> pd.CategoricalDtype:
    """The dtype of ``dictionary``'s distinct strings, built without a Python object per string
    where pandas's text dtype is Arrow-backed, and without pandas re-checking that Arrow's
    dictionary is unique (at 1M records, ~450k corpus keys: 0.85 s → 0.25 s)."""
    if isinstance(_TEXT, pd.StringDtype):
        cats = pd.Index(pd.array(dictionary, dtype=_TEXT))
    else:
        cats = pd.Index(dictionary.to_pylist(), dtype=_TEXT)
    return _FASTPATH(cats, False) if _FASTPATH is not None else pd.CategoricalDtype(cats)


def _numpy(col: pa.ChunkedArray, keep: np.ndarray | None) -> np.ndarray:
    """float64 with NaN for null (an integer column of a mirror is converted here), or bool; the
    kept rows of each chunk copied straight into one array: no cast, concatenation or filter of
    the whole column first (each a copy: ~0.6 s of 11 columns at 1M records)."""
    dtype = np.bool_ if pa.types.is_boolean(col.type) else np.float64
    out = np.empty(len(col) if keep is None else int(np.count_nonzero(keep)), dtype=dtype)
    pos = row = 0
    for chunk in col.chunks:
        values = chunk.to_numpy(zero_copy_only=False)  # nulls: float64 NaN (ints too)
        if keep is not None:
            values = values[keep[row:row + len(chunk)]]
        row += len(chunk)
        out[pos:pos + values.size] = values
        pos += values.size
    return out


def _flag(col: pa.ChunkedArray, keep: np.ndarray | None) -> pd.arrays.BooleanArray:
    """A nullable boolean column (null stays <NA>) built from two numpy masks, no per-row objects."""
    values = _numpy(pc.fill_null(col, False), keep)
    nulls = _numpy(col.is_null(), keep)
    return pd.arrays.BooleanArray(values, nulls)


def gaps_of(table: pa.Table, keep: np.ndarray | None = None,
            release: Callable[[], None] | None = None) -> Gaps:
    """The gaps of the ``itl`` column (of the rows in ``keep``, when given), left in the table's
    buffers: one segment per chunk, no copy unless a list holds a null (then that chunk's values
    are copied with NaN in its place). ``release``: a mapped mirror's (suite.analyze.read.gaps)."""
    segments, row = [], 0
    for chunk in table.column("itl").chunks:
        offsets = np.asarray(chunk.offsets, dtype=np.int64)
        values = chunk.values.to_numpy(zero_copy_only=False)[offsets[0]:offsets[-1]]
        rows = None if keep is None else keep[row:row + len(chunk)]
        row += len(chunk)
        segments.append(Segment(values, np.diff(offsets), None if rows is None or rows.all() else rows))
    return Gaps.of(segments, release)


def frame_of(table: pa.Table, keep: np.ndarray | None = None,
             release: Callable[[], None] | None = None,
             pool: Executor | None = None) -> pd.DataFrame:
    """Typed columns: float64 (NaN = not measured), categories, Arrow strings, nullable flags; only
    the rows in ``keep`` (a boolean mask over the table's rows) when it is given. ``release`` (a
    mapped mirror's) is called after each column this thread copies out, and at the end. ``pool``:
    a thread that builds the key categories and filters the strings (Arrow's hashing and copies,
    with the GIL released) while this thread does the rest."""
    return frame_parts(table, keep, release, pool)()


def frame_parts(table: pa.Table, keep: np.ndarray | None = None,
                release: Callable[[], None] | None = None,
                pool: Executor | None = None) -> Callable[[], pd.DataFrame]:
    """``frame_of`` in two steps: this thread's columns now, and a call that waits for the pool's
    (the keys, the longest) and makes the frame; the caller may do other work in between."""
    mask = None if keep is None else pa.array(keep, type=pa.bool_())

    def arrow(col: pa.ChunkedArray) -> pa.ChunkedArray:
        return col if mask is None else col.filter(mask)

    def category(name: str) -> pd.Categorical:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):  # a mirror's (suite.logcolumns.CODED_FIELDS)
            return _coded(col, keep, lower=name == "cache")
        col = arrow(col)
        return _category(pc.utf8_lower(col) if name == "cache" else col)  # targets say "HIT"

    def error_columns() -> tuple[pd.Categorical, pd.arrays.ArrowExtensionArray]:
        error = arrow(table.column("error"))
        return (_category(pc.struct_field(error, "kind")),
                pd.arrays.ArrowExtensionArray(pc.struct_field(error, "message")))

    def strings(name: str) -> pd.arrays.ArrowExtensionArray:
        return pd.arrays.ArrowExtensionArray(arrow(table.column(name)))

    def soon(fn: Callable[..., Any], *args: Any) -> Future[Any]:
        if pool is not None:
            return pool.submit(fn, *args)
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        return done

    # the keys (up to millions of distinct strings: ~0.2 s at 1M records, the largest single step)
    # and the strings on the pool; the rest here, about as long
    later = {"key": soon(category, "key"), **{n: soon(strings, n) for n in STRING_FIELDS}}
    errors = soon(error_columns)

    def copied(made: Any) -> Any:
        if release is not None:
            release()  # the mapped pages read for a column (up to ~300 MB at 10M records)
        return made

    cols: dict[str, Any] = {n: copied(_numpy(table.column(n), keep)) for n in FLOAT_FIELDS}
    flags = {n: _flag(table.column(n), keep) for n in FLAG_FIELDS if n != "ok"}
    ok = _numpy(pc.fill_null(table.column("ok"), False), keep)
    # the order the columns always had: "cache" after "key"
    cols.update({n: copied(category(n)) for n in CATEGORY_FIELDS if n not in ("key", "cache")})
    cache = category("cache")

    def finish() -> pd.DataFrame:
        cols["key"] = later["key"].result()
        cols["cache"] = cache
        cols.update({n: later[n].result() for n in STRING_FIELDS})
        cols.update(flags)
        cols["ok"] = ok
        cols["error_kind"], cols["error_message"] = errors.result()
        if release is not None:
            release()
        # not consolidated: pandas would otherwise copy the float columns into one 2-D block (at
        # 10M records ~0.9 GB more at the peak and ~2.7 s, measured by bench_columnar.py --big)
        return pd.DataFrame(cols, copy=False)

    return finish
