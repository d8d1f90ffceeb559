"""One request/response exchange with the target: send a corpus request, read the answer, measure it.

Kept apart from the locustfile so it is free of Locust (which gevent-patches whatever imports it):
the caller hands in the FastHttpUser's ``client`` (a geventhttpclient session) and gets back a
``Measured``. Timing: with ``stream=True`` Locust's own response time is time-to-headers only, so
TTFT/ITL/E2E are stamped here with ``time.perf_counter()`` as bytes arrive; the E2E is also handed
to Locust's stats so its console and CSV show whole-response times.

Hot path (once per request, no tokenization when the target sends ``usage``): build the body,
POST, read, measure. Content checks run only when asked for; the tiktoken cross-check only for a
deterministic sample of ids (``token_check_sample``); secrets are scrubbed only from failures.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import replace
from http.cookiejar import CookieJar
from typing import TYPE_CHECKING, Any, Protocol

from suite.driver.exchange.cachedetect import allowlist, cache_headers, cache_rule, no_header
from suite.driver.exchange.checks import CONTENT_KIND
from suite.driver.exchange.measure import (
    RETRY_AFTER_STATUSES,
    Measured,
    StreamAccumulator,
    error,
    measure_http_error,
    measure_json,
    retry_after_seconds,
)
from suite.driver.exchange.record import RequestTimeout, classify_exception
from suite.driver.exchange.redact import Redactor
from suite.driver.exchange.sse import SSEParser
from suite.driver.exchange.targets import build_target
from suite.records import CorpusRequest
from suite.tokens import count_tokens

if TYPE_CHECKING:  # a type only: the exchange imports nothing from either side of the run
    from suite.driver.control.config import DriverConfig

_SAMPLE_SCALE = 1 << 32
# Socket read size of the HTTP client (geventhttpclient's default is 4 KiB). A streamed answer
# larger than one read costs another recv, parse and often a wait on the event loop; a read
# returns whatever has arrived, never waits to fill the block, so TTFT/ITL stamps are unchanged.
READ_BLOCK = 1 << 16


class Timer(Protocol):
    def cancel(self) -> None: ...


# ``start_timer(seconds, exc)``: raise ``exc`` in the running greenlet after ``seconds`` unless
# cancelled first — gevent.Timeout.start_new in the locustfile; this module stays free of gevent.
StartTimer = Any


class _Timers:
    """The run's two per-request limits, armed at the send: ``total`` (--timeout) always when a
    timer is given, ``ttft`` (--ttft-timeout) when set; each raises a RequestTimeout that names it."""

    __slots__ = ("total", "ttft")

    def __init__(self, start: StartTimer | None, total_s: float, ttft_s: float | None) -> None:
        self.total: Timer | None = start(total_s, RequestTimeout("total", total_s)) if start else None
        self.ttft: Timer | None = (start(ttft_s, RequestTimeout("ttft", ttft_s))
                                   if start and ttft_s is not None else None)

    def first_content(self) -> None:
        if self.ttft is not None:
            self.ttft.cancel()
            self.ttft = None

    def cancel(self) -> None:
        self.first_content()
        if self.total is not None:
            self.total.cancel()
            self.total = None


class SparseCookieJar(CookieJar):
    """The stdlib jar, minus its work when it would do nothing — no cookie stored, no
    ``Set-Cookie`` received — which is every request to an API that sets none (the stdlib jar
    builds a request wrapper and takes a lock per request even then). A target that does set
    cookies gets them handled exactly as before."""

    def add_cookie_header(self, request: Any) -> None:
        if self._cookies:  # type: ignore[attr-defined]
            super().add_cookie_header(request)

    def extract_cookies(self, response: Any, request: Any) -> None:
        headers = response.info()
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response, request)


def tune_client(session: Any) -> None:
    """Before a FastHttpUser's first request: read up to ``READ_BLOCK`` bytes per socket read;
    a cookie jar that costs nothing while no cookies are in play.

    ``session`` is Locust's FastHttpSession; ``session.client`` its geventhttpclient ``UserAgent``.
    """
    # geventhttpclient internal (undocumented attributes): the UserAgent's HTTPClientPool builds
    # each new HTTPClient from ``client_args``, the only way to set HTTPClient's ``block_size``
    # through Locust (tests/unit/driver/exchange/test_send.py fails if the names go away).
    session.client.clientpool.client_args["block_size"] = READ_BLOCK
    session.cookiejar = session.client.cookiejar = SparseCookieJar()


class Exchange:
    """What every request of a run shares, compiled once: target kind, headers, rules, checks."""

    def __init__(self, config: DriverConfig, start_timer: StartTimer | None = None) -> None:
        """``start_timer``: how --timeout / --ttft-timeout interrupt a request (see ``_Timers``);
        None: no limit but the client's own socket timeouts (unit tests)."""
        opts = config.request
        self.start_timer = start_timer
        self.total_s = config.timeout_s
        self.ttft_s = config.ttft_timeout_s
        self.config = config
        self.target = build_target(replace(opts.target_options(), path=config.target_path))
        self.path = self.target.path
        self.cache = cache_rule(opts.cache_detect)
        self.cache_names = allowlist(self.cache, opts.served())  # what each record keeps (``cache_headers``)
        self.cache_name_set = frozenset(self.cache_names)
        self.cache_absent = self.cache.from_headers(no_header)  # the verdict when none came
        self.cache_json = self.cache.from_json if self.cache.json_get is not None else None
        self.checks = opts.checks()
        self.keep_objects = bool(self.checks.required)
        self.rid_header = opts.request_id_header
        self.resp_id_header = opts.response_id_header
        # crc32(id) below this threshold ⇒ the id is in the token cross-check sample
        self.sample_below = int(opts.token_check_sample * _SAMPLE_SCALE)
        self.headers = opts.base_headers(config.api_key)
        self.redactor = Redactor(opts.secrets(config.api_key))

    def send(self, client: Any, req: CorpusRequest, t_send: float) -> Measured:
        return exchange(client, req, self, t_send)

    def request_headers(self, req: CorpusRequest) -> dict[str, str]:
        headers = {**self.headers, "Accept": "text/event-stream" if req.stream else "application/json"}
        if self.rid_header:
            headers[self.rid_header] = req.id
        return headers

    def sampled(self, record_id: str) -> bool:
        """Deterministic: the same id is in the sample in every run and on every worker."""
        return zlib.crc32(record_id.encode()) < self.sample_below

    def finalize(self, m: Measured, req: CorpusRequest) -> Measured:
        """After the response: content checks, token cross-check, secrets out of failures."""
        if m.ok and self.checks.active:
            reason = self.checks.failure(m.text or "", m.objects)
            if reason is not None:
                m.ok, m.error = False, error(CONTENT_KIND, reason)
        if m.tokens_source == "usage" and m.text is not None and self.sample_below \
                and self.sampled(req.id):
            m.completion_tokens_tiktoken = count_tokens(m.text, req.model)
        if m.error is not None and self.redactor.secrets:
            m.error = self.redactor.error(m.error)
        return m


