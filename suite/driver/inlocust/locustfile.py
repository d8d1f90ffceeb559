"""The Locust users that replay a corpus against a target: closed loop, open loop, presets, workers.

The only module of the suite that imports Locust (which gevent-patches its process; beside it,
suite.driver.inlocust.distributed imports gevent): the runner starts it in a subprocess (``python
-m locust -f <this file>``: Locust loads it by path, so every import here is absolute) and
configures it through the environment (suite.driver.control.config). Nothing imports this module.

Rule 1: every request sent has exactly one record, failures included — ``_send`` writes the record
in a ``finally`` so a connection error, a cut stream, garbage JSON or the greenlet being killed at
shutdown (kind ``cancelled``) are all recorded. A request is counted as sent (``feeder.take``) only
right before it is sent, never while it waits for its time.

Load models: ``CorpusReplayUser`` (closed loop: take the next request, send, wait for the answer,
think, repeat; optionally a whole session per user) and ``OpenLoopUser`` (one per process: spawns a
greenlet per request at its scheduled epoch, whether or not earlier ones answered, at most
``max_concurrency`` in flight). The unused one is ``abstract`` so Locust never runs it. A preset
adds ``PresetShape``. Distributed: the master hands every worker its share of the corpus and a
common start epoch (Locust custom messages, suite.driver.inlocust.distributed); workers report when
done.

The exchange itself (request body, headers, reading and timing the answer) is
suite.driver.exchange.send, which is free of Locust.
"""

from __future__ import annotations

import atexit
import os
import time
from typing import Any

import gevent
from gevent.pool import Pool
from locust import FastHttpUser, LoadTestShape, constant, events, task
from locust.exception import StopUser
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

from suite.driver.control.config import ENV_DURATION, ENV_LOAD, DriverConfig
from suite.driver.control.loadopts import LoadOptions
from suite.driver.control.shapes import get_preset, scaled, tick
from suite.driver.exchange.measure import Measured
from suite.driver.exchange.record import classify_exception
from suite.driver.exchange.send import Exchange, tune_client
from suite.driver.inlocust import distributed, webtab
from suite.driver.inlocust.livestats import LiveStats
from suite.driver.inlocust.sink import DEFAULT_INTERVAL_S as FLUSH_INTERVAL_S
from suite.driver.inlocust.state import DriverState
from suite.records import CorpusRequest

# Every status is "valid" to the HTTP client so 4xx/5xx bodies stay readable (the error message
# is in them); success is decided by the measurement (suite.driver.exchange.send), never the status.
ALL_STATUSES = frozenset(range(100, 600))
# Which classes exist is decided at import (Locust collects them before any event fires).
LOAD = LoadOptions.from_json(os.environ[ENV_LOAD]) if os.environ.get(ENV_LOAD) else LoadOptions()

STATE: DriverState | None = None
EXCHANGE: Exchange | None = None
LIVE: LiveStats | None = None  # --web: the LLM tab's figures (suite.driver.inlocust.webtab)


def _state() -> DriverState:
    if STATE is None:
        raise RuntimeError("driver state not initialised: the Locust init event did not run")
    return STATE


@events.init.add_listener
def _on_init(environment: Any, runner: Any = None, web_ui: Any = None, **_: Any) -> None:
    global STATE, EXCHANGE, LIVE
    config = DriverConfig.from_env(os.environ)
    STATE = DriverState(config, environment.host or "", sends=not isinstance(runner, MasterRunner))
    EXCHANGE = Exchange(config, start_timer=gevent.Timeout.start_new)  # --timeout, --ttft-timeout
    # Closed only at exit, never on Locust's "quitting" event: on SIGTERM that event fires
    # *before* the users are stopped, and their last records must still be written (Rule 1).
    atexit.register(STATE.close)
    gevent.spawn(_flusher, STATE)
    for user in (CorpusReplayUser, OpenLoopUser):
        user.network_timeout = user.connection_timeout = config.timeout_s
    CorpusReplayUser.wait_time = constant(config.load.think_time_s)
    if isinstance(runner, MasterRunner):
        distributed.setup_master(environment, STATE)
    elif isinstance(runner, WorkerRunner):
        distributed.setup_worker(environment, STATE)
    if config.load.llm_stats:
        LIVE = _live_view(environment, runner, web_ui)
    # Loading the corpus and the BPE files blocked the loop; gevent's cached clock still says
    # "before", and Locust's --run-time timer (created next) would fire early by that much.
    gevent.get_hub().loop.update_now()


def _live_view(environment: Any, runner: Any, web_ui: Any) -> LiveStats:
    """The LLM tab beside Locust's own statistics (never in them): its figures, where they come from."""
    live = LiveStats()
    if isinstance(runner, WorkerRunner):
        webtab.report_from_worker(environment, live)
    elif isinstance(runner, MasterRunner):
        webtab.collect_on_master(environment, live)
    if web_ui is not None:
        webtab.install_tab(web_ui, live)
    return live


