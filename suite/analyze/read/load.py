"""Read a run: every ``requests*.jsonl`` shard (or the files given), ``run.json`` and the corpus manifest.

A shard with a complete columnar mirror beside it (``requests*.arrows``, suite.logcolumns) is read
from the mirror, which needs no JSON parsing; ``run.files`` still names the JSONL shards (the log
of record) and ``log_source`` says what was read instead, and why a mirror was passed over.

Records flagged ``warmup: true`` stay in the log but are left out of every statistic; how many were
left out is reported. A field that was not recorded stays missing (NaN / None / <NA>) — nothing is
filled in.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from suite.analyze.read.columnar import read_preferring_mirrors
from suite.analyze.read.gaps import Gaps
from suite.analyze.read.logread import (
    cache_headers_of,
    check_required,
    frame_parts,
    gaps_of,
)
from suite.errors import AnalysisError
from suite.logcolumns import SUFFIX, jsonl_path
from suite.records import RunMeta, manifest_path
from suite.runtime import kept_heap

REQUESTS_FILE = "requests.jsonl"
SHARD_GLOB = "requests*.jsonl"
RUN_META_FILE = "run.json"


@dataclass
class LoadedRun:
    """A run as the analyzer sees it: one row per measured request (warm-up excluded), its gaps,
    and the driver's metadata and corpus manifest when they exist."""

    run_dir: Path
    requests: pd.DataFrame
    meta: RunMeta | None
    meta_why: str | None = None
    gaps: Gaps | None = None
    files: tuple[Path, ...] = ()
    warmup_excluded: int = 0
    manifest: dict[str, Any] | None = None
    manifest_why: str | None = None
    cache_headers: pa.StructArray | None = None  # recorded cache headers per row (logread)
    log_source: dict[str, Any] | None = None  # summary run.log_source (read.columnar.LogSource)

    def __post_init__(self) -> None:
        if self.gaps is None:  # a frame built by hand (tests, callers) without gaps has none
            n = len(self.requests)
            self.gaps = Gaps(np.empty(0), np.zeros(n + 1, dtype=np.int64))


def requests_path(run_dir: Path) -> Path:
    return Path(run_dir) / REQUESTS_FILE


def log_files(run_dir: Path) -> list[Path]:
    """``requests.jsonl`` and per-worker shards ``requests.<worker>.jsonl``, in name order (a shard
    kept only as its columnar mirror is named by its JSONL name too: the mirror is then read)."""
    found = {p for p in Path(run_dir).glob(SHARD_GLOB) if p.is_file()}
    found |= {jsonl_path(p) for p in Path(run_dir).glob("requests*" + SUFFIX) if p.is_file()}
    return sorted(found) or [requests_path(run_dir)]


def load_requests(paths: Sequence[Path]) -> tuple[pd.DataFrame, Gaps, int, pa.StructArray]:
    """All shards as one frame (warm-up rows dropped), their gaps, the count of warm-up rows, and
    the rows' recorded cache headers."""
    return load_logged(paths)[:4]  # type: ignore[return-value]


def load_logged(paths: Sequence[Path]) -> tuple[pd.DataFrame, Gaps, int, pa.StructArray,
                                                 dict[str, Any] | None]:
    """``load_requests`` plus the summary's ``run.log_source`` (None: plain JSONL, no mirror)."""
    with kept_heap():  # freed columns and read buffers reused, not faulted in again (suite.runtime)
        return _load_logged(paths)


def _load_logged(paths: Sequence[Path]) -> tuple[pd.DataFrame, Gaps, int, pa.StructArray,
                                                 dict[str, Any] | None]:
    table, source = read_preferring_mirrors(paths)
    section = source.section()
    where = str(paths[0]) if len(paths) == 1 else f"{paths[0].parent} ({len(paths)} shards)"
    if table.num_rows == 0:
        raise AnalysisError(f"{where}: the request log is empty (no request was recorded). Check that "
                            "the run sent traffic (target reachable, corpus not empty) and run it again.")
    check_required(where, table)
    warm = pc.fill_null(table.column("warmup"), False).to_numpy()
    excluded = int(warm.sum())
    if excluded == table.num_rows:
        raise AnalysisError(f"{where}: all {excluded} records are warm-up records; nothing is left to "
                            "analyze. Run longer than the warm-up window.")
    keep = ~warm if excluded else None
    # the key categories and the strings (Arrow's hashing and copies, with the GIL released) are
    # built on the second core while this thread does the rest (frame_parts). Unlike the summary,
    # no small_pages here: the load's arrays are few and long-lived, and with huge pages the load
    # took 0.30 s instead of 0.50 s at 1M. Released pages of a mapped mirror are faulted in again
    # if read later: only speed is at stake
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmsuite-load") as pool:
        frame = frame_parts(table, keep, source.release, pool)
        # while the pool still hashes the keys: the headers, and the gaps, which stay where the
        # reader put them (the mirror's mapped batches, or the JSONL reader's buffers; read.gaps)
        headers = cache_headers_of(table, keep)
        gaps = gaps_of(table, keep, source.release)
        got = frame(), gaps, excluded, headers, section
    source.release()
    return got


def _read_json(path: Path, what: str) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise AnalysisError(f"{path}: not valid JSON ({exc}). Restore it or delete it to analyze "
                            f"without the {what}.") from None


def load_meta(run_dir: Path) -> tuple[RunMeta | None, str | None]:
    """``run.json`` as RunMeta, or (None, why) when absent; a corrupt file is an AnalysisError."""
    path = Path(run_dir) / RUN_META_FILE
    if not path.exists():
        return None, f"no {RUN_META_FILE} in {run_dir} (run metadata comes from the driver)"
    obj = _read_json(path, "run metadata")
    known = {f.name for f in fields(RunMeta)}
    try:
        return RunMeta(**{k: v for k, v in obj.items() if k in known}), None
    except TypeError as exc:
        raise AnalysisError(f"{path}: not a run metadata file ({exc}).") from None


def load_manifest(run_dir: Path, meta: RunMeta | None) -> tuple[dict[str, Any] | None, str | None]:
    """The corpus manifest named by run.json (beside the corpus), or (None, why)."""
    if meta is None or not meta.corpus:
        return None, "no run.json naming the corpus, so no corpus manifest"
    corpus = Path(meta.corpus)
    candidates = [manifest_path(corpus)]
    if not corpus.is_absolute():
        candidates.append(manifest_path(Path(run_dir) / corpus.name))
    for path in candidates:
        if path.exists():
            return _read_json(path, "corpus manifest"), None
    return None, f"no manifest beside the corpus ({candidates[0]} not found)"


def load_run(run_dir: str | Path, files: Sequence[str | Path] | None = None) -> LoadedRun:
    """Load the run's log shards (or ``files``), ``run.json`` and the corpus manifest if present."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise AnalysisError(f"{run_dir}: not a run directory. Pass the folder a run wrote, "
                            "e.g. reports/<run>/, which holds requests.jsonl.")
    paths = [Path(f) for f in files] if files else log_files(run_dir)
    frame, gaps, excluded, headers, source = load_logged(paths)
    meta, why = load_meta(run_dir)
    manifest, manifest_why = load_manifest(run_dir, meta)
    return LoadedRun(run_dir, frame, meta, why, gaps, tuple(paths), excluded, manifest, manifest_why,
                     headers, source)