def _header(resp: Any, name: str) -> str | None:
    headers = getattr(resp, "headers", None)
    value = headers.get(name) if headers is not None else None
    if isinstance(value, list):
        value = value[0] if value else None
    return value


def exchange(client: Any, req: CorpusRequest, ex: Exchange, t_send: float) -> Measured:
    """POST ``req`` with the FastHttpUser's ``client`` and measure the answer; every outcome —
    refused, cut, garbage — comes back as a Measured (only a driver bug raises). The clock
    restarts once the body is built: TTFT and E2E count from the send, not from our own work."""
    body, headers = ex.target.body(req), ex.request_headers(req)
    t_send = max(t_send, time.perf_counter())
    timers = _Timers(ex.start_timer, ex.total_s, ex.ttft_s)
    try:
        with client.post(ex.path, data=body, headers=headers,
                         stream=True, catch_response=True, name=req.model) as resp:
            try:
                m = _read(resp, req, t_send, ex, timers)
                timers.cancel()
                m = ex.finalize(m, req)
            except Exception as exc:  # a read that failed mid-way is a failed request, recorded
                timers.cancel()
                m = Measured(error=ex.redactor.error(classify_exception(exc)),
                             status=resp.status_code or None, e2e=time.perf_counter() - t_send)
            _report(resp, m)
    finally:
        timers.cancel()
    return m


def _report(resp: Any, m: Measured) -> None:
    """Locust's own statistics: the whole response's time, and its verdict."""
    resp.request_meta["response_time"] = (m.e2e or 0.0) * 1000
    if m.ok:
        resp.success()
    else:
        resp.failure(f"{m.error['kind']}: {m.error['message']}" if m.error else "failed")


