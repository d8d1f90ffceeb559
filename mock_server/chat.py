"""The generating routes — ``POST /v1/chat/completions``, ``/v1/completions`` and ``/api/chat`` —
share one flow (an ``Endpoint`` row says how each parses and shapes its answer): parse, apply
the fault, ask the engine, then sleep and write what it planned.

Streaming order (OpenAI's): role chunk (sent with the first token, so every TTFT definition —
first chunk or first non-empty content — sees the same instant), one chunk per token, the
finish_reason chunk, the usage chunk when ``stream_options.include_usage``, then ``[DONE]``.
A generated answer is written to the cache after its last token, before the final bytes, so a
repeat sent after the response ended is a HIT, and a concurrent twin is a MISS as in a real cache.
An answer with no delay at all (an ``instant`` profile, a hit with hit_overhead_s 0) is sent as one
body instead of a chunked stream: same bytes, one write (send.py).

``/api/chat`` keeps each session's conversation (sessions.py): the prompt grows turn by turn, the
cache key stays the question's; ``"stream": true`` answers ``data: {"response": piece,
"session_id": id}`` events, then ``data: [DONE]``.

Timing: ``t0`` (the handler's first clock read) is the receipt. Every answered request's server
stamps go to ``/metrics`` and, with ``--timing-log``, to one JSONL line (timing_log.py).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from mock_server.config import MockConfig
from mock_server.engine import FAULT_HEADER, HIT, Answer
from mock_server.fastlane import fast_chat
from mock_server.faults import ERROR_KINDS, Fault
from mock_server.openai_errors import ApiError
from mock_server.plan import Completion
from mock_server.request import ChatRequest, parse_chat_request
from mock_server.request_more import parse_completion_request, parse_engine_request
from mock_server.responses import (
    MAX_REQUEST_ID,
    REQUEST_ID,
    ChunkEvents,
    EngineEvents,
    TextEvents,
    completion_body,
    engine_body,
    new_response_id,
    request_id,
    text_completion_body,
)
from mock_server.send import Events, Sent, answer_complete, stream_at_once, stream_paced
from mock_server.state import STATE, AppState
from mock_server.timing_log import timing_record
from suite.tokens import count_chat_tokens


@dataclass(frozen=True)
class Endpoint:
    """How one generating route reads a request and shapes its answer."""

    path: str
    id_prefix: str
    parse: Callable[[bytes, MockConfig], ChatRequest]
    events: Callable[[str, int, ChatRequest], Events]
    body: Callable[[str, int, ChatRequest, Completion, bool], bytes]
    sessions: bool = False  # keeps a conversation per session_id (POST /api/chat)
    lane: bool = False  # zero-delay answers may take the fast lane (fastlane.py)


def _engine_model(config: MockConfig) -> str:
    return config.engine_model or next(iter(config.profiles))


CHAT = Endpoint(
    "/v1/chat/completions", "chatcmpl",
    lambda raw, cfg: parse_chat_request(raw, cfg.profiles, cfg.normalize),
    lambda rid, created, chat: ChunkEvents(rid, created, chat.model),
    lambda rid, created, chat, c, cached: completion_body(rid, created, chat.model, c, cached),
    lane=True)
COMPLETIONS = Endpoint(
    "/v1/completions", "cmpl",
    lambda raw, cfg: parse_completion_request(raw, cfg.profiles, cfg.normalize),
    lambda rid, created, chat: TextEvents(rid, created, chat.model),
    lambda rid, created, chat, c, cached: text_completion_body(rid, created, chat.model, c, cached))
ENGINE_CHAT = Endpoint(
    "/api/chat", "resp",
    lambda raw, cfg: parse_engine_request(raw, cfg.profiles, _engine_model(cfg), cfg.normalize),
    lambda rid, created, chat: EngineEvents(chat.session_id or ""),
    lambda rid, created, chat, c, cached: engine_body(rid, created, chat.model, c, cached,
                                                      chat.session_id or ""),
    sessions=True)


def error_response(err: ApiError, request: web.Request | None = None) -> web.Response:
    """OpenAI's error JSON; with ``request``, stamped with its ``X-Request-Id``."""
    resp = web.Response(status=err.status, body=err.body(), content_type="application/json",
                        headers=err.headers or None)
    if request is not None:
        resp.headers[REQUEST_ID] = request_id(request.headers.get(REQUEST_ID))
    return resp


async def read_body(request: web.Request, st: AppState) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, f"request body too large: {exc.text}; send at most "
                       f"{st.config.max_body_bytes} bytes.", code="request_too_large") from None


def read_chat(st: AppState, ep: Endpoint, body: bytes) -> ChatRequest:
    chat = ep.parse(body, st.config)
    if ep.sessions and chat.session_id is not None:
        messages = st.sessions.conversation(chat.session_id, chat.messages)
        if len(messages) != len(chat.messages):
            chat = dataclasses.replace(chat, messages=messages)
    return chat


