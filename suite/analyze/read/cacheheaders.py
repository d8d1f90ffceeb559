"""The cache headers a run's records kept (``cache_headers``), per analyzed row, for naming the
signal that attributed hits and for re-attributing them (``analyze --cache-detect``).

The headers ``auto`` reads come with the main read (logread's ``cache_headers`` struct, one pass);
a header outside them — named by a custom rule — is read by a second pyarrow pass over just
``warmup`` and a struct of those names, only when a rule needs it. Rows line up with the analyzed
frame because the same warm-up rows are dropped in the same order.

run.json ``extra.cache_headers`` = {rule, allowlist} says which headers the driver looked at: a
header in the list but absent from a record was absent from the response; one outside the list was
never looked at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from suite.analyze.read.load import LoadedRun
from suite.errors import AnalysisError
from suite.records import RunMeta

_READ = pj.ReadOptions(block_size=4 << 20, use_threads=True)


@dataclass(frozen=True)
class Recorded:
    """What run.json says the driver did: its rule and the header names its records keep."""

    rule: str
    allowlist: tuple[str, ...]


def recorded(meta: RunMeta | None) -> Recorded | None:
    """The run's recorded rule and allow-list; None for a run without them (no run.json, or one
    written before records kept cache headers)."""
    extra = meta.extra if meta is not None else None
    block = extra.get("cache_headers") if isinstance(extra, dict) else None
    if not isinstance(block, dict) or not isinstance(block.get("allowlist"), list):
        return None
    return Recorded(str(block.get("rule", "auto")), tuple(str(n).lower() for n in block["allowlist"]))


def header_columns(run: LoadedRun, names: Sequence[str]) -> dict[str, pa.Array]:
    """Each of ``names``: its recorded value per analyzed row (null where absent), from the main
    read when it holds the header, else from a second pass over the run's log files."""
    held = run.cache_headers
    have = {f.name for f in held.type} if held is not None else set()
    out = {n: pc.struct_field(held, n) for n in names if n in have}
    rest = [n for n in names if n not in out]
    if rest and run.files:
        out.update(read_cache_headers(run.files, rest))
    n_rows = len(run.requests)
    return {n: out.get(n, pa.nulls(n_rows, pa.string())) for n in names}


def read_cache_headers(paths: Sequence[Path], names: Sequence[str]) -> dict[str, pa.Array]:
    """For each of ``names``: the recorded values of the measured (non-warm-up) rows, null where a
    record lacks it, in the analyzed frame's row order."""
    names = list(dict.fromkeys(names))
    tables = [_read(p, names) for p in paths]
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    warm = pc.fill_null(table.column("warmup"), False)
    if pc.any(warm).as_py():
        table = table.filter(pc.invert(warm))
    headers = table.column("cache_headers").combine_chunks()
    if not names:
        return {}
    return {n: pc.struct_field(headers, n) for n in names}


def _schema(names: Sequence[str]) -> pa.Schema:
    struct = pa.struct([(n, pa.string()) for n in names]) if names else pa.struct([("_", pa.string())])
    return pa.schema([("warmup", pa.bool_()), ("cache_headers", struct)])


def _read(path: Path, names: Sequence[str]) -> pa.Table:
    schema = _schema(names)
    parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        table = pj.read_json(path, read_options=_READ, parse_options=parse)
    except (pa.ArrowInvalid, OSError):
        return _slow(path, schema)  # an odd line: the orjson pass reads it (or names it)
    return table.select(["warmup", "cache_headers"]).cast(schema)


def _slow(path: Path, schema: pa.Schema) -> pa.Table:
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot read the request log ({exc}).") from None
    names = [f.name for f in schema.field("cache_headers").type]
    warm: list[Any] = []
    heads: list[Any] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise AnalysisError(f"{path}:{lineno}: not valid JSON ({exc}). Fix or remove the line.") from None
        warm.append(obj.get("warmup") if isinstance(obj.get("warmup"), bool) else None)
        got = obj.get("cache_headers")
        heads.append({n: _text(got.get(n)) for n in names} if isinstance(got, dict) else None)
    return pa.table({"warmup": pa.array(warm, pa.bool_()),
                     "cache_headers": pa.array(heads, schema.field("cache_headers").type)})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def present(column: pa.Array) -> np.ndarray:
    """Which rows carry the header (a boolean numpy mask)."""
    return np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
