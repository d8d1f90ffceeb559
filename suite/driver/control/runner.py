"""Library entry point of the driver: replay a corpus against a target with Locust, in a subprocess.

Locust gevent-patches the process that imports it, so ``run_load`` never imports it: it validates
the corpus, checks the target answers, launches ``python -m locust --headless`` on
``suite/driver/inlocust/locustfile.py`` with its settings in the environment
(suite.driver.control.config), reports progress from the growing request log, and afterwards
proves Rule 1 (one record per request sent) before returning. Every wait is bounded; Locust runs
in its own process group, stopped by that group's id (suite.driver.control.group), never by name.

One lifecycle for every way a run ends: SIGINT, SIGTERM or SIGHUP (suite.signals) stop the group
(master and every worker), wait for the records, write ``extra.interrupted`` = {signal, at} and the
``extra.partial`` mark into run.json, and return the checked result; so does the loss of a worker.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from suite.driver.control.collect import (
    Collected,
    LineCounter,
    LogCounter,
    await_workers,
    collect,
    merge_into_meta,
    partial_mark,
)
from suite.driver.control.command import LOCUSTFILE, Topology, locust_command
from suite.driver.control.config import DEFAULT_TIMEOUT_S, DriverConfig
from suite.driver.control.group import die_with_parent, finish_first, stop_group
from suite.driver.control.health import check_target, health_probes
from suite.driver.control.loadopts import LoadOptions
from suite.driver.control.meta import read_run_meta, write_meta_dict
from suite.driver.control.progress import LiveSnapshot, LogTail
from suite.driver.control.requestopts import RequestOptions
from suite.driver.control.runargs import (  # noqa: F401 - importable from here too
    RESERVED_FLAGS,
    STOP_TIMEOUT_S,
    _check_locust_args,
    _validate,
    new_run_id,
)
from suite.driver.control.webkeep import KeptWeb, settled
from suite.driver.exchange.record import LogCheck
from suite.driver.exchange.targets import default_path
from suite.errors import CorpusError, RunError, SpecError
from suite.records import read_corpus
from suite.services import free_port
from suite.signals import Interrupted, interruption, stop_on_signals

__all__ = ["LOCUSTFILE", "LineCounter", "LogCounter", "RunResult", "Topology", "locust_command", "new_run_id",
           "run_load"]

STARTUP_MARGIN_S = 60.0
POLL_S = 0.25
REQUESTS_FILE = "requests.jsonl"
RUN_META_FILE = "run.json"

Progress = Callable[[int, int], None]
# A progress callback that also has a ``live(snapshot)`` method gets the live figures of the run
# (suite.driver.control.progress.LiveSnapshot: counts, TTFT, hit ratio, the bound that ends it).
Live = Callable[[LiveSnapshot], None]

@dataclass
class RunResult:
    """What a load run produced: where its files are and whether every request was recorded."""

    run_id: str
    run_dir: Path
    requests_path: Path
    meta_path: Path
    records: int
    sent: int
    corpus_size: int
    exit_code: int
    duration_s: float
    complete: bool
    meta: dict[str, Any] = field(default_factory=dict)
    log_files: list[Path] = field(default_factory=list)
    interrupted: bool = False
    stopped_by: Interrupted | None = None  # the signal that interrupted the run
    web: KeptWeb | None = None  # --web-keep: Locust still serving its UI; the caller stops it

    @property
    def partial(self) -> dict[str, Any] | None:
        """run.json ``extra.partial`` ({"reason", ...}) when the log covers only part of the run:
        interrupted by a signal, or a worker lost mid-run."""
        value = self.meta.get("extra", {}).get("partial")
        return value if isinstance(value, dict) else None

    @property
    def finished_corpus(self) -> bool:
        """Every corpus request was sent (the run did not hit its duration first)."""
        return self.sent == self.corpus_size

    @property
    def aborted(self) -> dict[str, Any] | None:
        """run.json ``extra.aborted`` ({"reason", "at"}) when an abort rule stopped the run."""
        value = self.meta.get("extra", {}).get("aborted")
        return value if isinstance(value, dict) else None

    @property
    def warnings(self) -> list[str]:
        return list(self.meta.get("extra", {}).get("warnings", []))


def _prepare_run_dir(out_dir: Path, run_id: str) -> Path:
    run_dir = out_dir / run_id
    old = sorted(run_dir.glob("requests*.jsonl"))
    if old:
        raise SpecError(f"{old[0]} already exists; a run never appends to an old "
                        f"log. Choose another run id or remove that folder.")
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def driver_config(base: dict[str, Any], options: Mapping[str, Any] | None) -> DriverConfig:
    """``DriverConfig(**base, **options)``: ``options`` carries any further DriverConfig field (e.g.
    target settings) straight through run_load / api.run, with a clear error for a wrong name."""
    extra = dict(options or {})
    known = sorted(f.name for f in fields(DriverConfig) if f.name not in base)
    unknown = sorted(set(extra) - set(known))
    if unknown:
        raise SpecError(f"driver option(s) {', '.join(unknown)} unknown; known: {', '.join(known)}.")
    return DriverConfig(**base, **extra)


def run_load(corpus: Path, target: str, out_dir: Path, users: int, spawn_rate: float,
             duration_s: float, *, api_key: str | None = None, progress: Progress | None = None,
             locust_args: Sequence[str] = (), run_id: str | None = None,
             target_path: str | None = None,
             timeout_s: float = DEFAULT_TIMEOUT_S,
             stop_timeout_s: float = STOP_TIMEOUT_S,
             max_wall_s: float | None = None,
             load: LoadOptions | None = None,
             topology: Topology | None = None,
             options: Mapping[str, Any] | None = None,
             target_meta: Mapping[str, Any] | None = None) -> RunResult:
    """Replay ``corpus`` against ``target`` with Locust: ``users`` closed-loop users by default,
    or as ``load`` says (open loop at arrival times, a preset, warm-up, abort rules, exporters),
    on the processes ``topology`` says (``Topology(processes=N)``: master + N local workers).

    Writes ``out_dir/<run_id>/{requests*.jsonl, run.json, locust_*.csv, locust.log}``. Stops when
    the corpus is exhausted or ``duration_s`` is over (in-flight requests get ``stop_timeout_s``
    to finish, then are recorded as ``cancelled``), or when an abort rule trips
    (``result.aborted``). Raises CorpusError, TargetError (target unreachable), SpecError, or
    RunError (Locust failed, or the log does not hold exactly one record per request sent).
    ``max_wall_s`` bounds the whole Locust process (default: duration + ramp-up + stop timeout +
    60 s); past it Locust gets SIGTERM, then SIGKILL, and the run is a RunError. SIGINT, SIGTERM or
    SIGHUP stop Locust's process group the same way and return the (checked) result with
    ``interrupted`` and ``stopped_by`` set (run.json: ``extra.interrupted``, ``extra.partial``).
    ``options``: further ``DriverConfig`` fields by name (e.g. target settings). ``target_meta``:
    the target as run.json keeps it (``extra.target``, ``Target.describe()``: no secret).
    The pre-flight check goes to ``load.health_method load.health_path`` with the request's
    headers and key, as the periodic checks of ``--abort-health-failures`` do.
    """
    _validate(users, spawn_rate, duration_s, target, stop_timeout_s)
    _check_locust_args(locust_args)
    topo = topology or Topology()
    if topo.processes:
        topo = replace(topo, master_port=free_port())  # parallel runs must not share Locust's 5557
    load = replace(load or LoadOptions(), distributed=topo.distributed)
    target = target.rstrip("/")
    requests = read_corpus(corpus)
    corpus_ids = {r.id for r in requests}
    if len(corpus_ids) != len(requests):
        raise CorpusError(f"{corpus}: {len(requests) - len(corpus_ids)} duplicate request id(s); "
                          f"each request needs a unique id to be logged once. Regenerate it.")
    if load.mode == "open":
        from suite.driver.control.schedule import offsets

        offsets(requests, load.rate, load.arrival, load.seed)  # no arrival times: fail before Locust
    # the request side (suite.driver.control.requestopts): path defaults to the target kind's own
    request = (options or {}).get("request") or RequestOptions()
    target_path = target_path or request.path or default_path(request.kind)
    auth = request.auth_headers(api_key)
    check_target(target, probes=health_probes(request, target_path, api_key, requests),  # every model
                 health_path=load.health_path, health_method=load.health_method, headers=auth)
    run_id = run_id or new_run_id()
    # absolute: Locust runs with the run folder as its working directory
    run_dir = _prepare_run_dir(out_dir.resolve(), run_id)
    config = driver_config(dict(corpus=corpus.resolve(), out=run_dir / REQUESTS_FILE,
                                run_meta=run_dir / RUN_META_FILE, run_id=run_id, target_path=target_path,
                                api_key=api_key, timeout_s=timeout_s, duration_s=duration_s,
                                spawn_rate=spawn_rate, load=load), options)
    cmd = locust_command(target, users, spawn_rate, duration_s, run_dir / "locust", locust_args,
                         stop_timeout_s, load, topo)
    ramp = 0.0 if load.mode == "open" else users / spawn_rate
    budget = max_wall_s or duration_s + ramp + stop_timeout_s + STARTUP_MARGIN_S
    total = min(len(requests), load.max_requests or len(requests))
    t0 = time.monotonic()
    stopped: Interrupted | None = None
    kept: subprocess.Popen | None = None
    keep = topo.web and topo.web_keep and topo.role != "worker"
    # a multi-host master sees the records as the workers ship them (suite.driver.inlocust.shiplink)
    shipped = os.environ.get("LLMSUITE_SHIP", "1").strip() not in ("0", "false", "no", "off")
    tail = LogTail(run_dir, total, duration_s, journals=bool(topo.processes),
                   remote=topo.role == "master" and not shipped, capped=total < len(requests))
    with stop_on_signals():
        try:
            code, overran, kept = _run_locust(cmd, config, run_dir, budget, tail, progress,
                                              stop_timeout_s, keep, drain=topo.role == "master" and shipped)
        except KeyboardInterrupt as exc:  # its group was stopped in _run_locust; check what it wrote
            code, overran, stopped = 0, False, interruption(exc)
    web = KeptWeb(f"http://127.0.0.1:{topo.web_port}", kept, stop_timeout_s + 5) if kept else None
    try:
        if topo.processes:
            await_workers(run_dir, stop_timeout_s + 5)
        _report(tail, -1, progress, getattr(progress, "live", None), finished=True)  # every shard's last
        result = _result(run_dir, config, total, corpus_ids, code, overran, time.monotonic() - t0,
                         stopped, topo, target_meta)
    except BaseException:
        if web is not None:
            web.stop()
        raise
    result.web = web
    return result


def _child_env(config: DriverConfig) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSUITE_") or
           k in ("LLMSUITE_CACHE_DIR", "LLMSUITE_SHIP")}  # LLMSUITE_SHIP=0: no shipping (bench)
    env.update(config.to_env())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run_locust(cmd: list[str], config: DriverConfig, run_dir: Path, budget_s: float, tail: LogTail,
                progress: Progress | None, stop_timeout_s: float, keep: bool = False,
                drain: bool = False) -> tuple[int, bool, subprocess.Popen | None]:
    """Run Locust to completion (bounded by ``budget_s``); return (exit code, overran, the process
    when ``keep``: the run settled and Locust still serves its web UI, for the caller to stop).
    ``drain`` (a master whose workers ship): a stop signal first ends the run through the finish
    handshake, so the remote workers' last records reach this folder (group.finish_first)."""
    log_path = run_dir / "locust.log"
    with log_path.open("wb") as log:
        # its own session and process group: a signal to the group reaches the master and every
        # worker it forks; a terminal's Ctrl-C reaches only this process, which stops the group
        proc = subprocess.Popen(cmd, env=_child_env(config), cwd=run_dir, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=die_with_parent())
        kept = False
        try:
            done = (lambda: settled(run_dir, config.run_meta)) if keep else None
            overran, kept = _wait(proc, budget_s, tail, progress, done)
        except KeyboardInterrupt:
            if drain:
                finish_first(proc, config.run_meta, stop_timeout_s)
            raise
        finally:
            if not kept:
                # waits for stragglers when it already exited; else SIGTERM lets Locust stop its users
                # (their in-flight requests are recorded "cancelled") before SIGKILL
                stop_group(proc, timeout=stop_timeout_s + 5)
    return (0, overran, proc) if kept else (proc.returncode, overran, None)


