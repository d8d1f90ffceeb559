"""The generating routes — ``POST /v1/chat/completions``, ``/v1/completions`` and ``/api/chat`` —
share one flow (an ``Endpoint`` row says how each parses and shapes its answer): parse, apply
the fault, ask the engine, then sleep and write what it planned.

Streaming order (OpenAI's): role chunk (sent with the first token, so every TTFT definition —
first chunk or first non-empty content — sees the same instant), one chunk per token, the
finish_reason chunk, the usage chunk when ``stream_options.include_usage``, then ``[DONE]``.
A generated answer is written to the cache after its last token, before the final bytes, so a
repeat sent after the response ended is a HIT, and a concurrent twin is a MISS as in a real cache.
An answer with no delay at all (an ``instant`` profile, a hit with hit_overhead_s 0) is sent as one
body instead of a chunked stream: same bytes, one write.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from mock_server.config import MockConfig
from mock_server.engine import FAULT_HEADER, HIT, OFF, Answer
from mock_server.faults import ERROR_KINDS, Fault, fault_bodies
from mock_server.openai_errors import ApiError
from mock_server.plan import Completion
from mock_server.request import (
    ChatRequest,
    parse_chat_request,
)
from mock_server.request_more import parse_completion_request, parse_engine_request
from mock_server.responses import (
    DONE,
    ChunkEvents,
    TextEvents,
    completion_body,
    engine_body,
    new_response_id,
    text_completion_body,
)
from mock_server.state import STATE, AppState
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
    def usage(self, completion: Completion) -> bytes: ...


@dataclass(frozen=True)
class Endpoint:
    """How one generating route reads a request and shapes its answer."""

    path: str
    id_prefix: str
    parse: Callable[[bytes, MockConfig], ChatRequest]
    events: Callable[[str, int, str], Events]
    body: Callable[[str, int, ChatRequest, Completion, bool], bytes]


def _engine_model(config: MockConfig) -> str:
    return config.engine_model or next(iter(config.profiles))


CHAT = Endpoint(
    "/v1/chat/completions", "chatcmpl",
    lambda raw, cfg: parse_chat_request(raw, cfg.profiles, cfg.normalize), ChunkEvents,
    lambda rid, created, chat, c, cached: completion_body(rid, created, chat.model, c, cached))
COMPLETIONS = Endpoint(
    "/v1/completions", "cmpl",
    lambda raw, cfg: parse_completion_request(raw, cfg.profiles, cfg.normalize), TextEvents,
    lambda rid, created, chat, c, cached: text_completion_body(rid, created, chat.model, c, cached))
ENGINE_CHAT = Endpoint(
    "/api/chat", "resp",
    lambda raw, cfg: parse_engine_request(raw, cfg.profiles, _engine_model(cfg), cfg.normalize),
    ChunkEvents,
    lambda rid, created, chat, c, cached: engine_body(rid, created, chat.model, c, cached,
                                                      chat.session_id or ""))


def error_response(err: ApiError) -> web.Response:
    return web.Response(status=err.status, body=err.body(), content_type="application/json",
                        headers=err.headers or None)


def chat_headers(chat: ChatRequest, answer: Answer) -> dict[str, str]:
    headers = {"X-Cache-Key": chat.key, **answer.headers}
    if answer.cache != OFF:
        headers["X-Cache"] = answer.cache.upper()
    return headers


async def read_chat(request: web.Request, st: AppState, ep: Endpoint) -> ChatRequest:
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, f"request body too large: {exc.text}; send at most "
                       f"{st.config.max_body_bytes} bytes.", code="request_too_large") from None
    return ep.parse(body, st.config)


def stream_bodies(events: Events, chunks: tuple[str, ...]) -> list[bytes]:
    """One SSE event per token; the role chunk rides with the first (alone if no tokens)."""
    bodies = [events.content(c) for c in chunks] or [b""]
    bodies[0] = events.role() + bodies[0]
    return bodies


def stream_tail(events: Events, chat: ChatRequest, completion: Completion) -> bytes:
    usage = events.usage(completion) if chat.include_usage else b""
    return events.finish(completion.finish_reason) + usage + DONE


def fault_error(fault: Fault) -> ApiError:
    """The answer of an error fault (500/503/429), in OpenAI's shape."""
    if fault.kind == "429":
        return ApiError(429, "Rate limit reached (injected fault).", code="rate_limit_exceeded",
                        type_="requests", headers={"Retry-After": "1"})
    return ApiError(int(fault.kind), f"The server had an error while processing your request "
                    f"(injected fault {fault.kind}).", code="injected_fault", type_="server_error")


async def stream_at_once(st: AppState, ep: Endpoint, chat: ChatRequest, answer: Answer,
                         t0: float) -> web.Response:
    """A zero-delay answer (cache hit, instant profile): the whole SSE stream as one body — one
    write, no chunked framing; clients read it exactly like a paced stream."""
    events = ep.events(new_response_id(ep.id_prefix), int(time.time()), chat.model)
    await st.engine.store(chat, answer)
    body = (events.role() + events.contents(answer.completion.chunks)
            + stream_tail(events, chat, answer.completion))
    st.metrics.first_token(chat.model, answer.cache, st.clock() - t0)
    return web.Response(body=body, headers={**SSE_HEADERS, **chat_headers(chat, answer)})


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


