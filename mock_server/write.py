"""Write a decided answer: the one writer of the mock's bytes — OpenAI's JSON bodies and SSE
events, and their sending: all at once (no delay), paced token by token, or as one JSON body.

Bodies are pure builders. Streaming events are ``data: <chat.completion.chunk json>\\n\\n``; the
per-response part of every chunk (id, created, model) is serialized once and each content event
only adds its string, so the hot path costs one orjson call per token. Streaming order (OpenAI's):
role chunk (sent with the first token, so every TTFT definition — first chunk or first non-empty
content — sees the same instant), one chunk per token, the finish_reason chunk, the usage chunk
when ``stream_options.include_usage``, then ``[DONE]``.

Pacing: each token is due at an absolute time, ``start + ttft + sum(itl[:i])``, so sleep overshoot
never accumulates over a long answer; tokens already due when the writer wakes go out together in
one write (fewer syscalls when the loop falls behind, and a cache hit — all gaps 0 — is a single
write). The pacing start is the request's receipt, its batch admission, or a hit's lookup (see
answer.py).

Every sender returns a ``Sent``: the response, its status label, and the server's own stamps —
the clock after each content chunk's write (streams) and after the last byte (when measured) —
which feed ``/metrics`` and ``--timing-log``. A zero-delay answer normally returns an unsent
``web.Response`` (aiohttp writes it after the handler returns, the cheapest path); with
``measure`` (a timing log is on) it is sent inside the handler so the last byte can be stamped.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from itertools import accumulate, count
from typing import Any, NamedTuple, Protocol

import orjson
from aiohttp import web

from mock_server.answer import HIT, OFF, Answer, Timing
from mock_server.cache import Completion
from mock_server.faults import fault_bodies
from mock_server.openai_errors import ApiError
from mock_server.state import AppState
from mock_server.validate import ChatRequest

DONE = b"data: [DONE]\n\n"
REQUEST_ID = "X-Request-Id"
MAX_REQUEST_ID = 200
CLIENT_CLOSED = 499  # nginx's convention: the client went away before the answer was complete
CUT = "cut"  # status label of an answer the server cut on purpose (fault disconnect)
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
JSON_HEADERS = {"Content-Type": "application/json"}


_PROCESS_TAG = os.urandom(6).hex()  # unique per process; the counter makes ids unique within it
_serial = count()


def new_response_id(prefix: str = "chatcmpl") -> str:
    """``chatcmpl-<24 hex>``: a random per-process tag plus a counter (cheaper than uuid4)."""
    return f"{prefix}-{_PROCESS_TAG}{next(_serial):012x}"


def new_request_id() -> str:
    """X-Request-Id for requests that did not bring one."""
    return f"mock-{_PROCESS_TAG}-{next(_serial):x}"


def request_id(given: str | None) -> str:
    """The ``X-Request-Id`` of a response: the client's (at most 200 characters), else a new one.
    Each response builder stamps it (an ``on_response_prepare`` hook would cost every request a
    signal dispatch)."""
    return given[:MAX_REQUEST_ID] if given else new_request_id()


def usage(completion: Completion, cached: bool) -> dict[str, Any]:
    """Truthful usage. A response-cache hit processed none of the prompt, so all of it counts
    as cached (cached_tokens = prompt_tokens); a generated answer reports its prompt-prefix cache
    hit (0 unless the profile has a ``prefix_cache``)."""
    n = len(completion.tokens)
    return {
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": n,
        "total_tokens": completion.prompt_tokens + n,
        "prompt_tokens_details": {"cached_tokens": completion.prompt_tokens if cached
                                  else completion.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


_USAGE = (b'"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,'
          b'"prompt_tokens_details":{"cached_tokens":%d},'
          b'"completion_tokens_details":{"reasoning_tokens":0}},"cached":%s}')


def completion_body(rid: str, created: int, model: str, completion: Completion,
                    cached: bool) -> bytes:
    """A non-streaming ``chat.completion`` object: the bytes ``orjson.dumps`` gives for it (a
    unit test holds the two equal), spliced from constant parts — cheaper than building and
    serializing the nested dicts on every answer."""
    p, n = completion.prompt_tokens, len(completion.tokens)
    return b"".join((
        b'{"id":', orjson.dumps(rid), b',"object":"chat.completion","created":', b"%d" % created,
        b',"model":', orjson.dumps(model),
        b',"system_fingerprint":null,"choices":[{"index":0,"message":{"role":"assistant",'
        b'"content":', orjson.dumps(completion.text),
        b',"refusal":null},"logprobs":null,"finish_reason":', orjson.dumps(completion.finish_reason),
        b"}],", _USAGE % (p, n, p + n, p if cached else completion.cached_tokens,
                          b"true" if cached else b"false")))


# JSON of chunk strings, each serialized once: answers are composed from a fixed sentence bank,
# so a few thousand distinct chunks make up every stream, and a dict lookup is cheaper than
# serializing a short string. Bounded all the same (past the bound, chunks are serialized anew).
_CHUNK_JSON: dict[str, bytes] = {}
CHUNK_JSON_LIMIT = 1 << 16


def _remember(chunks: tuple[str, ...]) -> None:
    for chunk in chunks:
        if len(_CHUNK_JSON) < CHUNK_JSON_LIMIT and chunk not in _CHUNK_JSON:
            _CHUNK_JSON[chunk] = orjson.dumps(chunk)


class Events:
    """SSE events of one streamed answer: a content event is ``_open`` + JSON string + ``_close``.
    Each endpoint subclasses it (ChunkEvents here; handlers/completions.py, handlers/engine_chat.py);
    kinds without role, finish or usage events keep the empty defaults."""

    _open = b""
    _close = b""

    def role(self) -> bytes:
        return b""

    def content(self, text: str) -> bytes:
        return self._open + orjson.dumps(text) + self._close

    def contents(self, chunks: tuple[str, ...]) -> bytes:
        """All content events at once: one C-level join instead of a Python loop, over each
        chunk's JSON serialized once (see ``_CHUNK_JSON``)."""
        if not chunks:
            return b""
        between = self._close + self._open
        try:
            return self._open + between.join(map(_CHUNK_JSON.__getitem__, chunks)) + self._close
        except KeyError:
            _remember(chunks)
            return self._open + between.join(map(orjson.dumps, chunks)) + self._close

    def finish(self, reason: str) -> bytes:
        return b""

    def usage(self, completion: Completion, cached: bool) -> bytes:
        return b""


