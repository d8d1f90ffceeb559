"""After a run: gather every shard of the request log and every process's counts into one verdict.

A standalone run has ``requests.jsonl`` + ``run.json``; worker ``i`` of a distributed run has
``requests.w<i>.jsonl`` + ``run.w<i>.json`` beside the master's ``run.json``. ``collect`` reads
them all (Rule 1 is checked over the union: no id twice across shards), and ``merge_into_meta``
writes the totals back into ``run.json`` so the analyzer reads one file for the run's counts.
Open-loop lateness is recomputed here from the records themselves (exact percentiles over every
worker), not merged from per-process summaries.

A worker that died without finalising its run.w<i>.json (SIGKILL, OOM) is *lost*: its ``sent``
there is stale, so the check counts what it actually flushed, and its send journal
(``sent.w<i>.ids``, one id per request as it was sent) names the requests it had in flight —
sent, never recorded. ``partial_mark`` turns a signal and lost workers into run.json's
``extra.partial``, which the analyzer shows as the run's partial mark.

A worker on another host ships its shard and run meta into this folder as it goes
(suite.driver.inlocust.shiplink); its journal stays on its host, so a shipping worker that
vanished is described by what it last reported (sent, flushed, the ids then in flight) and what
reached the master (shipped): the requests it had in flight then and whose records never came
are named. One that ended but could not ship everything in time (the master's
``extra.shipping.not_drained``) is treated the same way: the check covers what is here.
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
JOURNAL = "sent.w{index}.ids"  # suite.driver.inlocust.state writes it; read (then removed) here
IN_FLIGHT_SHOWN = 20


@dataclass
class Collected:
    check: LogCheck
    files: list[Path]
    worker_metas: list[dict[str, Any]] = field(default_factory=list)
    lag: dict[str, Any] | None = None
    lost: list[dict[str, Any]] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return all(m.get("extra", {}).get("final") for m in self.worker_metas)


def _sent(meta: dict[str, Any], workers: list[dict[str, Any]], lost: list[dict[str, Any]]) -> int | None:
    """Requests sent by every process; a lost worker counts what it flushed (its meta is stale)."""
    flushed = {w["index"]: w["records"] for w in lost}
    metas = workers or [meta]
    counts = [flushed.get(_index(m), m.get("extra", {}).get("sent")) for m in metas]
    return sum(counts) if counts and all(isinstance(c, int) for c in counts) else None


def _index(meta: dict[str, Any]) -> int | None:
    shard = meta.get("extra", {}).get("shard") or {}
    return shard.get("index") if isinstance(shard, dict) else None


def _ids(lines: list[bytes]) -> list[str]:
    out = []
    for raw in lines:
        try:
            rid = orjson.loads(raw).get("id")
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if isinstance(rid, str):
            out.append(rid)
    return out


def lost_workers(run_dir: Path, meta: dict[str, Any], workers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Workers that never finalised their meta: who, what they flushed, what they had in flight."""
    noticed = {n.get("index"): n for n in meta.get("extra", {}).get("lost_workers", [])}
    undrained = set((meta.get("extra", {}).get("shipping") or {}).get("not_drained") or [])
    out = []
    for w in workers:
        extra, index = w.get("extra", {}), _index(w)
        if index is None or (extra.get("final") and index not in undrained):
            continue
        shard = run_dir / f"requests.w{index}.jsonl"
        recorded = _ids(shard.read_bytes().splitlines()) if shard.exists() else []
        journal = run_dir / JOURNAL.format(index=index)
        sent = journal.read_text().split() if journal.exists() else None
        in_flight = sorted(set(sent) - set(recorded)) if sent is not None else None
        row = {"index": index, "worker": extra.get("worker"), "records": len(recorded),
               "sent": len(sent) if sent is not None else None,
               "in_flight": len(in_flight) if in_flight is not None else None,
               "in_flight_ids": (in_flight or [])[:IN_FLIGHT_SHOWN],
               "noticed_at": noticed.get(index, {}).get("at")}
        if extra.get("shipping") and sent is None:  # its journal is on its own host
            row.update(_shipped_counts(extra, recorded))
        out.append(row)
    return out


