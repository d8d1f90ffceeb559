"""Read a run directory: ``requests.jsonl`` into a columnar DataFrame, ``run.json`` into ``RunMeta``.

The log is parsed with orjson in one call (all lines as one JSON array) and turned into typed
columns directly, which is several times faster than ``pandas.read_json(lines=True)``. A field that
was not recorded stays missing (NaN / None / <NA>) — nothing is filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from suite.errors import AnalysisError
from suite.records import RunMeta

REQUESTS_FILE = "requests.jsonl"
RUN_META_FILE = "run.json"
FLOAT_FIELDS = ("t_start", "scheduled", "ttft", "e2e", "prompt_tokens", "completion_tokens",
                "cached_tokens", "status", "user")
TEXT_FIELDS = ("id", "model", "target", "worker", "tokens_source", "cache", "response_id")
FLAG_FIELDS = ("repeat", "stream")
REQUIRED_FIELDS = ("id", "model", "t_start")


@dataclass
class LoadedRun:
    """A run as the analyzer sees it: one row per request, plus the driver's metadata if any."""

    run_dir: Path
    requests: pd.DataFrame
    meta: RunMeta | None
    meta_why: str | None = None


def requests_path(run_dir: Path) -> Path:
    return Path(run_dir) / REQUESTS_FILE


def _raw_lines(path: Path) -> list[tuple[int, bytes]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AnalysisError(f"{path}: no request log here. Run a load test first (llmsuite run ...) "
                            "or point at a run directory that contains requests.jsonl.") from None
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot read the request log ({exc.strerror}).") from None
    return [(n, line) for n, line in enumerate(data.split(b"\n"), start=1) if line.strip()]


def _bad_line(path: Path, lines: list[tuple[int, bytes]]) -> AnalysisError:
    """Find the first line that is not a JSON object and name it (the fast path failed)."""
    for lineno, line in lines:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return AnalysisError(f"{path}:{lineno}: not valid JSON ({exc}). Fix or remove the line.")
        if not isinstance(obj, dict):
            return AnalysisError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}.")
    return AnalysisError(f"{path}: not valid JSON lines.")


def parse_records(path: Path) -> list[dict[str, Any]]:
    """Every line of the log as a dict; an empty log or a bad line is an AnalysisError."""
    lines = _raw_lines(path)
    if not lines:
        raise AnalysisError(f"{path}: the request log is empty (no request was recorded). Check that "
                            "the run sent traffic (target reachable, corpus not empty) and run it again.")
    try:
        rows = orjson.loads(b"[" + b",".join(line for _, line in lines) + b"]")
    except orjson.JSONDecodeError:
        raise _bad_line(path, lines) from None
    if not all(isinstance(row, dict) for row in rows):
        raise _bad_line(path, lines)
    return rows


def _check_required(path: Path, rows: list[dict[str, Any]]) -> None:
    for i, row in enumerate(rows):
        missing = [name for name in REQUIRED_FIELDS if row.get(name) is None]
        if missing:
            raise AnalysisError(
                f"{path}: record {i + 1} (id {row.get('id')!r}) lacks {', '.join(missing)}; every record "
                "needs id, model and t_start. Was it written by llmsuite's driver?")


def _floats(path: Path, name: str, values: list[Any]) -> np.ndarray:
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        bad = next(v for v in values if v is not None and not isinstance(v, int | float))
        raise AnalysisError(f"{path}: field {name!r} holds {bad!r}; it must be a number or null.") from None


def _error_parts(rows: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    errors = [row.get("error") for row in rows]
    kinds = [e.get("kind") if isinstance(e, dict) else None for e in errors]
    messages = [e.get("message") if isinstance(e, dict) else None for e in errors]
    return kinds, messages


def records_frame(path: Path, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Typed columns: floats (NaN = not measured), text (None), nullable flags, lists for ``itl``."""
    _check_required(path, rows)
    columns: dict[str, Any] = {}
    for name in FLOAT_FIELDS:
        columns[name] = _floats(path, name, [r.get(name) for r in rows])
    for name in TEXT_FIELDS:
        columns[name] = np.array([r.get(name) for r in rows], dtype=object)
    for name in FLAG_FIELDS:
        columns[name] = pd.array([r.get(name) for r in rows], dtype="boolean")
    columns["ok"] = np.array([r.get("ok") is True for r in rows], dtype=bool)
    columns["itl"] = pd.Series([r.get("itl") for r in rows], dtype=object)
    columns["error_kind"], columns["error_message"] = _error_parts(rows)
    return pd.DataFrame(columns)


def load_requests(path: Path) -> pd.DataFrame:
    return records_frame(path, parse_records(path))


def load_meta(run_dir: Path) -> tuple[RunMeta | None, str | None]:
    """``run.json`` as RunMeta, or (None, why) when absent; a corrupt file is an AnalysisError."""
    path = Path(run_dir) / RUN_META_FILE
    if not path.exists():
        return None, f"no {RUN_META_FILE} in {run_dir} (run metadata comes from the driver)"
    try:
        obj = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise AnalysisError(f"{path}: not valid JSON ({exc}). Restore it or delete it to analyze "
                            "the request log alone.") from None
    known = {f.name for f in fields(RunMeta)}
    try:
        return RunMeta(**{k: v for k, v in obj.items() if k in known}), None
    except TypeError as exc:
        raise AnalysisError(f"{path}: not a run metadata file ({exc}).") from None


def load_run(run_dir: str | Path) -> LoadedRun:
    """Load ``<run_dir>/requests.jsonl`` (required) and ``<run_dir>/run.json`` (optional)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise AnalysisError(f"{run_dir}: not a run directory. Pass the folder a run wrote, "
                            "e.g. reports/<run>/, which holds requests.jsonl.")
    frame = load_requests(requests_path(run_dir))
    meta, why = load_meta(run_dir)
    return LoadedRun(run_dir, frame, meta, why)