def fault_error(fault: Fault) -> ApiError:
    """The answer of an error fault (500/503/429), in OpenAI's shape."""
    if fault.kind == "429":
        return ApiError(429, "Rate limit reached (injected fault).", code="rate_limit_exceeded",
                        type_="requests", headers={"Retry-After": "1"})
    return ApiError(int(fault.kind), f"The server had an error while processing your request "
                    f"(injected fault {fault.kind}).", code="injected_fault", type_="server_error")


def ttft_target(answer: Answer, t0: float, ready: float) -> float:
    """The TTFT the server aims at, from receipt: the planned TTFT plus what the model adds on
    purpose (an injected first-byte stall, the wait for a batch slot); a hit's is its overhead
    (the real lookup time is not part of the target)."""
    if answer.cache == HIT:
        return answer.timing.ttft_s
    start = answer.admitted if answer.admitted is not None else ready
    return start - t0 + answer.timing.ttft_s


def record(request: web.Request, st: AppState, chat: ChatRequest, answer: Answer, sent: Sent,
           t0: float, ready: float) -> None:
    st.metrics.answered(chat.model, sent.status, answer.cache)
    if sent.status != 200:
        return
    t_end = st.clock() if sent.t_end is None else sent.t_end
    completion = answer.completion
    if sent.stamps:
        st.metrics.first_token(chat.model, answer.cache, sent.stamps[0] - t0)
    st.metrics.served(chat.model, answer.cache, t_end - t0, completion.prompt_tokens,
                      len(completion.tokens))
    if st.timing_log is not None:
        rid = request.headers.get("X-Request-Id")
        st.timing_log.add(timing_record(
            rid[:MAX_REQUEST_ID] if rid else None, chat.model, answer.cache,
            time.time() - (st.clock() - t0), sent.stamps if chat.stream else None, t_end, t0,
            ttft_target(answer, t0, ready), len(completion.tokens)))


def at_once(answer: Answer) -> bool:
    """No delay and no stream fault: the whole stream can go out as one body."""
    return answer.timing.e2e_s == 0 and answer.fault is None


async def respond(request: web.Request, st: AppState, ep: Endpoint, chat: ChatRequest,
                  answer: Answer, t0: float, ready: float) -> web.StreamResponse:
    rid, created, hit = new_response_id(ep.id_prefix), int(time.time()), answer.cache == HIT
    measure = st.timing_log is not None
    if not chat.stream:
        body = ep.body(rid, created, chat, answer.completion, hit)
        sent = await answer_complete(request, st, chat, answer, ready, body, measure)
    elif at_once(answer):
        sent = await stream_at_once(request, st, ep.events(rid, created, chat), chat, answer,
                                    measure)
    else:
        sent = await stream_paced(request, st, ep.events(rid, created, chat), chat, answer, ready)
    record(request, st, chat, answer, sent, t0, ready)
    if ep.sessions and sent.status == 200 and chat.session_id is not None:
        st.sessions.remember(chat.session_id, chat.messages[-1], answer.completion.text)
    return sent.resp


async def start_fault(st: AppState, chat: ChatRequest, fault: Fault) -> ApiError | None:
    """Count the fault; an error fault is the answer, a first-byte stall is slept here."""
    st.metrics.fault(chat.model, fault.kind)
    if fault.kind in ERROR_KINDS:
        return fault_error(fault)
    if fault.kind == "stall_first":
        await st.sleep(fault.arg)
    return None


def truthful_prompt(st: AppState, ep: Endpoint, chat: ChatRequest, answer: Answer) -> Answer:
    """A session's hit reports this conversation's prompt size, not the one it was cached with."""
    if not (ep.sessions and answer.cache == HIT):
        return answer
    n = count_chat_tokens(chat.messages, st.config.profiles[chat.model].token_model)
    if n == answer.completion.prompt_tokens:
        return answer
    return answer._replace(completion=answer.completion._replace(prompt_tokens=n))


async def handle(request: web.Request, st: AppState, ep: Endpoint,
                 t0: float) -> web.StreamResponse:
    try:
        raw = await read_body(request, st)
        if ep.lane and st.lane:
            fast = fast_chat(request, st, raw, t0)
            if fast is not None:
                return fast
        chat = read_chat(st, ep, raw)
        fault = st.engine.fault_for(chat.model, request.headers.get(FAULT_HEADER))
    except ApiError as err:
        st.metrics.answered("-", err.status, "-")  # no user-chosen label values on bad input
        return error_response(err, request)
    refused = None if fault is None else await start_fault(st, chat, fault)
    ready = t0 if fault is None else st.clock()  # a first-byte stall is added, not absorbed
    if refused is None:
        try:
            answer = await st.engine.answer(chat, fault)
        except ApiError as err:  # rate limit or full queue
            refused = err
    if refused is not None:
        st.metrics.answered(chat.model, refused.status, "-")
        return error_response(refused, request)
    try:
        return await respond(request, st, ep, chat, truthful_prompt(st, ep, chat, answer), t0,
                             ready)
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
                                           code="internal_error", type_="server_error"), request)
        finally:
            st.metrics.in_flight -= 1

    return generate


chat_completions = route(CHAT)
completions = route(COMPLETIONS)
engine_chat = route(ENGINE_CHAT)
