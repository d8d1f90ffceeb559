"""Write a decided answer: all at once (no delay), paced token by token, or as one JSON body.

Every writer returns a ``Sent``: the response, its status label, and the server's own stamps —
the clock after each content chunk's write (streams) and after the last byte (when measured) —
which feed ``/metrics`` and ``--timing-log``. Paced tokens are due at absolute times from the
pacing start (see streaming.py), never after chained sleeps.

A zero-delay answer normally returns an unsent ``web.Response`` (aiohttp writes it after the
handler returns, the cheapest path); with ``measure`` (a timing log is on) it is sent inside
the handler so the last byte can be stamped.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from aiohttp import web

from mock_server.engine import HIT, OFF, Answer
from mock_server.faults import fault_bodies
from mock_server.plan import Completion
from mock_server.request import ChatRequest
from mock_server.responses import DONE, REQUEST_ID, request_id
from mock_server.state import AppState
from mock_server.streaming import due_times, write_paced

CLIENT_CLOSED = 499  # nginx's convention: the client went away before the answer was complete
CUT = "cut"  # status label of an answer the server cut on purpose (fault disconnect)
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
JSON_HEADERS = {"Content-Type": "application/json"}


class Events(Protocol):
    def role(self) -> bytes: ...
    def content(self, text: str) -> bytes: ...
    def contents(self, chunks: tuple[str, ...]) -> bytes: ...
    def finish(self, reason: str) -> bytes: ...
    def usage(self, completion: Completion, cached: bool) -> bytes: ...


class Sent(NamedTuple):
    resp: web.StreamResponse
    status: int | str  # 200, 499 (client left), "cut" (disconnect fault)
    stamps: list[float] | None = None  # clock after the write of each content chunk (streams)
    t_end: float | None = None  # clock after the last byte (None: written after the handler)


def answer_headers(request: web.Request, kind: dict[str, str], key: str, cache: str,
                   extra: dict[str, str] | None = None) -> dict[str, str]:
    """``kind`` (JSON_HEADERS or SSE_HEADERS) plus X-Cache-Key, X-Request-Id, ``extra`` and
    X-Cache (absent when no cache is configured)."""
    headers = {**kind, "X-Cache-Key": key, REQUEST_ID: request_id(request.headers.get(REQUEST_ID))}
    if extra:
        headers.update(extra)
    if cache != OFF:
        headers["X-Cache"] = cache.upper()
    return headers


def chat_headers(request: web.Request, kind: dict[str, str], chat: ChatRequest,
                 answer: Answer) -> dict[str, str]:
    return answer_headers(request, kind, chat.key, answer.cache, answer.headers)


def stream_bodies(events: Events, chunks: tuple[str, ...]) -> list[bytes]:
    """One SSE event per token; the role chunk rides with the first (alone if no tokens)."""
    bodies = [events.content(c) for c in chunks] or [b""]
    bodies[0] = events.role() + bodies[0]
    return bodies


def stream_tail(events: Events, completion: Completion, include_usage: bool, hit: bool) -> bytes:
    usage = events.usage(completion, hit) if include_usage else b""
    return events.finish(completion.finish_reason) + usage + DONE


def whole_stream(events: Events, completion: Completion, include_usage: bool, hit: bool) -> bytes:
    """Every event of a streamed answer, for sending in one write."""
    return (events.role() + events.contents(completion.chunks)
            + stream_tail(events, completion, include_usage, hit))


def cut(request: web.Request) -> None:
    """Drop the connection now (fault disconnect): the client sees a truncated answer."""
    if request.transport is not None:
        request.transport.abort()


def pacing_start(st: AppState, answer: Answer, ready: float) -> float:
    """Where the plan's delays count from (see engine.py): a hit after its lookup (now), a
    batched miss at admission, any other miss at ``ready`` (receipt, or the end of a stall)."""
    if answer.cache == HIT:
        return st.clock()
    return answer.admitted if answer.admitted is not None else ready


async def send_now(request: web.Request, resp: web.Response, st: AppState) -> float:
    """Send a complete response inside the handler; the clock after its last byte."""
    await resp.prepare(request)
    await resp.write_eof()
    return st.clock()


async def stream_at_once(request: web.Request, st: AppState, events: Events, chat: ChatRequest,
                         answer: Answer, measure: bool) -> Sent:
    """A zero-delay answer (cache hit, instant profile): the whole SSE stream as one body — one
    write, no chunked framing; clients read it exactly like a paced stream."""
    if not st.engine.store_now(chat, answer):
        await st.engine.store(chat, answer)
    body = whole_stream(events, answer.completion, chat.include_usage, answer.cache == HIT)
    resp = web.Response(body=body, headers=chat_headers(request, SSE_HEADERS, chat, answer))
    if not measure:
        return Sent(resp, 200, [st.clock()])
    try:
        t_end = await send_now(request, resp, st)
    except ConnectionResetError:
        return Sent(resp, CLIENT_CLOSED)
    return Sent(resp, 200, [t_end] * max(1, len(answer.completion.chunks)), t_end)


async def stream_paced(request: web.Request, st: AppState, events: Events, chat: ChatRequest,
                       answer: Answer, ready: float) -> Sent:
    """Stream token by token, each at its due time (coalescing tokens due together)."""
    resp = web.StreamResponse(headers=chat_headers(request, SSE_HEADERS, chat, answer))
    planned = stream_bodies(events, answer.completion.chunks)
    bodies, cut_after = fault_bodies(planned, answer.fault)
    try:
        await resp.prepare(request)
        due = due_times(pacing_start(st, answer, ready), answer.timing, len(bodies))
        stamps = await write_paced(resp, bodies, due, st.clock, st.sleep)
        if cut_after:
            cut(request)
            return Sent(resp, CUT, stamps)
        await st.engine.store(chat, answer)
        await resp.write(stream_tail(events, answer.completion, chat.include_usage,
                                     answer.cache == HIT))
        await resp.write_eof()
    except ConnectionResetError:
        return Sent(resp, CLIENT_CLOSED)
    return Sent(resp, 200, stamps, st.clock())


async def answer_complete(request: web.Request, st: AppState, chat: ChatRequest, answer: Answer,
                          ready: float, body: bytes, measure: bool) -> Sent:
    """A non-streaming answer: wait until its planned end, then one JSON body."""
    wait = 0.0  # a zero-delay answer never reads the clock (capacity path)
    if answer.timing.e2e_s > 0:
        wait = pacing_start(st, answer, ready) + answer.timing.e2e_s - st.clock()
    if wait > 0:
        await st.sleep(wait)
    if answer.fault is not None and answer.fault.kind == "disconnect":
        cut(request)
        return Sent(web.Response(status=204), CUT)  # never reaches the client: the socket is gone
    if not st.engine.store_now(chat, answer):
        await st.engine.store(chat, answer)
    resp = web.Response(body=body, headers=chat_headers(request, JSON_HEADERS, chat, answer))
    if not measure:
        return Sent(resp, 200)
    try:
        return Sent(resp, 200, None, await send_now(request, resp, st))
    except ConnectionResetError:
        return Sent(resp, CLIENT_CLOSED)