def _read(resp: Any, req: CorpusRequest, t_send: float, ex: Exchange, timers: _Timers) -> Measured:
    stream = resp.stream
    if stream is None:  # no HTTP response at all (refused, reset, timeout)
        return Measured(error=classify_exception(resp.error), e2e=time.perf_counter() - t_send)
    status = resp.status_code
    # the rule reads only allow-listed headers (suite.cachesignal.allowlist), so the captured ones
    # give the same verdict as the response itself
    kept = cache_headers(resp, ex.cache_names, ex.cache_name_set)
    cache = ex.cache.from_headers(kept.get) if kept else ex.cache_absent
    sse = "text/event-stream" in (_header(resp, "content-type") or "")
    if not (sse and status < 400):  # a JSON or error body follows its headers at once
        timers.first_content()
    if status >= 400:
        # an error answer signals a cache verdict only by a header it carries: a presence rule's
        # "absent = miss" says nothing about a request that failed (it is neither hit nor miss)
        m = measure_http_error(status, stream.read(), t_send, time.perf_counter(), cache if kept else None)
        if status in RETRY_AFTER_STATUSES:
            m.retry_after = retry_after_seconds(_header(resp, "retry-after"), time.time())
    elif sse:
        m = _read_sse(stream, req, t_send, status, cache, resp.request_meta, ex, timers)
    else:
        body = stream.read()
        resp.request_meta["response_length"] = len(body)
        m = measure_json(body, t_send, time.perf_counter(), req.model, req.prompt_tokens, status,
                         cache, target=ex.target, cache_json=None if cache else ex.cache_json)
    if m.response_id is None and ex.resp_id_header:
        m.response_id = _header(resp, ex.resp_id_header)
    m.cache_headers = kept
    return m


def _read_sse(stream: Any, req: CorpusRequest, t_send: float, status: int, cache: str | None,
              meta: dict[str, Any], ex: Exchange, timers: _Timers) -> Measured:
    """Read the stream as it arrives, stamping each read, then drain to the end of the message so
    the connection goes back to the pool."""
    parser = SSEParser()
    acc = StreamAccumulator(t_send, req.model, req.prompt_tokens, target=ex.target,
                            cache_json=None if cache else ex.cache_json,
                            keep_objects=ex.keep_objects)
    try:
        if _feed_reads(stream, parser, acc, timers):
            acc.ended()
        while stream.readline(b"\n"):
            pass
    except RequestTimeout as exc:  # a limit fired mid-stream: a timeout, not a cut
        acc.stalled(classify_exception(exc))
    except Exception as exc:  # cut mid-stream: keep TTFT/ITL/tokens measured so far
        acc.cut(classify_exception(exc)["message"])
    meta["response_length"] = parser.bytes_fed
    return acc.finish(time.perf_counter(), status, cache)


def read_some(stream: Any) -> bytes:
    """Return every complete line already received, else block until at least one has arrived.

    ``readline`` (public) does the waiting, so a read returns as soon as one line is there —
    never later, which keeps TTFT/ITL stamps honest; the bytes that arrived in the same socket
    read are taken with it from geventhttpclient's body buffer, saving one Python call per SSE
    line (the driver's main cost per token). Without that buffer it degrades to line by line.
    """
    # geventhttpclient internal (private): HTTPResponse._body_buffer holds the bytes received but
    # not yet returned; reading it saves a Python call per SSE line (tests/unit/driver/exchange/
    # test_send.py fails loudly if it goes away, since this would silently fall back).
    buf = getattr(stream, "_body_buffer", None)
    if buf and b"\n" in buf:  # already received (e.g. with the headers): no readline copy
        data = bytes(buf)
        del buf[:]
        return data
    data = stream.readline(b"\n")
    if data and buf:
        data += bytes(buf)
        del buf[:]
    return data


def _feed_reads(stream: Any, parser: SSEParser, acc: StreamAccumulator, timers: _Timers) -> bool:
    """Feed reads until the stream ends, ``[DONE]`` arrives, or an event says stop; True when
    the response ended on its own (end of message, no event said stop). The ttft limit is
    disarmed at the first content (TTFT's own definition)."""
    while True:
        data = read_some(stream)
        if not data:
            return not parser.mid_event
        if not acc.add_read(parser, data, time.perf_counter()):
            return False
        if timers.ttft is not None and acc.first is not None:
            timers.first_content()