def _shipped_counts(extra: dict[str, Any], recorded: list[str]) -> dict[str, Any]:
    """A shipping worker's counts as it last reported them (suite.driver.inlocust.shiplink): what
    it had sent and flushed, and which of the requests then in flight never reached this folder
    (``recorded``: the ids that did)."""
    reported, came = extra.get("in_flight_ids"), set(recorded)
    unrecorded = [i for i in reported if i not in came] if isinstance(reported, list) else None
    return {"sent": extra.get("sent"), "flushed": extra.get("records"), "shipped": len(recorded),
            "in_flight": extra.get("in_flight"), "reported_at": extra.get("reported_at"),
            "in_flight_ids": (unrecorded or [])[:IN_FLIGHT_SHOWN],
            "in_flight_unrecorded": len(unrecorded) if unrecorded is not None else None}


def collect(run_dir: Path, meta: dict[str, Any], corpus_ids: set[str], lag_warn_ms: float) -> Collected:
    files = sorted(run_dir.glob(REQUESTS_GLOB))
    workers = [m for p in sorted(run_dir.glob(WORKER_META_GLOB)) if (m := read_run_meta(p))]
    lost = lost_workers(run_dir, meta, workers)
    lines = [line for path in files for line in path.read_bytes().splitlines()]
    check = check_log(lines, _sent(meta, workers, lost), corpus_ids)
    lag = _lag(lines, lag_warn_ms, workers or [meta]) if meta.get("extra", {}).get("load", {}).get(
        "mode") == "open" else None
    for journal in run_dir.glob(JOURNAL.format(index="*")):  # read above; run.json keeps the ids
        journal.unlink(missing_ok=True)
    return Collected(check, files, workers, lag, lost)


def partial_mark(interrupted: dict[str, Any] | None, lost: list[dict[str, Any]]) -> dict[str, Any] | None:
    """run.json ``extra.partial``: why the log covers only part of the run, or None (pure)."""
    reasons = []
    if interrupted:
        reasons.append(f"interrupted by {interrupted.get('signal')}: the log holds the requests sent "
                       "before the run was stopped")
    for w in lost:
        if "shipped" in w:
            reasons.append(_shipped_reason(w))
            continue
        flight = ("an unknown number of requests" if w["in_flight"] is None else
                  f"{w['in_flight']} request(s)") + " in flight"
        shown = w["in_flight_ids"]
        more = ", ..." if (w["in_flight"] or 0) > len(shown) else ""
        ids = f" ({', '.join(shown)}{more})" if shown else ""
        reasons.append(f"worker {w['index']} ({w['worker']}) died mid-run with {flight}{ids}, sent but "
                       f"never recorded; its {w['records']} flushed record(s) are kept and its unsent "
                       "share was not replayed")
    if not reasons:
        return None
    mark: dict[str, Any] = {"reason": "; ".join(reasons)}
    if interrupted:
        mark["interrupted"] = interrupted
    if lost:
        mark["lost_workers"] = lost
    return mark


def _shipped_reason(w: dict[str, Any]) -> str:
    def count(value: Any) -> str:
        return "an unknown number of" if value is None else str(value)

    unrecorded = w.get("in_flight_unrecorded")
    flying = ""
    if unrecorded:  # reported by workers since the ids were; older ones said the count only
        shown = w["in_flight_ids"]
        more = ", ..." if unrecorded > len(shown) else ""
        flying = (f", and {unrecorded} of the {count(w['in_flight'])} request(s) it then had in flight "
                  f"({', '.join(shown)}{more}) never reached the master")
    return (f"worker {w['index']} ({w['worker']}) vanished mid-run (or could not finish shipping): "
            f"when last heard from it had sent {count(w['sent'])} request(s) and flushed "
            f"{count(w['flushed'])} record(s){flying}; {w['shipped']} record(s) reached the master and "
            f"are kept here, the rest stay in requests.w{w['index']}.jsonl on its host; its unsent "
            "share was not replayed")


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
        lost = {w["index"]: w for w in got.lost}
        extra["workers"] = [_worker_counts(w, lost.get(_index(w))) for w in got.worker_metas]
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


def _worker_counts(meta: dict[str, Any], lost: dict[str, Any] | None) -> dict[str, Any]:
    """One worker's line of run.json ``extra.workers``; a lost one's counts are what it flushed."""
    extra = meta.get("extra", {})
    row = {"shard": extra.get("shard"), "worker": extra.get("worker"), "sent": extra.get("sent"),
           "records": extra.get("records")}
    shipping = extra.get("shipping")
    if isinstance(shipping, dict):  # shipped to the master (suite.driver.inlocust.shiplink)
        row["shipped"] = shipping.get("records")
    if lost is not None:
        row.update(sent=lost["records"], records=lost["records"], lost=True, in_flight=lost["in_flight"])
        if "shipped" in lost:
            row.update(sent_reported=lost["sent"], flushed=lost["flushed"])
    return row


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
