"""Library entry point of the driver: replay a corpus against a target with Locust, in a subprocess.

Locust gevent-patches the process that imports it, so ``run_load`` never imports it: it validates
the corpus, checks the target answers, launches ``python -m locust --headless`` on
``suite/driver/locustfile.py`` with its settings in the environment (suite.driver.config), reports
progress from the growing request log, and afterwards proves Rule 1 (one record per request sent)
before returning. Every wait is bounded; the child is stopped by its PID, never by name.
"""

from __future__ import annotations

import math
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from suite.driver.config import DEFAULT_TARGET_PATH, DEFAULT_TIMEOUT_S, DriverConfig
from suite.driver.health import check_target
from suite.driver.meta import read_run_meta
from suite.driver.record import LogCheck, check_log
from suite.errors import CorpusError, RunError, SpecError
from suite.records import read_corpus
from suite.services import stop_pid

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STOP_TIMEOUT_S = 30.0
STARTUP_MARGIN_S = 60.0
POLL_S = 0.25
REQUESTS_FILE = "requests.jsonl"
RUN_META_FILE = "run.json"

Progress = Callable[[int, int], None]

# Flags run_load sets itself, and why a caller may not pass them in ``locust_args``.
RESERVED_FLAGS: dict[str, str] = {
    **dict.fromkeys(("-f", "--locustfile", "-H", "--host", "-u", "--users", "-r", "--spawn-rate",
                     "-t", "--run-time", "--stop-timeout", "--csv", "--headless"),
                    "run_load sets it from its own arguments"),
    **dict.fromkeys(("--processes", "--master", "--worker"),
                    "distributed runs are not supported yet: every process would replay the "
                    "whole corpus, so each request would be sent more than once"),
}


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

    @property
    def finished_corpus(self) -> bool:
        """Every corpus request was sent (the run did not hit its duration first)."""
        return self.sent == self.corpus_size


def new_run_id(now: datetime | None = None, token: str | None = None) -> str:
    """``<UTC yyyymmdd-HHMMSS>-<6 hex>``: sorts by time, unique across parallel runs.

    >>> new_run_id(datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "abc123")
    '20250102-030405-abc123'
    """
    now = now or datetime.now(timezone.utc)
    return f"{now.astimezone(timezone.utc):%Y%m%d-%H%M%S}-{token or secrets.token_hex(3)}"


def locust_command(target: str, users: int, spawn_rate: float, duration_s: float, csv_prefix: Path,
                   extra: Sequence[str] = (), stop_timeout_s: float = STOP_TIMEOUT_S) -> list[str]:
    """The Locust command line (pure, so tests can read it). Locust's ``-t`` takes whole seconds."""
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "-u", str(users), "-r", _num(spawn_rate), "-t", f"{max(1, math.ceil(duration_s))}s",
            "--stop-timeout", _num(stop_timeout_s), "--host", target, "--only-summary",
            "--csv", str(csv_prefix), "--exit-code-on-error", "0", *extra]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _validate(users: int, spawn_rate: float, duration_s: float, target: str,
              stop_timeout_s: float = STOP_TIMEOUT_S) -> None:
    if users < 1:
        raise SpecError(f"users: {users} is not valid (must be >= 1).")
    if spawn_rate <= 0:
        raise SpecError(f"spawn_rate: {spawn_rate} is not valid (must be > 0 users per second).")
    if duration_s <= 0:
        raise SpecError(f"duration: {duration_s} s is not valid (must be > 0).")
    if stop_timeout_s < 0:
        raise SpecError(f"stop_timeout: {stop_timeout_s} s is not valid (must be >= 0).")
    if not target.startswith(("http://", "https://")):
        raise SpecError(f"target: {target!r} is not an http(s) URL, e.g. http://127.0.0.1:8000")


def _check_locust_args(args: Sequence[str]) -> None:
    for arg in args:
        flag = arg.split("=", 1)[0]
        if flag in RESERVED_FLAGS:
            raise SpecError(f"locust_args: {arg!r} is not allowed ({RESERVED_FLAGS[flag]}).")