async def stream_paced(request: web.Request, st: AppState, ep: Endpoint, chat: ChatRequest,
                       answer: Answer, t0: float, ready: float) -> tuple[web.StreamResponse,
                                                                          int | str]:
    """Stream token by token; returns (response, status label): 200, 499 when the client went
    away, ``cut`` when a disconnect fault cut it."""
    resp = web.StreamResponse(headers={**SSE_HEADERS, **chat_headers(chat, answer)})
    events = ep.events(new_response_id(ep.id_prefix), int(time.time()), chat.model)
    planned = stream_bodies(events, answer.completion.chunks)
    bodies, cut_after = fault_bodies(planned, answer.fault)
    try:
        await resp.prepare(request)
        due = due_times(pacing_start(st, answer, ready), answer.timing, len(bodies))
        first = await write_paced(resp, bodies, due, st.clock, st.sleep)
        if bodies:
            st.metrics.first_token(chat.model, answer.cache, first - t0)
        if cut_after:
            cut(request)
            return resp, CUT
        await st.engine.store(chat, answer)
        await resp.write(stream_tail(events, chat, answer.completion))
    except ConnectionResetError:
        return resp, CLIENT_CLOSED
    return resp, 200


async def answer_complete(request: web.Request, st: AppState, ep: Endpoint, chat: ChatRequest,
                          answer: Answer, ready: float) -> tuple[web.Response, int | str]:
    wait = 0.0  # a zero-delay answer never reads the clock (capacity path)
    if answer.timing.e2e_s > 0:
        wait = pacing_start(st, answer, ready) + answer.timing.e2e_s - st.clock()
    if wait > 0:
        await st.sleep(wait)
    if answer.fault is not None and answer.fault.kind == "disconnect":
        cut(request)
        return web.Response(status=204), CUT  # never reaches the client: the socket is gone
    await st.engine.store(chat, answer)
    body = ep.body(new_response_id(ep.id_prefix), int(time.time()), chat, answer.completion,
                   answer.cache == HIT)
    return web.Response(body=body, headers={**JSON_HEADERS, **chat_headers(chat, answer)}), 200


def record(st: AppState, chat: ChatRequest, answer: Answer, status: int | str, t0: float) -> None:
    st.metrics.answered(chat.model, status, answer.cache)
    if status == 200:
        st.metrics.served(chat.model, answer.cache, st.clock() - t0,
                          answer.completion.prompt_tokens, len(answer.completion.tokens))


def at_once(answer: Answer) -> bool:
    """No delay and no stream fault: the whole stream can go out as one body."""
    return answer.timing.e2e_s == 0 and answer.fault is None


async def respond(request: web.Request, st: AppState, ep: Endpoint, chat: ChatRequest,
                  answer: Answer, t0: float, ready: float) -> web.StreamResponse:
    resp: web.StreamResponse
    if not chat.stream:
        resp, status = await answer_complete(request, st, ep, chat, answer, ready)
    elif at_once(answer):
        resp, status = await stream_at_once(st, ep, chat, answer, t0), 200
    else:
        resp, status = await stream_paced(request, st, ep, chat, answer, t0, ready)
    record(st, chat, answer, status, t0)
    return resp


async def start_fault(st: AppState, chat: ChatRequest, fault: Fault | None) -> ApiError | None:
    """Count the fault; an error fault is the answer, a first-byte stall is slept here."""
    if fault is None:
        return None
    st.metrics.fault(chat.model, fault.kind)
    if fault.kind in ERROR_KINDS:
        return fault_error(fault)
    if fault.kind == "stall_first":
        await st.sleep(fault.arg)
    return None


async def handle(request: web.Request, st: AppState, ep: Endpoint,
                 t0: float) -> web.StreamResponse:
    try:
        chat = await read_chat(request, st, ep)
        fault = st.engine.fault_for(chat.model, request.headers.get(FAULT_HEADER))
    except ApiError as err:
        st.metrics.answered("-", err.status, "-")  # no user-chosen label values on bad input
        return error_response(err)
    refused = await start_fault(st, chat, fault)
    ready = t0 if fault is None else st.clock()  # a first-byte stall is added, not absorbed
    if refused is None:
        try:
            answer = await st.engine.answer(chat, fault)
        except ApiError as err:  # rate limit or full queue
            refused = err
    if refused is not None:
        st.metrics.answered(chat.model, refused.status, "-")
        return error_response(refused)
    try:
        return await respond(request, st, ep, chat, answer, t0, ready)
    finally:
        st.engine.release(answer)


def route(ep: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of one endpoint. A bug becomes a logged, OpenAI-shaped 500 — never a
    traceback to the client."""

    async def generate(request: web.Request) -> web.StreamResponse:
        st = request.app[STATE]
        t0 = st.clock()
        st.metrics.in_flight += 1
        try:
            return await handle(request, st, ep, t0)
        except Exception:
            st.log.exception("unexpected error answering POST %s", ep.path)
            st.metrics.answered("-", 500, "-")
            return error_response(ApiError(500, "internal error in the mock server; see its log.",
                                           code="internal_error", type_="server_error"))
        finally:
            st.metrics.in_flight -= 1

    return generate


chat_completions = route(CHAT)
completions = route(COMPLETIONS)
engine_chat = route(ENGINE_CHAT)
