"""Coordination inside the Locust child: shares of the corpus, end of run, aborts, live services.

Distributed runs use Locust's own master/worker mode and its custom messages:

- at test start the master sends every connected worker ``llmsuite_share`` = {index, count, t0}:
  worker ``index`` of ``count`` sends ``feeder.select(index, count)`` — every request in exactly
  one share — and open-loop schedules start at the common epoch ``t0``. Locust delivers a
  worker's messages in order, so the share arrives before the spawn that starts its users;
- each worker answers ``llmsuite_ready`` once it holds its share. Locust calls a worker ready as
  soon as it connects — before it has loaded the corpus — so the master waits for these (bounded)
  before letting Locust spawn users, and measures the run's duration itself from then on (a
  ``--run-time`` started earlier would eat the workers' start-up);
- a worker whose share is sent and answered says ``llmsuite_done``; when all have, the master
  quits the run (a worker never quits alone: Locust would hand its users to the others);
- an abort rule tripped on a worker is sent as ``llmsuite_abort`` and decided by the master;
- a worker that dies (SIGKILL, OOM) stops sending heartbeats; Locust marks it ``missing`` after
  ~3 s and hands its users to the others (who only ever take from their own shares). The master's
  watch notes it in run.json ``extra.lost_workers`` and counts it done, so the run goes on with the
  others and ends when they are; its unsent share is not replayed, and the runner marks the run
  partial (suite.driver.control.collect).
- a worker whose shard is not the master's own file (another host or folder) ships its records
  to the master over the same link, acknowledged (suite.driver.inlocust.shiplink), and the run
  ends through a finish handshake so the last records travel too.

A standalone process takes the whole corpus and decides for itself. Only the master (or the
standalone process) watches the target's health. Duck-typed over Locust's runner API, so this
module itself imports no Locust.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import gevent

from suite.driver.control.health import probe, reason
from suite.driver.inlocust import shiplink
from suite.driver.inlocust.abort import HealthStreak
from suite.driver.inlocust.state import DriverState

MSG_SHARE = "llmsuite_share"
MSG_DONE = "llmsuite_done"
MSG_ABORT = "llmsuite_abort"
MSG_READY = "llmsuite_ready"
READY_TIMEOUT_S = 120.0
START_LEAD_S = 1.0  # workers need a moment to receive their share before the common t0
WATCH_S = 0.5  # how often the master looks for workers Locust marked missing
WEB_LINGER_S = 3.0  # with the web UI, the final numbers stay readable this long after the end
HEALTH_TIMEOUT_S = 5.0
FINISH_SIGNAL = signal.SIGUSR1  # = suite.driver.control.group.FINISH_SIGNAL
_WATCHERS: list[Any] = []  # gevent signal watchers, kept referenced for the process's life


def _is_worker(runner: Any) -> bool:
    return type(runner).__name__ == "WorkerRunner"


def setup_master(environment: Any, state: DriverState) -> None:
    runner = environment.runner
    state.meta.extra["role"] = "master"
    state.meta.extra["ready"] = []

    def on_ready(msg: Any, **_: Any) -> None:
        state.meta.extra["ready"].append(int(msg.data["index"]))
        shiplink.on_ready(environment, state, msg)

    def on_done(msg: Any, **_: Any) -> None:
        _worker_done(environment, state, int(msg.data["index"]))

    def on_abort(msg: Any, **_: Any) -> None:
        _abort_here(environment, state, str(msg.data["reason"]), float(msg.data["at"]))

    runner.register_message(MSG_DONE, on_done)
    runner.register_message(MSG_ABORT, on_abort)
    runner.register_message(MSG_READY, on_ready)
    shiplink.setup_master(environment, state)
    # the runner's "stopped: end now" (suite.driver.control.group.finish_first): through end_run, so
    # workers on other hosts ship their last records before Locust quits (its own SIGTERM would not)
    _WATCHERS.append(gevent.signal_handler(FINISH_SIGNAL, end_run, environment, state))


def _worker_done(environment: Any, state: DriverState, index: int) -> None:
    """Worker ``index`` finished its share (or was lost): end the run once every worker has."""
    state.done_workers.add(index)
    if len(state.done_workers) >= state.meta.extra.get("distributed", {}).get("workers", 0):
        end_run(environment, state)


def _watch_workers(environment: Any, state: DriverState) -> None:
    """Master: a worker Locust marked ``missing`` (no heartbeat) or dropped before it was done
    is lost: noted in run.json with when, and counted done so the run goes on with the others."""
    runner = environment.runner

    def loop() -> None:
        while True:
            gevent.sleep(WATCH_S)
            if runner.state in ("stopping", "stopped", "cleanup"):
                return  # workers quitting at the end are not lost
            for client_id, index in list(state.shares.items()):
                node = runner.clients.get(client_id)
                if index not in state.done_workers and (node is None or node.state == "missing"):
                    _lose(environment, state, index, client_id)

    gevent.spawn(loop)


def _lose(environment: Any, state: DriverState, index: int, client_id: str) -> None:
    state.lost_workers.add(index)
    state.meta.extra.setdefault("lost_workers", []).append(
        {"index": index, "client_id": client_id, "at": time.time(),
         "why": "no heartbeat from the worker (Locust marked it missing)"})
    state.write_meta(final=False)
    _worker_done(environment, state, index)


def hand_out_shares(environment: Any, state: DriverState) -> None:
    """Master, at test start: one share per connected worker, indexes 0..count-1."""
    runner = environment.runner
    ids = sorted(runner.clients, key=runner.get_worker_index)
    t0 = time.time() + START_LEAD_S
    for index, client_id in enumerate(ids):
        runner.send_message(MSG_SHARE, {"index": index, "count": len(ids), "t0": t0}, client_id=client_id)
        state.shares[client_id] = index
    state.meta.extra["distributed"] = {"workers": len(ids), "t0": t0}
    _await_ready(state, len(ids))
    # shares were handed out with a start lead; if loading took longer, late is late (recorded)
    state.t0 = t0
    if state.config.duration_s and not state.load.preset:
        gevent.spawn_later(state.config.duration_s, _time_up, environment, state)
    _watch_health(environment, state)
    _watch_workers(environment, state)


def _await_ready(state: DriverState, count: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while len(state.meta.extra["ready"]) < count and time.monotonic() < deadline:
        gevent.sleep(0.05)


def _time_up(environment: Any, state: DriverState) -> None:
    if environment.runner.state in ("running", "spawning"):
        end_run(environment, state)


def setup_worker(environment: Any, state: DriverState) -> None:
    def on_share(msg: Any, **_: Any) -> None:
        data = msg.data
        state.assign(int(data["index"]), int(data["count"]), float(data["t0"]))
        state.meta.extra["role"] = "worker"
        _serve_metrics(state, port_offset=int(data["index"]))
        state.write_meta(final=False)
        environment.runner.send_message(MSG_READY, {"index": state.index, **shiplink.ready_info(state)})
        if not state.feeder.requests:  # more workers than requests: nothing to wait for here
            share_finished(environment, state)

    environment.runner.register_message(MSG_SHARE, on_share)
    shiplink.setup_worker(environment, state)


def start_services(environment: Any, state: DriverState, port_offset: int) -> None:
    """Standalone process, at test start: its exporter and its health watch."""
    _serve_metrics(state, port_offset)
    _watch_health(environment, state)


def _serve_metrics(state: DriverState, port_offset: int) -> None:
    port = state.load.prometheus_port
    if port is None or state.metrics is not None:
        return
    from suite.driver.inlocust.exporter import DriverMetrics

    state.metrics = DriverMetrics(state.worker)
    state.metrics.serve(port + port_offset)
    state.meta.extra["prometheus"] = f"http://127.0.0.1:{port + port_offset}/metrics"


def share_finished(environment: Any, state: DriverState) -> None:
    """This process's share is sent and answered: end the run (or tell the master)."""
    runner = environment.runner
    if _is_worker(runner):
        if not state.meta.extra.get("done_sent"):
            state.meta.extra["done_sent"] = True
            runner.send_message(MSG_DONE, {"index": state.index})
    elif runner.state in ("running", "spawning"):
        end_run(environment)


