"""The Locust user that replays a corpus against an OpenAI-compatible target.

The only module of the suite that imports Locust (which gevent-patches its process): the runner
starts it in a subprocess (``python -m locust -f <this file>``) and configures it through the
environment (suite.driver.config). Nothing else imports this module.

Rule 1: every request sent has exactly one record in ``requests.jsonl``, failures included —
``CorpusReplayUser._send`` writes the record in a ``finally`` so a connection error, a cut stream,
garbage JSON or the greenlet being killed at shutdown (kind ``cancelled``) are all recorded.
Order: each corpus request is sent exactly once, in corpus order across all users
(suite.driver.feeder); when the corpus is exhausted and the last answer is in, the run quits.

Timing: with ``stream=True`` Locust's own response time is time-to-headers only, so TTFT/ITL/E2E
are stamped here with ``time.perf_counter()`` as bytes arrive; the E2E is also handed to Locust's
stats so its console and CSV show whole-response times.
"""

from __future__ import annotations

import atexit
import os
import time
from typing import Any

import gevent
import orjson
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser
from locust.runners import STATE_RUNNING, STATE_SPAWNING

from suite.driver.config import DriverConfig
from suite.driver.feeder import CorpusFeeder
from suite.driver.measure import (
    Measured,
    StreamAccumulator,
    cache_status,
    measure_http_error,
    measure_json,
)
from suite.driver.meta import versions, write_run_meta
from suite.driver.record import RecordWriter, build_record, classify_exception, worker_name
from suite.driver.sse import SSEParser
from suite.records import CorpusRequest, RunMeta, file_sha256, read_corpus
from suite.tokens import encoding_for

# Every status is "valid" to the HTTP client so 4xx/5xx bodies stay readable (the error message
# is in them); success is decided by the measurement, never by the status alone.
ALL_STATUSES = frozenset(range(100, 600))


class DriverState:
    """Everything the users of this process share: config, corpus cursor, log writer, meta."""

    def __init__(self, config: DriverConfig, host: str) -> None:
        self.config = config
        self.target = host.rstrip("/")
        self.feeder = CorpusFeeder(read_corpus(config.corpus))
        self.writer = RecordWriter(config.out)
        self.worker = worker_name()
        self.users_started = 0
        self.meta = RunMeta(run_id=config.run_id, target=self.target, corpus=str(config.corpus),
                            corpus_sha256=file_sha256(config.corpus), users=0,
                            duration_s=config.duration_s or 0.0, started=time.time(),
                            requests_in_corpus=len(self.feeder.requests), versions=versions())
        for model in {r.model for r in self.feeder.requests}:
            encoding_for(model)  # load BPE now: a first load mid-run would stall every greenlet
        self.headers = {"Content-Type": "application/json", "Accept-Encoding": "identity"}
        if config.api_key:
            self.headers["Authorization"] = f"Bearer {config.api_key}"

    def next_user(self) -> int:
        self.users_started += 1
        return self.users_started - 1

    def record(self, req: CorpusRequest, m: Measured, *, user: int, t_start: float) -> None:
        self.writer.write(build_record(req, m, target=self.target, worker=self.worker, user=user,
                                       t_start=t_start))

    def write_meta(self, *, final: bool) -> None:
        if final:
            self.meta.ended = time.time()
        self.meta.extra.update(sent=self.feeder.sent, records=self.writer.count,
                               in_flight=self.feeder.in_flight,
                               corpus_exhausted=self.feeder.exhausted, final=final)
        write_run_meta(self.config.run_meta, self.meta)


STATE: DriverState | None = None


def _state() -> DriverState:
    if STATE is None:
        raise RuntimeError("driver state not initialised: the Locust init event did not run")
    return STATE


def request_body(req: CorpusRequest) -> bytes:
    body: dict[str, Any] = {"model": req.model, "messages": req.messages,
                            "max_tokens": req.max_tokens, "temperature": req.temperature,
                            "stream": req.stream}
    if req.stream:
        body["stream_options"] = {"include_usage": True}
    return orjson.dumps(body)


def _header(resp: Any, name: str) -> str | None:
    headers = getattr(resp, "headers", None)
    value = headers.get(name) if headers is not None else None
    if isinstance(value, list):
        value = value[0] if value else None
    return value


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    global STATE
    STATE = DriverState(DriverConfig.from_env(os.environ), environment.host or "")
    # Closed only at exit, never on Locust's "quitting" event: on SIGTERM that event fires
    # *before* the users are stopped, and their last records must still be written (Rule 1).
    atexit.register(STATE.writer.close)
    CorpusReplayUser.network_timeout = STATE.config.timeout_s
    CorpusReplayUser.connection_timeout = STATE.config.timeout_s
    # Loading the corpus and the BPE files blocked the loop; gevent's cached clock still says
    # "before", and Locust's --run-time timer (created next) would fire early by that much.
    gevent.get_hub().loop.update_now()


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    state = _state()
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


