"""OpenAI response shapes as bytes — pure builders, no I/O.

Streaming events are ``data: <chat.completion.chunk json>\\n\\n``; the per-response part of every
chunk (id, created, model) is serialized once and each content event only adds its string, so
the hot path costs one orjson call per token.
"""

from __future__ import annotations

import os
from itertools import count
from typing import Any

import orjson

from mock_server.plan import Completion

DONE = b"data: [DONE]\n\n"


_PROCESS_TAG = os.urandom(6).hex()  # unique per process; the counter makes ids unique within it
_serial = count()


def new_response_id(prefix: str = "chatcmpl") -> str:
    """``chatcmpl-<24 hex>``: a random per-process tag plus a counter (uuid4 costs ~5 us)."""
    return f"{prefix}-{_PROCESS_TAG}{next(_serial):012x}"


def new_request_id() -> str:
    """X-Request-Id for requests that did not bring one."""
    return f"mock-{_PROCESS_TAG}-{next(_serial):x}"


REQUEST_ID = "X-Request-Id"
MAX_REQUEST_ID = 200


def request_id(given: str | None) -> str:
    """The ``X-Request-Id`` of a response: the client's (at most 200 characters), else a new one.
    Each response builder stamps it (an ``on_response_prepare`` hook would cost every request a
    signal dispatch)."""
    return given[:MAX_REQUEST_ID] if given else new_request_id()


def usage(completion: Completion, cached: bool) -> dict[str, Any]:
    """Truthful usage. A response-cache hit processed none of the prompt, so all of it counts
    as cached (cached_tokens = prompt_tokens); a generated answer has 0 (no prompt-prefix
    caching is modelled)."""
    n = len(completion.tokens)
    return {
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": n,
        "total_tokens": completion.prompt_tokens + n,
        "prompt_tokens_details": {"cached_tokens": completion.prompt_tokens if cached else 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


_USAGE = (b'"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,'
          b'"prompt_tokens_details":{"cached_tokens":%d},'
          b'"completion_tokens_details":{"reasoning_tokens":0}},"cached":%s}')


def completion_body(rid: str, created: int, model: str, completion: Completion,
                    cached: bool) -> bytes:
    """A non-streaming ``chat.completion`` object: the bytes ``orjson.dumps`` gives for it (a
    unit test holds the two equal), spliced from constant parts — half the cost of building
    and serializing the nested dicts on every answer."""
    p, n = completion.prompt_tokens, len(completion.tokens)
    return b"".join((
        b'{"id":', orjson.dumps(rid), b',"object":"chat.completion","created":', b"%d" % created,
        b',"model":', orjson.dumps(model),
        b',"system_fingerprint":null,"choices":[{"index":0,"message":{"role":"assistant",'
        b'"content":', orjson.dumps(completion.text),
        b',"refusal":null},"logprobs":null,"finish_reason":', orjson.dumps(completion.finish_reason),
        b"}],", _USAGE % (p, n, p + n, p if cached else 0, b"true" if cached else b"false")))


# JSON of chunk strings, each serialized once: answers are composed from a fixed sentence bank,
# so a few thousand distinct chunks make up every stream, and a dict lookup is ~3x cheaper than
# serializing a short string. Bounded all the same (past the bound, chunks are serialized anew).
_CHUNK_JSON: dict[str, bytes] = {}
CHUNK_JSON_LIMIT = 1 << 16


def _remember(chunks: tuple[str, ...]) -> None:
    for chunk in chunks:
        if len(_CHUNK_JSON) < CHUNK_JSON_LIMIT and chunk not in _CHUNK_JSON:
            _CHUNK_JSON[chunk] = orjson.dumps(chunk)


class _Events:
    """SSE events of one streamed answer: a content event is ``_open`` + JSON string + ``_close``.
    Kinds without role, finish or usage events keep the empty defaults."""

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


def _usage_event(prefix: bytes, completion: Completion, cached: bool) -> bytes:
    """Final chunk for ``stream_options.include_usage``: empty choices plus usage."""
    return prefix + b"[]," + orjson.dumps({"usage": usage(completion, cached)})[1:] + b"\n\n"


class ChunkEvents(_Events):
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
        return _usage_event(self._prefix, completion, cached)


def text_completion_body(rid: str, created: int, model: str, completion: Completion,
                         cached: bool) -> bytes:
    """A non-streaming legacy ``text_completion`` object (``POST /v1/completions``)."""
    return orjson.dumps({
        "id": rid,
        "object": "text_completion",
        "created": created,
        "model": model,
        "system_fingerprint": None,
        "choices": [{"text": completion.text, "index": 0, "logprobs": None,
                     "finish_reason": completion.finish_reason}],
        "usage": usage(completion, cached),
        "cached": cached,
    })


class TextEvents(_Events):
    """SSE events of one streamed ``POST /v1/completions`` answer (no role chunk)."""

    def __init__(self, rid: str, created: int, model: str) -> None:
        head = orjson.dumps({"id": rid, "object": "text_completion", "created": created,
                             "model": model, "system_fingerprint": None})
        self._prefix = b"data: " + head[:-1] + b',"choices":'
        self._open = self._prefix + b'[{"text":'
        self._close = b',"index":0,"logprobs":null,"finish_reason":null}]}\n\n'

    def finish(self, reason: str) -> bytes:
        return (self._open + b'"","index":0,"logprobs":null,"finish_reason":' + orjson.dumps(reason)
                + b"}]}\n\n")

    def usage(self, completion: Completion, cached: bool) -> bytes:
        return _usage_event(self._prefix, completion, cached)


def engine_body(rid: str, created: int, model: str, completion: Completion, cached: bool,
                session_id: str) -> bytes:
    """``POST /api/chat`` (the intelligence engine's shape): the answer text and its metadata."""
    return orjson.dumps({
        "response": completion.text,
        "session_id": session_id,
        "model": model,
        "cached": cached,
        "response_id": rid,
        "created": created,
        "finish_reason": completion.finish_reason,
        "usage": usage(completion, cached),
    })


class EngineEvents(_Events):
    """SSE events of a streamed ``POST /api/chat`` answer: ``data: {"response": piece,
    "session_id": id}`` per token, then ``data: [DONE]`` (no role, finish or usage events).
    Drivers read the ``response`` field of each event, so this shape is a contract."""

    def __init__(self, session_id: str) -> None:
        self._open = b'data: {"response":'
        self._close = b',"session_id":' + orjson.dumps(session_id) + b"}\n\n"