def end_run(environment: Any, state: DriverState | None = None) -> None:
    """Stop the run and quit Locust. With the web UI, stop first and quit a little later: Locust's
    web mode would otherwise keep serving (and the run keep its process) until --run-time. A
    master with shipping workers first lets them ship the rest (suite.driver.inlocust.shiplink)."""
    if state is not None and shiplink.finish_then(environment, state, lambda: end_run(environment)):
        return
    runner, web_ui = environment.runner, getattr(environment, "web_ui", None)
    if web_ui is None:
        gevent.spawn(runner.quit)
        return

    def stop_then_quit() -> None:
        if type(runner).__name__ == "MasterRunner":
            # Locust forgets a worker once it has stopped: a quit sent after a stop reaches none
            # (they would linger, their last reports discarded). Quit now: the workers send their
            # final reports and go; the UI keeps the final numbers for the linger.
            runner.quit()
        else:
            runner.stop()
        if getattr(environment.parsed_options, "autoquit", 0) == -1:
            return  # --web-keep: no --autoquit, so the UI stays up until the runner stops Locust
        gevent.sleep(WEB_LINGER_S)
        runner.quit()
        web_ui.stop()

    gevent.spawn(stop_then_quit)


def abort(environment: Any, state: DriverState, why: str) -> None:
    """An abort rule tripped here: stop the run once, with the reason in run.json."""
    if state.meta.extra.get("abort_sent"):
        return
    state.meta.extra["abort_sent"] = True
    if _is_worker(environment.runner):
        environment.runner.send_message(MSG_ABORT, {"reason": why, "at": time.time()})
    else:
        _abort_here(environment, state, why, time.time())


def _abort_here(environment: Any, state: DriverState, why: str, at: float) -> None:
    if "aborted" in state.meta.extra:
        return
    state.mark_aborted(why, at)
    state.write_meta(final=False)
    end_run(environment, state)


def _watch_health(environment: Any, state: DriverState) -> None:
    limit = state.load.health_failures
    if limit is None:
        return
    streak = HealthStreak(limit)
    url = state.target + state.load.health_path
    config = state.config  # the run's auth headers: a gateway may answer 500 / 401 without them
    headers = config.request.auth_headers(config.api_key)

    def loop() -> None:
        while environment.runner is not None and environment.runner.state not in ("stopped", "stopping"):
            gevent.sleep(state.load.health_interval_s)
            try:
                status = probe(url, HEALTH_TIMEOUT_S, state.load.health_method, headers)
                ok, detail = status < 500, f"{url} answered HTTP {status}"
            except Exception as exc:  # refused, timed out, reset: the target is not answering
                ok, detail = False, f"{url}: {reason(exc)}"
            why = streak.add(ok, detail)
            if why:
                _abort_here(environment, state, why, time.time())
                return

    gevent.spawn(loop)

