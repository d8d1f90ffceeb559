"""``requests.csv``: one row per measured request with its derived values (TPOT, mean ITL, lateness),
written with pyarrow's CSV writer (columnar: no Python work per row). Empty cell = not measured."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from suite.records import CSV_FORMULA_REGEX

COLUMNS = ("id", "model", "worker", "user", "t_start", "scheduled", "lateness", "e2e_from_scheduled", "ttft",
           "e2e", "tpot",
           "itl_mean", "gaps", "prompt_tokens", "completion_tokens", "completion_tokens_tiktoken",
           "cached_tokens", "tokens_source", "status", "ok", "error_kind", "cache", "repeat", "stream", "key")


def _neutralised(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """A string column with OWASP's CSV-injection rule applied (``suite.records.csv_cell``),
    columnar like the rest; other columns unchanged."""
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return col
    return pc.replace_substring_regex(col, pattern=CSV_FORMULA_REGEX, replacement="'\\1")


def write_requests_csv(path: Path, frame: pd.DataFrame) -> Path:
    present = [c for c in COLUMNS if c in frame.columns]
    table = pa.Table.from_pandas(frame[present], preserve_index=False)
    plain = [pc.cast(col, pa.string()) if pa.types.is_dictionary(col.type) else col
             for col in table.columns]
    pacsv.write_csv(pa.table([_neutralised(col) for col in plain], names=table.column_names), path)
    return path