def _flusher(state: DriverState) -> None:
    """Pending records reach the file at least every flush interval, even in a quiet run."""
    while True:
        gevent.sleep(FLUSH_INTERVAL_S)
        if state.writer is not None:
            state.writer.flush()


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    state = _state()
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        distributed.hand_out_shares(environment, state)
    elif not isinstance(runner, WorkerRunner):
        state.assign(None, 1)
        distributed.start_services(environment, state, port_offset=0)
    opts = environment.parsed_options
    state.meta.started = time.time()
    state.meta.users = int(getattr(opts, "num_users", 0) or 0)
    state.meta.duration_s = float(getattr(opts, "run_time", 0) or state.meta.duration_s)
    state.meta.extra.update(spawn_rate=getattr(opts, "spawn_rate", None),
                            stop_timeout=getattr(opts, "stop_timeout", None),
                            target_path=state.config.target_path, worker=state.worker)
    state.write_meta(final=False)


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    _state().write_meta(final=True)


def _running(environment: Any) -> bool:
    """False once the run is stopping. Locust kills a user that is between tasks, but the kill
    lands at the user's next switch — after it may have started one more request, which would
    then be cut and logged "cancelled". So no request is started once stopping began."""
    runner = environment.runner
    return runner is not None and runner.state in (STATE_RUNNING, STATE_SPAWNING)


class _Sender(FastHttpUser):
    """Sends one corpus request and writes its one record."""

    abstract = True
    max_retries = 0  # a POST is never silently re-sent: one send, one record
    retry_after: float | None = None  # the last record's Retry-After (seconds), for honour

    def on_start(self) -> None:
        self.index = _state().next_user()
        # geventhttpclient's UserAgent raises on a status outside this class attribute
        self.client.client.valid_response_codes = ALL_STATUSES
        tune_client(self.client)

    def _send(self, req: CorpusRequest, scheduled: float | None = None) -> str | None:
        """Send, record; returns the record's error kind (None when it succeeded)."""
        state = _state()
        t_start = time.time()
        t_send = time.perf_counter()
        m: Measured | None = None
        if LIVE is not None:
            LIVE.started(req.model)
        try:
            state.sending(req)  # inside: should the journal fail, the request is still recorded
            m = EXCHANGE.send(self.client, req, t_send)  # type: ignore[union-attr]
        except Exception as exc:  # a driver bug: record it (kind "client"), let Locust log it
            m = Measured(error=classify_exception(exc), e2e=time.perf_counter() - t_send)
            raise
        finally:
            if m is None:  # killed mid-request: GreenletExit when the run stops
                m = Measured(error={"kind": "cancelled", "message": "the run stopped before the "
                                    "response completed"}, e2e=time.perf_counter() - t_send)
            rec = state.record(req, m, user=self.index, t_start=t_start, scheduled=scheduled)
            if LIVE is not None:
                LIVE.observe(rec)
            if state.abort_reason is not None:
                distributed.abort(self.environment, state, state.abort_reason)
            if state.feeder.done():
                distributed.share_finished(self.environment, state)
        self.retry_after = rec.retry_after
        return rec.error["kind"] if rec.error else None


class CorpusReplayUser(_Sender):
    """Closed loop: take the next corpus request, send it, read the answer to its end, repeat."""

    abstract = LOAD.mode != "closed"
    wait_time = constant(0)

    @task
    def replay(self) -> None:
        state = _state()
        hold = state.t0 - time.time()
        if hold > 0:  # a worker holds its first send until the run's common start t0
            gevent.sleep(hold)
        if not _running(self.environment):
            raise StopUser()
        req = state.feeder.take(self.index)
        if req is None:
            raise StopUser()
        pause = state.backoff.observe(self._send(req))
        if state.load.retry_after == "honour":  # --retry-after honour: this user waits as asked
            pause = max(pause, state.retry.observe(self.retry_after))
        if pause:
            gevent.sleep(pause)  # a refusing or throttling target: suite.driver.inlocust.backoff


class OpenLoopUser(_Sender):
    """Open loop: one per process sends its share of the corpus at the scheduled epochs."""

    abstract = LOAD.mode != "open"
    wait_time = constant(0)
    concurrency = LOAD.max_concurrency  # connections of this user's HTTP pool

    @task
    def replay(self) -> None:
        state = _state()
        if state.schedule_started:  # a second user on this process (e.g. a rebalance) stays idle
            raise StopUser()
        state.schedule_started = True
        pool = Pool(state.load.max_concurrency)
        try:
            self._schedule(state, pool)
            pool.join()
        finally:
            pool.kill(block=True)  # still in flight when the run stops: recorded "cancelled"
        raise StopUser()

    def _schedule(self, state: DriverState, pool: Pool) -> None:
        feeder = state.feeder
        while not feeder.exhausted:
            due = state.due[feeder.next_index]
            delay = due - time.time()
            if delay > 0:
                gevent.sleep(delay)
            if not _running(self.environment):
                return
            if pool.full():
                state.lag.overflow += 1
                pool.wait_available()
            req = feeder.take()
            if req is None:
                return
            pool.spawn(self._send, req, due)


if LOAD.preset:

    class PresetShape(LoadTestShape):
        """The named preset (suite.driver.control.shapes), stretched to --duration, peak scaled to --users."""

        def __init__(self) -> None:
            super().__init__()
            self.preset = scaled(get_preset(LOAD.preset or ""), LOAD.preset_users)
            raw = os.environ.get(ENV_DURATION)
            self.duration_s = float(raw) if raw else None

        def tick(self) -> tuple[int, float] | None:
            return tick(self.preset, self.get_run_time(), self.duration_s)
