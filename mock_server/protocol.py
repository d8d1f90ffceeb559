"""The HTTP connection layer under the app: a header read timeout, and aiohttp's own protocol
errors (bad request line, bad headers, a handler's unexpected exception) in OpenAI's JSON shape.

Why a subclass of aiohttp's ``RequestHandler`` (its per-connection protocol): aiohttp has no
timeout for a request's headers — a client that sends them one byte a minute holds a connection
for as long as it likes — and its ``handle_error`` answers ``text/plain``. Both live in the
protocol, below any route or middleware, so ``GuardedRunner`` (an ``AppRunner``) hands its sites
a factory of ``GuardedHandler`` instead of aiohttp's. It reads four private attributes of
``RequestHandler`` (``_request_in_progress``, ``_messages``, ``_request_count``, ``_close``); a unit test
fails loudly if one disappears (tests/unit/mock_server/test_protocol.py).

Header timeout rule: from the first byte of a request's headers (or the connection's start) to
the end of its headers at most ``read_timeout_s``; past it the server writes a 408 in OpenAI's
shape and closes. An idle keep-alive connection between requests is aiohttp's keep-alive
business, not this timer's. The body's own timeout is in handlers/chat.py (``read_body``).
Per request this costs a few attribute reads in ``data_received``: a request that arrives in one
packet never arms the timer.

``GET /health`` answered in the protocol: a liveness probe must not wait behind generation work
(issue 13: p99 < 20 ms at 1,000 streaming connections). Through aiohttp a probe costs a parse, a
``Request``, a handler task and a turn in a run queue that thousands of streams share; here it is
one regex match and one ``transport.write`` inside ``data_received``. Only while the parser has
never been fed on this connection (so it holds no partial request) and only when the packet is
exactly one complete ``GET /health HTTP/1.1`` header block with well-formed header lines, none of
``Content-Length``/``Transfer-Encoding``/``Expect``/``Upgrade``, at most ``Connection: close`` or
``keep-alive``, and the transport not paused for writing; anything else (a split or pipelined
request, HTTP/1.0, a body, odd bytes, a client that does not read) goes the routed way, and once
it has the connection stays there. The bytes are the routed answer's (same
header order, ``X-Request-Id`` echoed or generated the same way, ``Date``, ``Server``); /health is
open with or without ``--api-key``, so skipping the auth middleware changes nothing. With
``--access-log`` on, serve.py passes no ``health_body`` so every probe is still logged.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE
from aiohttp.web_protocol import RequestHandler

from mock_server.openai_errors import ApiError, from_http_status
from mock_server.write import request_id

DEFAULT_READ_TIMEOUT_S = 30.0
HEALTH_START = b"GET /health HTTP/1.1\r\n"
# one complete header block: RFC 9110 token names, printable ASCII values, nothing after it
HEALTH_REQUEST = re.compile(rb"GET /health HTTP/1\.1\r\n"
                            rb"((?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e]*\r\n)*)\r\n")
HEALTH_MAX_BYTES = 8190  # aiohttp's own max_line_size: a longer block is its business (400)
NOT_FOR_FAST = frozenset({b"content-length", b"transfer-encoding", b"expect", b"upgrade"})
SERVER_HEADER = SERVER_SOFTWARE.encode()


def timeout_error(what: str, timeout_s: float) -> ApiError:
    return ApiError(408, f"request {what} not received within {timeout_s:g} s (--read-timeout); "
                    "send the whole request without pausing.", code="request_timeout")


def raw_response(err: ApiError) -> bytes:
    """A complete HTTP/1.1 response that closes the connection, for when no request object exists."""
    body = err.body()
    return (b"HTTP/1.1 %d Request Timeout\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (err.status, len(body))) + body


class GuardedHandler(RequestHandler):
    """aiohttp's connection protocol plus the header timeout and OpenAI-shaped protocol errors."""

    __slots__ = ("_read_timeout_s", "_header_timer", "_armed_count", "_last_payload",
                 "_health_body", "_unparsed")

    def __init__(self, manager: Any, *, read_timeout_s: float,
                 health_body: Callable[[], bytes] | None = None, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._read_timeout_s = read_timeout_s
        self._health_body = health_body
        self._unparsed = health_body is not None  # aiohttp's parser not fed yet on this connection
        self._header_timer: asyncio.TimerHandle | None = None
        self._armed_count = 0
        self._last_payload: Any = None  # body stream of the last request parsed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()  # a client that connects and sends nothing is a slow header too

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._unparsed:
            if data.startswith(HEALTH_START) and self._answer_health(data):
                return
            self._unparsed = False  # from now on aiohttp's parser may hold a partial request
        RequestHandler.data_received(self, data)
        messages = self._messages
        if messages and self._header_timer is None:  # the usual case: a whole request arrived
            self._last_payload = messages[-1][1]
            return
        self._after_data(messages)

    def _after_data(self, messages: Any) -> None:
        if messages:
            self._last_payload = messages[-1][1]
        payload = self._last_payload
        # idle: no request queued or being handled, and no body still arriving (lingering after
        # an early answer counts as arriving) — so these bytes begin the next request's headers
        idle = (not self._request_in_progress and not messages
                and (payload is None or payload.is_eof()))
        timer = self._header_timer
        if timer is not None and (not idle or self._request_count != self._armed_count):
            self._disarm()  # the headers it guarded are complete
            timer = None
        if timer is None and idle and not (self._force_close or self._close):
            self._arm()  # bytes of a request whose headers are not complete yet

    def _answer_health(self, data: bytes) -> bool:
        """Write the /health answer for ``data`` (one whole request) and return True, or False
        when ``data`` is anything but the plain case (see the module doc)."""
        if (len(data) > HEALTH_MAX_BYTES or self._force_close or self._close
                or self.transport is None or self.writing_paused):
            return False  # a client that does not read its answers gets aiohttp's back-pressure
        match = HEALTH_REQUEST.fullmatch(data)
        if match is None or self._health_body is None:
            return False
        given: str | None = None
        close = False
        for line in match.group(1).split(b"\r\n")[:-1]:
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"x-request-id":
                if given is None:  # the routed answer echoes the first one too
                    given = value.strip(b" \t").decode("ascii")
            elif name == b"connection":
                token = value.strip(b" \t").lower()
                if token == b"close":
                    close = True
                elif token != b"keep-alive":
                    return False
            elif name in NOT_FOR_FAST:
                return False
        body = self._health_body()
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: %s\r\n"
            b"Content-Length: %d\r\nDate: %s\r\nServer: %s\r\n%s\r\n%s"
            % (request_id(given).encode(), len(body), rfc822_formatted_time().encode(),
               SERVER_HEADER, b"Connection: close\r\n" if close else b"", body))
        self._disarm()  # its headers are complete; an idle keep-alive is aiohttp's business
        if close:
            self.transport.close()  # flushes the answer first
            self.force_close()
        elif self._keepalive_timeout > 0:  # as aiohttp does after each answer it sends
            self._next_keepalive_close_time = self._loop.time() + self._keepalive_timeout
        return True

    def _arm(self) -> None:
        self._armed_count = self._request_count
        self._header_timer = asyncio.get_running_loop().call_later(self._read_timeout_s,
                                                                   self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        payload = self._last_payload
        stalled = (self._request_count == self._armed_count and not self._request_in_progress
                   and not self._messages and (payload is None or payload.is_eof()))
        if not stalled or self.transport is None:
            return
        self.transport.write(raw_response(timeout_error("headers", self._read_timeout_s)))
        self.transport.close()  # flushes the 408 first
        self.force_close()

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """aiohttp's error answer (bad request line or headers, an unexpected exception in a
        small route) as OpenAI's JSON; a protocol error is the client's, logged at debug only."""
        if status >= 500:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
        else:
            self.logger.debug("bad request from %s: %s", request.remote, message or exc)
        if request.writer.output_size > 0:  # aiohttp's own rule: an answer is already going out
            raise ConnectionError("Response is sent already, cannot send another response")
        if status >= 500:
            err = ApiError(status, "internal error in the mock server; see its log.",
                           code="internal_error", type_="server_error")
        else:
            err = from_http_status(status, f"invalid HTTP request: {message or exc or status}; "
                                   "send a well-formed HTTP/1.1 request.")
        resp = web.Response(status=err.status, body=err.body(), content_type="application/json")
        resp.force_close()
        return resp


class GuardedRunner(web.AppRunner):
    """An ``AppRunner`` whose sites make ``GuardedHandler`` connections (see the module doc)."""

    def __init__(self, app: web.Application, *, read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
                 health_body: Callable[[], bytes] | None = None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._read_timeout_s = read_timeout_s
        self._health_body = health_body  # None: /health goes the routed way (see the module doc)

    @property
    def server(self) -> Any:
        """The protocol factory the sites listen with (aiohttp's ``Server`` stays the manager
        that tracks connections and shuts them down)."""
        manager = super().server
        if manager is None:
            return None

        def factory() -> GuardedHandler:
            return GuardedHandler(manager, loop=manager._loop, read_timeout_s=self._read_timeout_s,
                                  health_body=self._health_body, **manager._kwargs)

        return factory