def _wait(proc: subprocess.Popen, budget_s: float, tail: LogTail, progress: Progress | None,
          done: Callable[[], bool] | None = None) -> tuple[bool, bool]:
    """Until Locust exits, or (``done``, with --web-keep) the run has settled while Locust keeps
    serving its UI; returns (overran, settled while still running)."""
    deadline = time.monotonic() + budget_s
    live: Live | None = getattr(progress, "live", None)
    last = -1
    while proc.poll() is None:
        if time.monotonic() > deadline:
            return True, False
        if done is not None and done():
            return False, True
        last = _report(tail, last, progress, live)
        time.sleep(POLL_S)
    return False, False


def _report(tail: LogTail, last: int, progress: Progress | None, live: Live | None,
            finished: bool = False) -> int:
    done = tail.read()
    if progress is not None and done != last:
        progress(done, tail.total)
    if live is not None:  # every poll: elapsed time and ETA move even when no record came
        live(tail.snapshot(finished=finished))
    return done


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no Locust output)"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no Locust output)"


def _result(run_dir: Path, config: DriverConfig, corpus_size: int, corpus_ids: set[str],
            code: int, overran: bool, elapsed: float, stopped: Interrupted | None,
            topo: Topology, target_meta: Mapping[str, Any] | None = None) -> RunResult:
    meta = read_run_meta(config.run_meta) or {}
    got = collect(run_dir, meta, corpus_ids, config.load.lag_warn_ms)
    remote = topo.role == "master" and not got.files  # the records are on the workers' hosts
    problem = _run_problem(code, overran, got.check, meta, stopped is not None or remote, got,
                           topo.role == "worker")
    if meta and topo.role != "worker":
        meta = merge_into_meta(meta, got)
        if target_meta is not None:
            meta["extra"]["target"] = dict(target_meta)
        if stopped is not None:
            meta["extra"]["interrupted"] = {"signal": stopped.signal, "at": stopped.at}
        mark = partial_mark(meta["extra"].get("interrupted"), got.lost)
        if mark:
            meta["extra"]["partial"] = mark
        if remote:
            meta["extra"].setdefault("warnings", []).append(
                f"the records are on the workers' hosts: copy their requests.w*.jsonl and run.w*.json "
                f"into {run_dir}, then run: llmsuite analyze {run_dir}")
        write_meta_dict(config.run_meta, meta)
    if problem:
        raise RunError(f"load run {config.run_id} failed: {problem}. Files: {run_dir}\n"
                       f"--- last lines of {run_dir / 'locust.log'} ---\n{_tail(run_dir / 'locust.log')}")
    return RunResult(run_id=config.run_id, run_dir=run_dir, requests_path=config.out,
                     meta_path=config.run_meta, records=got.check.records, sent=got.check.sent or 0,
                     corpus_size=corpus_size, exit_code=code, duration_s=elapsed,
                     complete=got.check.complete, meta=meta, log_files=got.files,
                     interrupted=stopped is not None, stopped_by=stopped)


def _run_problem(code: int, overran: bool, check: LogCheck, meta: dict[str, Any],
                 interrupted: bool = False, got: Collected | None = None,
                 worker: bool = False) -> str | None:
    """Why this run cannot be trusted, or None (pure: the decision table of a run's outcome).
    An interrupted run is judged on its log alone: Locust was stopped, not finished."""
    if overran:
        return "Locust overran its time budget and was stopped by PID"
    if code != 0 and not interrupted:
        return f"Locust exited with code {code}"
    final = got.final if worker and got is not None else meta.get("extra", {}).get("final")
    if not final and not interrupted:
        return "run.json was not finalised (Locust did not reach test stop)"
    if check.records == 0 and not interrupted:
        return "no request was recorded (requests.jsonl is empty)"
    if not check.complete:
        return "the request log breaks Rule 1: " + "; ".join(check.problems())
    return None