def usage_event(prefix: bytes, completion: Completion, cached: bool) -> bytes:
    """Final chunk for ``stream_options.include_usage``: empty choices plus usage."""
    return prefix + b"[]," + orjson.dumps({"usage": usage(completion, cached)})[1:] + b"\n\n"


class ChunkEvents(Events):
    """SSE events of one streamed chat answer."""

    def __init__(self, rid: str, created: int, model: str) -> None:
        head = orjson.dumps({"id": rid, "object": "chat.completion.chunk", "created": created,
                             "model": model, "system_fingerprint": None})
        self._prefix = b"data: " + head[:-1] + b',"choices":'
        self._open = self._prefix + b'[{"index":0,"delta":{"content":'
        self._close = b'},"logprobs":null,"finish_reason":null}]}\n\n'

    def _choice(self, delta: bytes, finish: bytes) -> bytes:
        return (self._prefix + b'[{"index":0,"delta":' + delta
                + b',"logprobs":null,"finish_reason":' + finish + b"}]}\n\n")

    def role(self) -> bytes:
        """First chunk: the assistant role with empty content (sent together with token 1)."""
        return self._choice(b'{"role":"assistant","content":""}', b"null")

    def finish(self, reason: str) -> bytes:
        return self._choice(b"{}", orjson.dumps(reason))

    def usage(self, completion: Completion, cached: bool) -> bytes:
        return usage_event(self._prefix, completion, cached)


def json_response(obj: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(obj), content_type="application/json")


def error_response(err: ApiError, request: web.Request | None = None) -> web.Response:
    """OpenAI's error JSON; with ``request``, stamped with its ``X-Request-Id``."""
    resp = web.Response(status=err.status, body=err.body(), content_type="application/json",
                        headers=err.headers or None)
    if request is not None:
        resp.headers[REQUEST_ID] = request_id(request.headers.get(REQUEST_ID))
    return resp


class Writer(Protocol):
    async def write(self, data: bytes) -> None: ...


def due_times(start: float, timing: Timing, n: int) -> list[float]:
    """Absolute due time of each of ``n`` events (n = tokens, or 1 for an empty answer)."""
    gaps = (timing.ttft_s, *timing.itl_s[: max(0, n - 1)])
    return list(accumulate(gaps, initial=start))[1:]


async def write_paced(out: Writer, bodies: list[bytes], due: list[float],
                      clock: Callable[[], float],
                      sleep: Callable[[float], Awaitable[None]]) -> list[float]:
    """Write ``bodies[i]`` no earlier than ``due[i]``; return, per body, the clock right after
    the write that carried it (bodies coalesced into one write share its stamp)."""
    stamps: list[float] = []
    i, n = 0, len(bodies)
    while i < n:
        wait = due[i] - clock()
        if wait > 0:
            await sleep(wait)
        now = clock()
        j = i + 1
        while j < n and due[j] <= now:
            j += 1
        await out.write(bodies[i] if j == i + 1 else b"".join(bodies[i:j]))
        now = clock()
        stamps += [now] * (j - i)
        i = j
    return stamps


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
    """Where the plan's delays count from (see answer.py): a hit after its lookup (now), a
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
    if not st.planner.store_now(chat, answer):
        await st.planner.store(chat, answer)
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
        await st.planner.store(chat, answer)
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
    if not st.planner.store_now(chat, answer):
        await st.planner.store(chat, answer)
    resp = web.Response(body=body, headers=chat_headers(request, JSON_HEADERS, chat, answer))
    if not measure:
        return Sent(resp, 200)
    try:
        return Sent(resp, 200, None, await send_now(request, resp, st))
    except ConnectionResetError:
        return Sent(resp, CLIENT_CLOSED)
