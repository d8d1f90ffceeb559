"""After a run: gather every shard of the request log and every process's counts into one verdict.

A standalone run has ``requests.jsonl`` + ``run.json``; worker ``i`` of a distributed run has
``requests.w<i>.jsonl`` + ``run.w<i>.json`` beside the master's ``run.json``. ``collect`` reads
them all (Rule 1 is checked over the union: no id twice across shards), and ``merge_into_meta``
writes the totals back into ``run.json`` so the analyzer reads one file for the run's counts.
Open-loop lateness is recomputed here from the records themselves (exact percentiles over every
worker), not merged from per-process summaries.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from suite.driver.control.meta import read_run_meta
from suite.driver.control.schedule import LagStats, lag_warning
from suite.driver.exchange.record import LogCheck, check_log

REQUESTS_GLOB = "requests*.jsonl"  # the log's shards (standalone: one)
WORKER_META_GLOB = "run.w*.json"


@dataclass
class Collected:
    check: LogCheck
    files: list[Path]
    worker_metas: list[dict[str, Any]] = field(default_factory=list)
    lag: dict[str, Any] | None = None

    @property
    def final(self) -> bool:
        return all(m.get("extra", {}).get("final") for m in self.worker_metas)


def _sent(meta: dict[str, Any], workers: list[dict[str, Any]]) -> int | None:
    metas = workers or [meta]
    counts = [m.get("extra", {}).get("sent") for m in metas]
    return sum(counts) if counts and all(isinstance(c, int) for c in counts) else None


def collect(run_dir: Path, meta: dict[str, Any], corpus_ids: set[str], lag_warn_ms: float) -> Collected:
    files = sorted(run_dir.glob(REQUESTS_GLOB))
    workers = [m for p in sorted(run_dir.glob(WORKER_META_GLOB)) if (m := read_run_meta(p))]
    lines = [line for path in files for line in path.read_bytes().splitlines()]
    check = check_log(lines, _sent(meta, workers), corpus_ids)
    lag = _lag(lines, lag_warn_ms, workers or [meta]) if meta.get("extra", {}).get("load", {}).get(
        "mode") == "open" else None
    return Collected(check, files, workers, lag)


def _lag(lines: list[bytes], warn_ms: float, metas: list[dict[str, Any]]) -> dict[str, Any]:
    stats = LagStats(warn_ms)
    for raw in lines:
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(rec, dict) and rec.get("scheduled") is not None and rec.get("t_start") is not None:
            stats.add(rec["t_start"] - rec["scheduled"])
    stats.overflow = sum(int(m.get("extra", {}).get("open_loop", {}).get("overflow") or 0) for m in metas)
    return stats.summary()


def merge_into_meta(meta: dict[str, Any], got: Collected) -> dict[str, Any]:
    """run.json's ``extra`` with the run's totals, per-worker counts, lateness and warnings."""
    extra = meta.setdefault("extra", {})
    if got.worker_metas:
        extra["workers"] = [{"shard": w.get("extra", {}).get("shard"), "worker": w.get("extra", {}).get(
            "worker"), "sent": w.get("extra", {}).get("sent"), "records": w.get("extra", {}).get("records")}
            for w in got.worker_metas]
        extra.update(sent=got.check.sent, records=got.check.records, final=bool(extra.get("final"))
                     and got.final)
        for w in got.worker_metas:
            if "aborted" in w.get("extra", {}):
                extra.setdefault("aborted", w["extra"]["aborted"])
    extra["log_files"] = [p.name for p in got.files]
    if got.lag is not None:
        extra["open_loop"] = got.lag
        warnings = [w for w in extra.get("warnings", []) if not w.startswith("open loop fell behind")]
        warning = lag_warning(got.lag)
        extra["warnings"] = warnings + ([warning] if warning else [])
    return meta


class LineCounter:
    """Counts complete lines of a growing file, reading only the new bytes each time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.lines = 0

    def count(self) -> int:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            return self.lines
        self.offset += len(chunk)
        self.lines += chunk.count(b"\n")
        return self.lines


class LogCounter:
    """Complete lines over every shard of a run's request log (``requests*.jsonl``)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.counters: dict[Path, LineCounter] = {}

    def count(self) -> int:
        for path in self.run_dir.glob(REQUESTS_GLOB):
            self.counters.setdefault(path, LineCounter(path))
        return sum(c.count() for c in self.counters.values())


def await_workers(run_dir: Path, timeout_s: float) -> None:
    """Wait (bounded) until every ``--processes`` worker has finalised its run.w<i>.json.

    Locust's master can exit before the workers it forked, which may still be recording their last
    (cancelled) requests. Past ``timeout_s``, the workers still running are sent SIGTERM by the PID
    they wrote in their meta (``host:pid``): processes this run started, stopped by PID."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pending = _pending_workers(run_dir)
        if not pending:
            return
        time.sleep(0.25)
    for pid in _pending_workers(run_dir):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)


def _pending_workers(run_dir: Path) -> list[int]:
    """PIDs of workers whose meta is not final yet and whose process still exists."""
    out = []
    for path in run_dir.glob(WORKER_META_GLOB):
        extra = (read_run_meta(path) or {}).get("extra", {})
        pid = str(extra.get("worker", "")).rpartition(":")[2]
        if not extra.get("final") and pid.isdigit() and _alive(int(pid)):
            out.append(int(pid))
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
