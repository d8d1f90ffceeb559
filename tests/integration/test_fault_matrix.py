"""The fault matrix of issue 13: one real ``python -m suite.cli run`` per fault, against the bundled
mock (a real process, ``--timing-log``) with the fault injected per model in a profiles file, or
with a process killed / signalled mid-run. Each case asserts

- the exit code;
- Rule 1: record ids unique, "sent N, recorded N" printed and ``sent == records`` in run.json,
  and every X-Request-Id the mock logged as answered in full is a record id (the timing log is a
  subset: it holds only answers sent in full); when the mock was stopped cleanly (its log
  flushed), every successful record is in that log too;
- the error kinds present;
- ``summary.json`` ``run.partial``: present exactly for the interrupted / lost-worker cases.

The mock draws faults from a seeded ``random.Random``: the run's pre-load check is its first
request, so each case's seed is one whose first draw is not a fault (else the check refuses the
target before any load, exit 4, and the case would test nothing).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from suite.errors import EXIT_RUN_ABORTED
from suite.records import write_jsonl
from suite.services import MockServerProcess, RedisServer, free_port, start_redis
from tests.integration.driver.test_lifecycle import lines, pid_of, records, wait_for
from tests.integration.driver.test_locust_run import corpus_line

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PROBE_ID = "llmsuite-health-probe"  # the pre-run check's request id (suite.driver.control.health)
MODEL = "gpt-4o"
WAIT_S = 90.0
# answers: fast ones (~0.1 s) for the fault cases, slow ones (~0.5 s) so that a kill or a signal
# always finds requests in flight
FAST = {"ttft_base_s": 0.05, "ttft_jitter_s": 0.0, "tokens_per_s": 200,
        "output_tokens": {"median": 8, "spread": 0.0}}
SLOW = {**FAST, "tokens_per_s": 20, "output_tokens": {"median": 10, "spread": 0.0}}
INTERRUPTED = {"cancelled"}  # what a stopped run may record for the requests it had in flight


@dataclass(frozen=True)
class Case:
    """One fault: how it is set up, what the run is given, and what it must end with."""

    faults: dict[str, float] | None = None  # the model's profile ``faults:``
    args: tuple[str, ...] = ()  # extra ``run`` options
    action: str = "none"  # none | down | kill_mock | kill_redis | kill_worker | SIGINT | SIGTERM
    n: int = 30  # corpus size
    slow: bool = False
    exit_code: int = 0
    kinds: frozenset[str] = frozenset()  # error kinds that must be present
    allowed: frozenset[str] = frozenset()  # further kinds that may be present
    partial: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


CASES = {
    "target_down_at_start": Case(action="down", exit_code=4),
    "mock_sigkill_mid_run": Case(action="kill_mock", n=300, slow=True, exit_code=EXIT_RUN_ABORTED,
                                 args=("--abort-connect-errors", "5", "--max-error-ratio", "1"),
                                 kinds=frozenset({"connect"}),
                                 allowed=frozenset({"connection_closed", "stream_incomplete"})),
    "5xx_burst": Case(faults={"500": 0.3}, kinds=frozenset({"http_500"})),
    "429_retry_after": Case(faults={"429": 0.3}, kinds=frozenset({"http_429"})),
    "stall_beyond_timeout": Case(faults={"stall_first=3": 0.3}, n=16, args=("--timeout", "1"),
                                 kinds=frozenset({"timeout"})),
    "stream_cut": Case(faults={"disconnect=2": 0.3}, kinds=frozenset({"stream_incomplete"})),
    "malformed_chunk": Case(faults={"malformed=2": 0.3}, kinds=frozenset({"invalid_json"})),
    "redis_killed": Case(action="kill_redis", n=40, slow=True),
    "worker_sigkilled": Case(action="kill_worker", n=80, slow=True, args=("--processes", "2"),
                             allowed=frozenset(INTERRUPTED), partial=True),
    "sigint": Case(action="SIGINT", n=300, slow=True, exit_code=130, allowed=frozenset(INTERRUPTED),
                   partial=True),
    "sigterm": Case(action="SIGTERM", n=300, slow=True, exit_code=143, allowed=frozenset(INTERRUPTED),
                    partial=True),
}


def seed_sparing_the_check(faults: dict[str, float] | None) -> int:
    """A mock ``--seed`` whose first fault draw (the pre-run check's) is no fault.

    Mirrors mock_server/answer.py (``random.Random(f"faults:{seed}")``, one draw per request
    against the cumulative rates); if that changes, the check fails and the run exits 4, loudly."""
    total = sum((faults or {}).values())
    return next(s for s in range(1000) if random.Random(f"faults:{s}").random() >= total)


@dataclass
class Outcome:
    """What one run left: its exit code and output, its records and files, the mock's log."""

    exit_code: int
    out: str
    err: str
    run_dir: Path
    records: list[dict[str, Any]]
    logged_ids: list[str]  # X-Request-Id of every answer the mock logged as sent in full
    mock_flushed: bool  # the mock was stopped cleanly, so its timing log is complete


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A Redis of this test alone (the session's shared one must not be killed)."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


def _start_mock(case: Case, tmp_path: Path, factory: Callable[..., MockServerProcess], cache: str,
                timing_log: Path) -> MockServerProcess:
    profile = {**(SLOW if case.slow else FAST)}
    if case.faults:
        profile["faults"] = case.faults
    profiles = tmp_path / "profiles.yaml"
    profiles.write_bytes(orjson.dumps({"models": {MODEL: profile}}))  # JSON is YAML
    return factory(cache=cache, profiles=profiles, seed=seed_sparing_the_check(case.faults),
                   extra_args=["--timing-log", str(timing_log)])


def _run(case: Case, tmp_path: Path, factory: Callable[..., MockServerProcess],
         redis: Callable[[], RedisServer]) -> Outcome:
    """Start what the case needs, run the driver as a user would, inject the fault, collect."""
    corpus, out_dir, timing_log = tmp_path / "c.jsonl", tmp_path / "runs", tmp_path / "timing.jsonl"
    write_jsonl(corpus, [corpus_line(i, MODEL, f"Question {i}: name a prime above {i * 7}.", None,
                                     max_tokens=16) for i in range(case.n)])
    cache_server = redis() if case.action == "kill_redis" else None
    mock = None
    if case.action == "down":
        url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    else:
        mock = _start_mock(case, tmp_path, factory, cache_server.url if cache_server else "memory",
                           timing_log)
        url = mock.url
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LLMSUITE_") and k != "OPENAI_API_KEY"}
    env["COLUMNS"] = "400"  # one message per line, whatever the terminal
    cmd = [sys.executable, "-m", "suite.cli", "run", "-c", str(corpus), "-t", url, "--out", str(out_dir),
           "--run-id", "r", "-d", "60", "-u", "4", "-r", "50", "--monitor-interval", "0", *case.args]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    run_dir = out_dir / "r"
    if case.action in ("kill_mock", "kill_redis", "SIGINT", "SIGTERM"):
        wait_for(lambda: lines(run_dir) >= 12, proc, "12 records")
        if case.action == "kill_mock":
            assert mock is not None
            mock.proc.kill()  # SIGKILL by PID: no flush, no goodbye
        elif case.action == "kill_redis":
            assert cache_server is not None
            cache_server.proc.kill()
        else:
            os.kill(proc.pid, getattr(signal, case.action))
    elif case.action == "kill_worker":
        wait_for(lambda: lines(run_dir, "requests.w1.jsonl") >= 3, proc, "worker 1's third record")
        os.kill(pid_of(orjson.loads((run_dir / "run.w1.json").read_bytes())), signal.SIGKILL)
    try:
        out, err = proc.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the run did not end:\n{out.decode()}\n{err.decode()}")
    flushed = False
    if mock is not None and case.action != "kill_mock":
        flushed = mock.stop() is not None  # SIGTERM: the timing log is flushed at shutdown
    logged = []
    if timing_log.exists():
        logged = [orjson.loads(line)["request_id"] for line in timing_log.read_bytes().splitlines()]
    if case.action == "kill_redis":  # the outage really happened, and the mock said so
        assert mock is not None and "failing" in mock.log() and "serving requests as MISS" in mock.log()
    return Outcome(proc.returncode, out.decode(), err.decode(), run_dir, records(run_dir),
                   [i for i in logged if i != PROBE_ID], flushed)


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_fault_matrix(name: str, tmp_path: Path, mock_server_factory: Callable[..., MockServerProcess],
                      request: pytest.FixtureRequest) -> None:
    case = CASES[name]
    got = _run(case, tmp_path, mock_server_factory, lambda: request.getfixturevalue("private_redis"))
    kinds = {r["error"]["kind"] for r in got.records if r["error"]}
    ids = [r["id"] for r in got.records]
    summary_path = got.run_dir / "summary.json"
    summary = orjson.loads(summary_path.read_bytes()) if summary_path.exists() else None
    partial = summary is not None and "partial" in summary["run"]

    assert got.exit_code == case.exit_code, got.out + got.err
    # Rule 1
    assert len(ids) == len(set(ids)), "an id recorded twice"
    unrecorded = set(got.logged_ids) - set(ids)
    if case.action == "kill_worker" and unrecorded:  # answered into a dead worker's socket buffer:
        meta = orjson.loads((got.run_dir / "run.json").read_bytes())  # lost, but named in flight
        in_flight = {i for w in meta["extra"]["partial"]["lost_workers"] for i in w["in_flight_ids"]}
        assert unrecorded <= in_flight, unrecorded - in_flight
    else:
        assert not unrecorded, f"the mock answered {sorted(unrecorded)} but no record holds them"
    assert len(got.logged_ids) == len(set(got.logged_ids)), "the mock answered an id twice"
    if got.mock_flushed:
        assert {r["id"] for r in got.records if r["ok"]} <= set(got.logged_ids)
    if case.action == "down":
        assert ids == [] and got.logged_ids == []
        assert "cannot reach target" in got.err and summary is None
        return
    assert f"sent {len(ids)}, recorded {len(ids)}" in got.out, got.out + got.err
    meta = orjson.loads((got.run_dir / "run.json").read_bytes())
    assert meta["extra"]["sent"] == meta["extra"]["records"] == len(ids)
    # the error kinds
    assert case.kinds <= kinds <= case.kinds | case.allowed, kinds
    # the partial mark: exactly for the interrupted and lost-worker runs
    assert summary is not None
    assert partial is case.partial, summary["run"].get("partial")
    _case_specifics(name, case, got, meta, kinds)


def _case_specifics(name: str, case: Case, got: Outcome, meta: dict[str, Any], kinds: set[str]) -> None:
    """What only one fault can show: which timeout, the Retry-After, the abort, the lost worker."""
    if name == "mock_sigkill_mid_run":
        assert len(got.records) < case.n  # the abort stopped it, the corpus was not burned
        assert meta["extra"]["aborted"]["reason"].startswith("target refused 5 connections in a row")
        first_connect = min(i for i, r in enumerate(sorted(got.records, key=lambda r: r["t_start"]))
                            if r["error"] and r["error"]["kind"] == "connect")
        later = sorted(got.records, key=lambda r: r["t_start"])[first_connect:]
        assert all(r["error"] and r["error"]["kind"] == "connect" for r in later)
    elif name == "429_retry_after":
        assert {r["retry_after"] for r in got.records if r["status"] == 429} == {1.0}
    elif name == "stall_beyond_timeout":
        stalled = [r for r in got.records if r["error"]]
        assert all(r["error"]["message"].startswith("total: ") and 1 <= r["e2e"] < 3 for r in stalled)
    elif name == "redis_killed":
        assert all(r["ok"] for r in got.records) and len(got.records) == case.n  # fail open: 0 5xx
    elif name == "worker_sigkilled":
        lost = meta["extra"]["partial"]["lost_workers"]
        assert [w["index"] for w in lost] == [1]
    elif name in ("sigint", "sigterm"):
        assert meta["extra"]["interrupted"]["signal"] == case.action
        assert len(got.records) < case.n