class CorpusReplayUser(FastHttpUser):
    """Closed loop: take the next corpus request, send it, read the answer to its end, repeat."""

    wait_time = constant(0)
    max_retries = 0  # a POST is never silently re-sent: one send, one record

    def on_start(self) -> None:
        self.index = _state().next_user()
        self.client.client.valid_response_codes = ALL_STATUSES

    @task
    def replay(self) -> None:
        if not self._running():
            raise StopUser()
        req = _state().feeder.take()
        if req is None:
            raise StopUser()
        self._send(req)

    def _send(self, req: CorpusRequest) -> None:
        state = _state()
        t_start = time.time()
        t_send = time.perf_counter()
        m: Measured | None = None
        try:
            m = self._exchange(req, t_send)
        except Exception as exc:  # a driver bug: record it (kind "client"), let Locust log it
            m = Measured(error=classify_exception(exc), e2e=time.perf_counter() - t_send)
            raise
        finally:
            if m is None:  # killed mid-request: GreenletExit when the run stops
                m = Measured(error={"kind": "cancelled", "message": "the run stopped before the "
                                    "response completed"}, e2e=time.perf_counter() - t_send)
            state.record(req, m, user=self.index, t_start=t_start)
            if state.feeder.done():
                self._quit_when_running()

    def _running(self) -> bool:
        """False once the run is stopping. Locust kills a user that is between tasks, but the kill
        lands at the user's next switch — after it may have started one more request, which would
        then be cut and logged "cancelled". So no request is started once stopping began."""
        runner = self.environment.runner
        return runner is not None and runner.state in (STATE_RUNNING, STATE_SPAWNING)

    def _quit_when_running(self) -> None:
        """The corpus is done: stop the run now rather than idling until the duration ends."""
        if self._running():
            gevent.spawn(self.environment.runner.quit)

    def _exchange(self, req: CorpusRequest, t_send: float) -> Measured:
        state = _state()
        headers = {**state.headers, "X-Request-Id": req.id,
                   "Accept": "text/event-stream" if req.stream else "application/json"}
        with self.client.post(state.config.target_path, data=request_body(req), headers=headers,
                              stream=True, catch_response=True, name=req.model) as resp:
            try:
                m = self._read(resp, req, t_send)
            except Exception as exc:  # a read that failed mid-way is a failed request, recorded
                m = Measured(error=classify_exception(exc), status=resp.status_code or None,
                             e2e=time.perf_counter() - t_send)
            resp.request_meta["response_time"] = (m.e2e or 0.0) * 1000
            if m.ok:
                resp.success()
            else:
                resp.failure(f"{m.error['kind']}: {m.error['message']}" if m.error else "failed")
        return m

    def _read(self, resp: Any, req: CorpusRequest, t_send: float) -> Measured:
        stream = resp.stream
        if stream is None:  # no HTTP response at all (refused, reset, timeout)
            return Measured(error=classify_exception(resp.error), e2e=time.perf_counter() - t_send)
        status = resp.status_code
        cache = cache_status(_header(resp, "x-cache"))
        if status >= 400:
            body = stream.read()
            return measure_http_error(status, body, t_send, time.perf_counter(), cache)
        if "text/event-stream" in (_header(resp, "content-type") or ""):
            return _read_sse(stream, req, t_send, status, cache, resp.request_meta)
        body = stream.read()
        resp.request_meta["response_length"] = len(body)
        return measure_json(body, t_send, time.perf_counter(), req.model, req.prompt_tokens,
                            status, cache)


def _read_sse(stream: Any, req: CorpusRequest, t_send: float, status: int, cache: str | None,
              meta: dict[str, Any]) -> Measured:
    """Read the stream as it arrives, stamping each read, then drain to the end of the message so
    the connection goes back to the pool."""
    parser = SSEParser()
    acc = StreamAccumulator(t_send, req.model, req.prompt_tokens)
    try:
        _feed_reads(stream, parser, acc)
        while stream.readline(b"\n"):
            pass
    except Exception as exc:  # cut mid-stream: keep TTFT/ITL/tokens measured so far
        acc.cut(classify_exception(exc)["message"])
    meta["response_length"] = parser.bytes_fed
    return acc.finish(time.perf_counter(), status, cache)


def read_some(stream: Any) -> bytes:
    """Block until at least one line has arrived, then also take every byte already received.

    ``readline`` (public) does the waiting, so a read returns as soon as one line is there —
    never later, which keeps TTFT/ITL stamps honest; the bytes that arrived in the same socket
    read are taken with it from geventhttpclient's body buffer, saving one Python call per SSE
    line (the driver's main cost per token). Without that buffer it degrades to line by line.
    """
    data = stream.readline(b"\n")
    buf = getattr(stream, "_body_buffer", None)
    if data and buf:
        data += bytes(buf)
        del buf[:]
    return data


def _feed_reads(stream: Any, parser: SSEParser, acc: StreamAccumulator) -> None:
    """Feed reads until the stream ends, ``[DONE]`` arrives, or an event says stop."""
    while True:
        data = read_some(stream)
        if not data:
            return
        for ev in parser.feed(data, time.perf_counter()):
            if not acc.add(ev):
                return
