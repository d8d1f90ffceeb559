"""``POST /v1/chat/completions`` — and the flow every generating route shares (``/v1/completions``
in completions.py and ``/api/chat`` in engine_chat.py only add an ``Endpoint`` row saying how they
parse and shape their answer): read the body, validate it (validate.py), apply a fault, ask the
answer planner (answer.py), then sleep and write what it planned (write.py) — ``respond``
branches once on ``stream``.

A generated answer is written to the cache after its last token, before the final bytes, so a
repeat sent after the response ended is a HIT, and a concurrent twin is a MISS as in a real cache.
An answer with no delay at all (an ``instant`` profile, a hit with hit_overhead_s 0) is sent as one
body instead of a chunked stream: same bytes, one write.

Timing: ``t0`` (the handler's first clock read) is the receipt. Every answered request's server
stamps go to ``/metrics`` and, with ``--timing-log``, to one JSONL line (timing_log.py).

The zero-delay lane (end of this module): with the ``instant`` profile the mock's own Python work
per request *is* its capacity, and the general flow spends a good part of it on what a zero-delay
answer never needs — fault draws, timing plans, pacing, batch slots, awaiting a cache. So a chat
request that provably needs none of that (``lane_models`` states when, once per app) is decided and
built in one synchronous pass by ``fast_chat``; anything else returns None and the general flow
answers (and words any error) as before. It answers byte for byte what the general flow answers
(same builders, same headers, same cache writes and metrics; a unit test compares the two).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from mock_server.answer import (
    FAULT_HEADER,
    HIT,
    MISS,
    OFF,
    Answer,
    count_prompt,
    count_text,
    plan_completion,
)
from mock_server.cache import Completion, MemoryCache, NullCache, ResponseCache
from mock_server.config import MockConfig
from mock_server.faults import ERROR_KINDS, Fault
from mock_server.openai_errors import ApiError
from mock_server.protocol import timeout_error
from mock_server.state import STATE, AppState
from mock_server.timing_log import TimingLog, timing_record
from mock_server.validate import ChatRequest, parse_chat_request, simple_request
from mock_server.write import (
    CLIENT_CLOSED,
    JSON_HEADERS,
    MAX_REQUEST_ID,
    SSE_HEADERS,
    ChunkEvents,
    Events,
    Sent,
    answer_complete,
    answer_headers,
    completion_body,
    error_response,
    new_response_id,
    stream_at_once,
    stream_paced,
    whole_stream,
)


@dataclass(frozen=True)
class Endpoint:
    """How one generating route reads a request and shapes its answer."""

    path: str
    id_prefix: str
    parse: Callable[[bytes, MockConfig], ChatRequest]
    events: Callable[[str, int, ChatRequest], Events]
    body: Callable[[str, int, ChatRequest, Completion, bool], bytes]
    sessions: bool = False  # keeps a conversation per session_id (POST /api/chat)
    lane: bool = False  # zero-delay answers may take the lane (``fast_chat``)


CHAT = Endpoint(
    "/v1/chat/completions", "chatcmpl",
    lambda raw, cfg: parse_chat_request(raw, cfg.profiles, cfg.normalize),
    lambda rid, created, chat: ChunkEvents(rid, created, chat.model),
    lambda rid, created, chat, c, cached: completion_body(rid, created, chat.model, c, cached),
    lane=True)


class ClientClosed(Exception):
    """The client went away before its request body was read: nothing to answer (status 499)."""


async def read_body(request: web.Request, st: AppState) -> bytes:
    """The request body, read within ``--read-timeout`` (408 past it); a body that is already
    complete (the usual case: it came with the headers) is read without a timer."""
    try:
        if request.content.is_eof():
            return await request.read()
        return await asyncio.wait_for(request.read(), st.config.read_timeout_s)
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, f"request body too large: {exc.text}; send at most "
                       f"{st.config.max_body_bytes} bytes.", code="request_too_large") from None
    except asyncio.TimeoutError:
        raise timeout_error("body", st.config.read_timeout_s) from None
    except ConnectionError:
        raise ClientClosed from None
    except HttpProcessingError as exc:
        raise ApiError(400, f"invalid request body: {exc.message}; send a well-formed body.",
                       code="invalid_body") from None


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
            ttft_target(answer, t0, ready), len(completion.tokens), chat.key, answer.served))


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
        await remember(st, chat, answer.completion)
    return sent.resp


async def remember(st: AppState, chat: ChatRequest, completion: Completion) -> None:
    """Keep an answered ``/api/chat`` turn in its session (sessions.py bounds it); its token
    count is taken once, here (off the loop when the question is long)."""
    question, text = chat.messages[-1], completion.text
    if not st.sessions.fits(question, text):
        return
    encoding = st.config.profiles[chat.model].encoding
    tokens = await count_text(question.get("content", ""), encoding) + len(completion.tokens)
    if chat.session_id is not None:
        st.sessions.remember(chat.session_id, question, text, tokens)


async def start_fault(st: AppState, chat: ChatRequest, fault: Fault) -> ApiError | None:
    """Count the fault; an error fault is the answer, a first-byte stall is slept here."""
    st.metrics.fault(chat.model, fault.kind)
    if fault.kind in ERROR_KINDS:
        return fault_error(fault)
    if fault.kind == "stall_first":
        await st.sleep(fault.arg)
    return None


async def truthful_prompt(st: AppState, chat: ChatRequest, answer: Answer) -> Answer:
    """A session's hit reports this conversation's prompt size, not the one it was cached with
    (counted off the loop when the conversation is long)."""
    n = await count_prompt(chat.messages, st.config.profiles[chat.model].encoding)
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
        fault = st.planner.fault_for(chat.model, request.headers.get(FAULT_HEADER))
    except ApiError as err:
        st.metrics.answered("-", err.status, "-")  # no user-chosen label values on bad input
        resp = error_response(err, request)
        if err.status == 408:
            resp.force_close()  # the rest of a late body is not worth waiting for
        return resp
    if chat.model in st.model_limits:
        return await limited(request, st, ep, chat, fault, t0)
    return await generate_answer(request, st, ep, chat, fault, t0)


async def generate_answer(request: web.Request, st: AppState, ep: Endpoint, chat: ChatRequest,
                          fault: Fault | None, t0: float) -> web.StreamResponse:
    refused = None if fault is None else await start_fault(st, chat, fault)
    ready = t0 if fault is None else st.clock()  # a first-byte stall is added, not absorbed
    if refused is None:
        try:
            answer = await st.planner.answer(chat, fault)
        except ApiError as err:  # rate limit or full queue
            refused = err
    if refused is not None:
        st.metrics.answered(chat.model, refused.status, "-")
        return error_response(refused, request)
    try:
        if ep.sessions and answer.cache == HIT:
            answer = await truthful_prompt(st, chat, answer)
        return await respond(request, st, ep, chat, answer, t0, ready)
    finally:
        st.planner.release(answer)


def overloaded(what: str, limit: int) -> ApiError:
    """503 with Retry-After: the shedding answer (``--max-in-flight`` or a profile's key)."""
    return ApiError(503, f"{what} is overloaded on this mock server: {limit} generating requests "
                    "in flight (max_in_flight); retry after 1 s.", code="overloaded",
                    type_="server_error", headers={"Retry-After": "1"})


async def limited(request: web.Request, st: AppState, ep: Endpoint, chat: ChatRequest,
                  fault: Fault | None, t0: float) -> web.StreamResponse:
    """``generate_answer`` for a model whose profile sets ``max_in_flight``: 503 beyond it."""
    limit, counts = st.model_limits[chat.model], st.model_in_flight
    if counts[chat.model] >= limit:
        st.metrics.answered(chat.model, 503, "-")
        return error_response(overloaded(chat.model, limit), request)
    counts[chat.model] += 1
    try:
        return await generate_answer(request, st, ep, chat, fault, t0)
    finally:
        counts[chat.model] -= 1


def route(ep: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of one endpoint. Beyond ``--max-in-flight`` generating requests it
    sheds (503 + Retry-After, before reading the body: one counter check per request). A client
    that leaves before its body is read is counted as 499, quietly. A bug becomes a logged,
    OpenAI-shaped 500 — never a traceback to the client."""

    async def generate(request: web.Request) -> web.StreamResponse:
        st = request.app[STATE]
        t0 = st.clock()
        st.metrics.in_flight += 1
        try:
            if st.metrics.in_flight > st.max_in_flight:
                st.metrics.answered("-", 503, "-")
                return error_response(overloaded("this server", st.max_in_flight), request)
            return await handle(request, st, ep, t0)
        except ClientClosed:
            st.metrics.answered("-", CLIENT_CLOSED, "-")
            return web.Response(status=CLIENT_CLOSED)  # never sent: the socket is gone
        except Exception:
            st.log.exception("unexpected error answering POST %s", ep.path)
            st.metrics.answered("-", 500, "-")
            return error_response(ApiError(500, "internal error in the mock server; see its log.",
                                           code="internal_error", type_="server_error"), request)
        finally:
            st.metrics.in_flight -= 1

    return generate


chat_completions = route(CHAT)


def lane_models(config: MockConfig, cache: ResponseCache,
                timing_log: TimingLog | None) -> frozenset[str]:
    """The models whose chat answers may take the zero-delay lane (empty: the lane is closed) —
    the lane's whole eligibility rule, decided once per app:

    * the app has no timing log, no ``normalize`` mode and an in-process cache (memory, or none):
      nothing to stamp, re-key or await;
    * the model's profile is zero-delay on both paths (no TTFT, infinite tokens/s, no jitter, no
      hit overhead), has no fault table, no load model, no ``max_in_flight`` and no
      ``prefix_cache``: every answer is due at once and can never fault, wait or be shed per
      model, and no state but the response cache changes.

    Per request, ``fast_chat`` adds only what a request can change: no ``X-Mock-Fault`` header,
    a plain request (``validate.simple_request``) for a model in this set."""
    in_process = type(cache) is MemoryCache or isinstance(cache, NullCache)  # never awaits a cache
    if timing_log is not None or config.normalize or not in_process:
        return frozenset()
    return frozenset(name for name, p in config.profiles.items()
                     if p.ttft_base_s == 0 and p.prefill_s_per_token == 0 and p.ttft_jitter_s == 0
                     and math.isinf(p.tokens_per_s) and p.hit_overhead_s == 0 and not p.faults
                     and p.load is None and p.max_in_flight is None and p.prefix_cache is None)


def fast_chat(request: web.Request, st: AppState, raw: bytes, t0: float) -> web.Response | None:
    """The answer to a zero-delay chat request, or None when the general flow must decide."""
    if FAULT_HEADER in request.headers:
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    chat = simple_request(obj, st.config.profiles) if type(obj) is dict else None
    if chat is None or chat.model not in st.lane:
        return None
    planner, metrics = st.planner, st.metrics
    memory, cached = planner.memory, None
    if memory is not None:
        cached = memory.get_now(chat.key)
        planner.count_lookup(cached)
    if cached is not None:
        completion, cache = cached, HIT
    else:
        completion = plan_completion(chat, st.config.profiles[chat.model], st.config.seed)
        cache = OFF if memory is None else MISS
        if memory is not None:
            memory.put_now(chat.key, completion)
    hit = cache == HIT
    rid, created = new_response_id("chatcmpl"), int(time.time())
    if chat.stream:
        body = whole_stream(ChunkEvents(rid, created, chat.model), completion, chat.include_usage,
                            hit)
        kind = SSE_HEADERS
    else:
        body = completion_body(rid, created, chat.model, completion, hit)
        kind = JSON_HEADERS
    headers = answer_headers(request, kind, chat.key, cache)
    resp = web.Response(body=body, headers=headers)
    done = st.clock() - t0
    metrics.answered(chat.model, 200, cache)
    if chat.stream:
        metrics.first_token(chat.model, cache, done)
    metrics.served(chat.model, cache, done, completion.prompt_tokens, len(completion.tokens))
    return resp