def _prepare_run_dir(out_dir: Path, run_id: str) -> Path:
    run_dir = out_dir / run_id
    if (run_dir / REQUESTS_FILE).exists():
        raise SpecError(f"{run_dir / REQUESTS_FILE} already exists; a run never appends to an old "
                        f"log. Choose another run id or remove that folder.")
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def run_load(corpus: Path, target: str, out_dir: Path, users: int, spawn_rate: float,
             duration_s: float, *, api_key: str | None = None, progress: Progress | None = None,
             locust_args: Sequence[str] = (), run_id: str | None = None,
             target_path: str = DEFAULT_TARGET_PATH,
             timeout_s: float = DEFAULT_TIMEOUT_S,
             stop_timeout_s: float = STOP_TIMEOUT_S,
             max_wall_s: float | None = None) -> RunResult:
    """Replay ``corpus`` against ``target`` with ``users`` closed-loop Locust users.

    Writes ``out_dir/<run_id>/{requests.jsonl, run.json, locust_*.csv, locust.log}``. Stops when
    the corpus is exhausted or ``duration_s`` is over (in-flight requests get ``stop_timeout_s``
    to finish, then are recorded as ``cancelled``). Raises CorpusError, TargetError (target
    unreachable), SpecError, or RunError (Locust failed, or the log does not hold exactly one
    record per request sent). ``max_wall_s`` bounds the whole Locust process (default: duration
    + ramp-up + stop timeout + 60 s); past it Locust gets SIGTERM (in-flight requests are
    recorded ``cancelled``), then SIGKILL, and the run is a RunError.
    """
    _validate(users, spawn_rate, duration_s, target, stop_timeout_s)
    _check_locust_args(locust_args)
    target = target.rstrip("/")
    requests = read_corpus(corpus)
    corpus_ids = {r.id for r in requests}
    if len(corpus_ids) != len(requests):
        raise CorpusError(f"{corpus}: {len(requests) - len(corpus_ids)} duplicate request id(s); "
                          f"each request needs a unique id to be logged once. Regenerate it.")
    check_target(target)
    run_id = run_id or new_run_id()
    # absolute: Locust runs with the run folder as its working directory
    run_dir = _prepare_run_dir(out_dir.resolve(), run_id)
    config = DriverConfig(corpus=corpus.resolve(), out=run_dir / REQUESTS_FILE,
                          run_meta=run_dir / RUN_META_FILE, run_id=run_id, target_path=target_path,
                          api_key=api_key, timeout_s=timeout_s, duration_s=duration_s,
                          spawn_rate=spawn_rate)
    cmd = locust_command(target, users, spawn_rate, duration_s, run_dir / "locust", locust_args,
                         stop_timeout_s)
    budget = max_wall_s or duration_s + users / spawn_rate + stop_timeout_s + STARTUP_MARGIN_S
    t0 = time.monotonic()
    code, overran = _run_locust(cmd, config, run_dir, budget, len(requests), progress,
                                stop_timeout_s)
    return _result(run_dir, config, len(requests), corpus_ids, code, overran, time.monotonic() - t0)


def _child_env(config: DriverConfig) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSUITE_") or
           k == "LLMSUITE_CACHE_DIR"}
    env.update(config.to_env())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run_locust(cmd: list[str], config: DriverConfig, run_dir: Path, budget_s: float, total: int,
                progress: Progress | None, stop_timeout_s: float) -> tuple[int, bool]:
    """Run Locust to completion (bounded by ``budget_s``); return (exit code, overran)."""
    log_path = run_dir / "locust.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=_child_env(config), cwd=run_dir, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            overran = _wait(proc, config.out, budget_s, total, progress)
        finally:
            # no-op when it already exited; else SIGTERM lets Locust stop its users (their
            # in-flight requests are recorded "cancelled") before SIGKILL
            stop_pid(proc, timeout=stop_timeout_s + 5)
    return proc.returncode, overran


def _wait(proc: subprocess.Popen, out: Path, budget_s: float, total: int,
          progress: Progress | None) -> bool:
    deadline = time.monotonic() + budget_s
    counter = LineCounter(out)
    last = -1
    while proc.poll() is None:
        if time.monotonic() > deadline:
            return True
        last = _report(counter, total, last, progress)
        time.sleep(POLL_S)
    _report(counter, total, last, progress)
    return False


def _report(counter: LineCounter, total: int, last: int, progress: Progress | None) -> int:
    done = counter.count()
    if progress is not None and done != last:
        progress(done, total)
    return done


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


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no Locust output)"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no Locust output)"


def _result(run_dir: Path, config: DriverConfig, corpus_size: int, corpus_ids: set[str],
            code: int, overran: bool, elapsed: float) -> RunResult:
    meta = read_run_meta(config.run_meta) or {}
    lines = config.out.read_bytes().splitlines() if config.out.exists() else []
    sent = meta.get("extra", {}).get("sent")
    check = check_log(lines, sent if isinstance(sent, int) else None, corpus_ids)
    problem = _run_problem(code, overran, check, meta)
    if problem:
        raise RunError(f"load run {config.run_id} failed: {problem}. Files: {run_dir}\n"
                       f"--- last lines of {run_dir / 'locust.log'} ---\n{_tail(run_dir / 'locust.log')}")
    return RunResult(run_id=config.run_id, run_dir=run_dir, requests_path=config.out,
                     meta_path=config.run_meta, records=check.records, sent=check.sent or 0,
                     corpus_size=corpus_size, exit_code=code, duration_s=elapsed,
                     complete=check.complete, meta=meta)


def _run_problem(code: int, overran: bool, check: LogCheck, meta: dict[str, Any]) -> str | None:
    """Why this run cannot be trusted, or None (pure: the decision table of a run's outcome)."""
    if overran:
        return "Locust overran its time budget and was stopped by PID"
    if code != 0:
        return f"Locust exited with code {code}"
    if not meta.get("extra", {}).get("final"):
        return "run.json was not finalised (Locust did not reach test stop)"
    if check.records == 0:
        return "no request was recorded (requests.jsonl is empty)"
    if not check.complete:
        return "the request log breaks Rule 1: " + "; ".join(check.problems())
    return None
