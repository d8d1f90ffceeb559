"""``POST /v1/chat/completions``: parse, ask the engine, then sleep and write what it planned.

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

from aiohttp import web

from mock_server.engine import HIT, OFF, Answer
from mock_server.openai_errors import ApiError
from mock_server.plan import Completion
from mock_server.request import ChatRequest, parse_chat_request
from mock_server.responses import DONE, ChunkEvents, completion_body, new_response_id
from mock_server.state import STATE, AppState
from mock_server.streaming import due_times, write_paced

CLIENT_CLOSED = 499  # nginx's convention: the client went away before the answer was complete
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
JSON_HEADERS = {"Content-Type": "application/json"}


def error_response(err: ApiError) -> web.Response:
    return web.Response(status=err.status, body=err.body(), content_type="application/json")


def chat_headers(chat: ChatRequest, answer: Answer) -> dict[str, str]:
    headers = {"X-Cache-Key": chat.key}
    if answer.cache != OFF:
        headers["X-Cache"] = answer.cache.upper()
    return headers


async def read_chat(request: web.Request, st: AppState) -> ChatRequest:
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, f"request body too large: {exc.text}; send at most "
                       f"{st.config.max_body_bytes} bytes.", code="request_too_large") from None
    return parse_chat_request(body, st.config.profiles)


def stream_bodies(events: ChunkEvents, chunks: tuple[str, ...]) -> list[bytes]:
    """One SSE event per token; the role chunk rides with the first (alone if no tokens)."""
    bodies = [events.content(c) for c in chunks] or [b""]
    bodies[0] = events.role() + bodies[0]
    return bodies


def stream_tail(events: ChunkEvents, chat: ChatRequest, completion: Completion) -> bytes:
    usage = events.usage(completion) if chat.include_usage else b""
    return events.finish(completion.finish_reason) + usage + DONE


async def stream_at_once(st: AppState, chat: ChatRequest, answer: Answer,
                         t0: float) -> web.Response:
    """A zero-delay answer (cache hit, instant profile): the whole SSE stream as one body — one
    write, no chunked framing; clients read it exactly like a paced stream."""
    events = ChunkEvents(new_response_id(), int(time.time()), chat.model)
    await st.engine.store(chat, answer)
    body = (events.role() + events.contents(answer.completion.chunks)
            + stream_tail(events, chat, answer.completion))
    st.metrics.first_token(chat.model, answer.cache, st.clock() - t0)
    return web.Response(body=body, headers={**SSE_HEADERS, **chat_headers(chat, answer)})


async def stream_paced(request: web.Request, st: AppState, chat: ChatRequest, answer: Answer,
                       t0: float) -> tuple[web.StreamResponse, bool]:
    """Stream token by token; returns (response, completed) — False when the client went away."""
    resp = web.StreamResponse(headers={**SSE_HEADERS, **chat_headers(chat, answer)})
    events = ChunkEvents(new_response_id(), int(time.time()), chat.model)
    bodies = stream_bodies(events, answer.completion.chunks)
    try:
        await resp.prepare(request)
        due = due_times(st.clock(), answer.timing, len(bodies))
        first = await write_paced(resp, bodies, due, st.clock, st.sleep)
        st.metrics.first_token(chat.model, answer.cache, first - t0)
        await st.engine.store(chat, answer)
        await resp.write(stream_tail(events, chat, answer.completion))
    except ConnectionResetError:
        return resp, False
    return resp, True


async def answer_complete(st: AppState, chat: ChatRequest, answer: Answer) -> web.Response:
    wait = answer.timing.e2e_s
    if wait > 0:
        await st.sleep(wait)
    await st.engine.store(chat, answer)
    body = completion_body(new_response_id(), int(time.time()), chat.model, answer.completion,
                           cached=answer.cache == HIT)
    return web.Response(body=body, headers={**JSON_HEADERS, **chat_headers(chat, answer)})


def record(st: AppState, chat: ChatRequest, answer: Answer, status: int, t0: float) -> None:
    st.metrics.answered(chat.model, status, answer.cache)
    if status == 200:
        st.metrics.served(chat.model, answer.cache, st.clock() - t0,
                          answer.completion.prompt_tokens, len(answer.completion.tokens))


async def handle_chat(request: web.Request, st: AppState, t0: float) -> web.StreamResponse:
    try:
        chat = await read_chat(request, st)
    except ApiError as err:
        st.metrics.answered("-", err.status, "-")  # no user-chosen label values on bad input
        return error_response(err)
    answer = await st.engine.answer(chat)
    if not chat.stream:
        resp = await answer_complete(st, chat, answer)
        record(st, chat, answer, 200, t0)
        return resp
    if answer.timing.e2e_s == 0:
        at_once = await stream_at_once(st, chat, answer, t0)
        record(st, chat, answer, 200, t0)
        return at_once
    stream, completed = await stream_paced(request, st, chat, answer, t0)
    record(st, chat, answer, 200 if completed else CLIENT_CLOSED, t0)
    return stream


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """The route. A bug becomes a logged, OpenAI-shaped 500 — never a traceback to the client."""
    st = request.app[STATE]
    t0 = st.clock()
    st.metrics.in_flight += 1
    try:
        return await handle_chat(request, st, t0)
    except Exception:
        st.log.exception("unexpected error answering POST /v1/chat/completions")
        st.metrics.answered("-", 500, "-")
        return error_response(ApiError(500, "internal error in the mock server; see its log.",
                                       code="internal_error", type_="server_error"))
    finally:
        st.metrics.in_flight -= 1
