"""Turn what came back (timestamped SSE events, or a JSON body) into a request's measured fields.

Pure functions: no sockets, no Locust. All times are ``time.perf_counter()`` values in seconds.

Definitions (docs/design.md "Metric definitions"):

- TTFT = send → first event whose content (``choices[0].delta.content`` for a chat; the target
  kind says where, suite.driver.exchange.targets) is non-empty;
- ITL  = every gap between successive content events (a list, not an average);
- E2E  = send → end of the response (last byte read);
- token counts come from the target's ``usage`` when it sends one (``tokens_source="usage"``),
  else the received text is counted with the model's tiktoken encoding (``"tiktoken"``) and the
  prompt count is the corpus's own tiktoken count.

Success is not the status code alone: a 200 stream that ends early (no ``[DONE]`` nor finish
reason), carries an ``error`` event or chunk, has undecodable JSON, or brings no content at all is
a failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field, fields, make_dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from suite.driver.exchange.cachedetect import header_word
from suite.driver.exchange.chunkshape import ChunkShape, learn
from suite.driver.exchange.sse import DONE, SSEEvent, SSEParser
from suite.driver.exchange.targets import Target, TargetOptions, build_target, response_id
from suite.records import MEASURED_FIELDS, RequestRecord
from suite.tokens import count_tokens

# Error kinds a record can carry (``error["kind"]``), besides ``http_<status>``.
ERROR_KINDS: dict[str, str] = {
    "connect": "the connection could not be made (refused, unreachable, DNS)",
    "timeout": "the answer did not come in time: the message says which limit fired, ``total`` "
               "(--timeout, send to last byte) or ``ttft`` (--ttft-timeout, send to first content)",
    "connection_closed": "the server closed the connection before a complete response",
    "stream_incomplete": "a stream ended early: no [DONE] nor finish reason, or the connection "
                         "was lost mid-stream",
    "stream_error": "the stream carried an error event or an error chunk",
    "invalid_json": "a body or chunk was not the JSON the OpenAI API specifies",
    "empty_content": "a complete response with no content at all",
    "cancelled": "the request was still in flight when the run was stopped",
    "client": "an unexpected error in the driver itself",
    "content": "a complete response failed a content check (required field, forbidden term, "
               "minimum length)",
}

CHAT = build_target(TargetOptions())
JsonCache = Callable[[Any], "str | None"]  # a response's JSON → hit / miss / None
_DONE = DONE.encode()
_LEARN_TRIES = 2  # the first content chunk may differ from the rest (e.g. it carries the role)


def _derive_measured() -> type:
    """``Measured``: the fields of ``RequestRecord`` named in ``records.MEASURED_FIELDS`` (their
    declared types and defaults, record order), plus what content checks and the token
    cross-check read but the record does not keep (``text``, ``objects``).

    Derived rather than declared so the two cannot drift: a measured field is declared once, in
    suite.records. A plain dataclass, so building one costs what a hand-written one would."""
    declared = {f.name: f for f in fields(RequestRecord)}
    spec: list[tuple[str, Any, Any]] = [
        (name, declared[name].type, field(default=declared[name].default)) for name in MEASURED_FIELDS]
    spec += [("text", "str | None", field(default=None, repr=False)),
             ("objects", "list[Any] | None", field(default=None, repr=False))]
    cls = make_dataclass("Measured", spec)
    cls.__module__ = __name__  # make_dataclass's own ``module=`` needs Python 3.12
    cls.__doc__ = ("The measured fields of a RequestRecord (the rest — who, where, when — the "
                   "caller knows), plus the text and decoded objects of the answer.")
    return cls


Measured = _derive_measured()


def _show(raw: bytes) -> str:
    """The start of a bad chunk, quoted, for an error message."""
    return repr(raw[:120].decode("utf-8", "replace"))


def error(kind: str, message: str) -> dict[str, str]:
    return {"kind": kind, "message": message}


def cache_status(header: str | None) -> str | None:
    """A cache header's value → ``"hit"`` / ``"miss"``; absent or unknown → None (not reported)."""
    return header_word(header)


def failure(kind: str, message: str, *, status: int | None = None, e2e: float | None = None,
            cache: str | None = None) -> Measured:
    """A request that produced no usable response (connection error, cancelled, ...)."""
    return Measured(ok=False, status=status, error=error(kind, message), e2e=e2e, cache=cache)


def error_message(body: bytes) -> str:
    """The message of an OpenAI-style error body, else the start of the body as text."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        obj = None
    if isinstance(obj, dict):
        err = obj.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"]
        if isinstance(err, str):
            return err
        if isinstance(obj.get("message"), str):
            return obj["message"]
    text = body[:300].decode("utf-8", "replace").strip()
    return text or "(empty body)"


RETRY_AFTER_STATUSES = frozenset((429, 503))
_DELAY = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A ``Retry-After`` header (RFC 9110 §10.2.3) → seconds to wait from ``now`` (epoch s), or
    None when absent or unreadable: ``"1"`` → 1.0, an HTTP date → its distance from ``now``
    (0.0 when already past). The RFC's delay is whole seconds; a decimal (``"1.5"``, sent by some
    servers) is accepted, anything else (``-1``, ``nan``, ``1_0``) is unreadable, not zero."""
    if value is None:
        return None
    text = value.strip()
    if _DELAY.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def measure_http_error(status: int, body: bytes, t_send: float, t_end: float,
                       cache: str | None = None) -> Measured:
    """A 4xx/5xx answer: kind ``http_<status>`` with the target's own message."""
    return failure(f"http_{status}", error_message(body), status=status, e2e=t_end - t_send,
                   cache=cache)


def _usage_counts(m: Measured, usage: Mapping[str, Any]) -> bool:
    """Copy counts from an OpenAI ``usage`` object; False if it has no completion count."""
    completion = usage.get("completion_tokens")
    if not isinstance(completion, int):
        return False
    prompt = usage.get("prompt_tokens")
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    m.completion_tokens = completion
    m.prompt_tokens = prompt if isinstance(prompt, int) else None
    m.cached_tokens = cached if isinstance(cached, int) else None
    m.tokens_source = "usage"
    return True


def _count_fallback(m: Measured, text: str, model: str, prompt_tokens: int | None) -> None:
    """No usage from the target: count what was received, with the model's real encoding."""
    m.completion_tokens = count_tokens(text, model)
    m.prompt_tokens = prompt_tokens
    m.tokens_source = "tiktoken"


class StreamAccumulator:
    """Fold a stream's events into a Measured as they arrive (no list of events kept).

    ``add`` returns False once nothing more should be read (``[DONE]`` or an error event).
    ``target`` says where the text is; ``cache_json`` reads a cache verdict from the first chunk
    (when the headers gave none); ``keep_objects`` keeps decoded chunks for required-field checks.
    """

    def __init__(self, t_send: float, model: str, prompt_tokens: int | None = None, *,
                 target: Target = CHAT, cache_json: JsonCache | None = None,
                 keep_objects: bool = False) -> None:
        self.t_send = t_send
        self.model = model
        self.prompt_tokens = prompt_tokens
        self.target = target
        self.piece = target.piece
        self.cache_json = cache_json
        self.cache: str | None = None
        self.first: float | None = None
        self.last: float | None = None
        self.gaps: list[float] = []
        self.parts: list[str] = []
        self.usage: dict[str, Any] | None = None
        self.response_id: str | None = None
        self.started = False
        self.done = False  # [DONE] or a finish reason arrived
        self.eof = False  # the response ended cleanly (HTTP framing complete)
        self.problem: dict[str, str] | None = None
        self.objects: list[Any] | None = [] if keep_objects else None
        self.shape: ChunkShape | None = None
        self.learning = _LEARN_TRIES  # content chunks that may still teach a shape

    def add(self, ev: SSEEvent) -> bool:
        """Fold one event in; False once nothing more should be read."""
        return self.add_all((ev,))

    def add_read(self, parser: SSEParser, data: bytes, now: float) -> bool:
        """Fold in one read of the stream, stamped ``now``: the parser's raw fast path when the
        read is whole one-line events (the usual case), else its general path."""
        raw = parser.feed_data(data)
        return self.add_raw(raw, now) if raw is not None else self.add_all(parser.feed(data, now))

    def add_all(self, events: Iterable[SSEEvent]) -> bool:
        """Fold in decoded events (the general SSE path); False once nothing more should be
        read."""
        for data, t, event, _ in events:
            if event == "error":
                self.problem = error("stream_error", f"error event: {error_message(data.encode())}")
                return False
            if not self.add_raw((data.encode(),), t):
                return False
        return True

    def add_raw(self, payloads: Iterable[bytes], t: float) -> bool:
        """Fold in the undecoded ``data`` of the events of one read, all stamped ``t`` (hot path:
        once per token, so the loop keeps its lookups in locals and its checks ordered by
        frequency; content chunks of a learned shape are read without a parse,
        suite.driver.exchange.chunkshape); False once nothing more should be read."""
        loads, piece, parts, objects, shape = orjson.loads, self.piece, self.parts, self.objects, self.shape
        for raw in payloads:
            content = shape.text(raw) if shape is not None else None
            if content is None:
                if raw == _DONE:
                    self.done = True
                    return False
                chunk = self._chunk(raw, loads)
                if chunk is None:
                    return False
                if "usage" in chunk and type(chunk["usage"]) is dict:
                    self.usage = chunk["usage"]
                content, finished = piece(chunk)
                if finished:
                    self.done = True
                if objects is not None:
                    objects.append(chunk)
                elif content and self.learning:
                    self.learning -= 1
                    shape = self.shape = learn(raw, content, piece)
            if content:
                if self.first is None:
                    self.first = t
                else:
                    self.gaps.append(t - self.last)  # type: ignore[operator]
                self.last = t
                parts.append(content)
        return True

    def _chunk(self, raw: bytes, loads: Callable[[bytes], Any]) -> dict[str, Any] | None:
        """One parsed chunk, or None with the problem recorded (not JSON, not an object, an
        error chunk)."""
        try:
            chunk = loads(raw)
        except orjson.JSONDecodeError:
            self.problem = error("invalid_json", f"chunk is not JSON: {_show(raw)}")
            return None
        if type(chunk) is not dict:
            self.problem = error("invalid_json", f"chunk is not a JSON object: {_show(raw)}")
            return None
        if not self.started:
            self._first_chunk(chunk)
        if "error" in chunk and chunk["error"] is not None:
            self.problem = error("stream_error", f"error chunk: {error_message(raw)}")
            return None
        return chunk

    def _first_chunk(self, chunk: dict[str, Any]) -> None:
        self.started = True
        self.response_id = response_id(self.target, chunk)
        if self.cache_json is not None:
            self.cache = self.cache_json(chunk)

    def cut(self, why: str) -> None:
        """The connection broke mid-stream: keep what was measured, record why it is incomplete."""
        if self.problem is None:
            self.problem = error("stream_incomplete", f"connection lost after {len(self.parts)} "
                                                      f"content chunk(s): {why}")

    def stalled(self, err: dict[str, str]) -> None:
        """A timeout fired mid-stream: keep what was measured, record the timeout (not a cut)."""
        if self.problem is None:
            self.problem = {"kind": err["kind"],
                            "message": f"{err['message']} (after {len(self.parts)} content chunk(s))"}

    def ended(self) -> None:
        """The response ended cleanly (its HTTP framing completed) without a [DONE]."""
        self.eof = True

    def finish(self, t_end: float, status: int = 200, cache: str | None = None) -> Measured:
        cache = cache or self.cache
        if cache is None and self.cache_json is not None and self.usage is not None:
            # a stream's usage comes in its last chunk: a usage.* rule (cached_tokens) reads it there
            cache = self.cache_json({"usage": self.usage})
        m = Measured(status=status, cache=cache, e2e=t_end - self.t_send,
                     response_id=self.response_id, chunks=len(self.parts), objects=self.objects)
        if self.first is not None:
            m.ttft = self.first - self.t_send
            m.itl = self.gaps
        m.text = text = "".join(self.parts)
        if self.usage is None or not _usage_counts(m, self.usage):
            _count_fallback(m, text, self.model, self.prompt_tokens)
        m.error = self.problem or self._completeness()
        m.ok = m.error is None
        return m

    def _completeness(self) -> dict[str, str] | None:
        if not (self.done or (self.eof and self.target.stream_end == "eof")):
            return error("stream_incomplete", f"stream ended without [DONE] after "
                                              f"{len(self.parts)} content chunk(s)")
        if self.first is None:
            return error("empty_content", "stream completed with no content")
        return None


def measure_stream(events: Iterable[SSEEvent], t_send: float, t_end: float, model: str,
                   prompt_tokens: int | None = None, status: int = 200,
                   cache: str | None = None, *, target: Target = CHAT) -> Measured:
    """All events of one streamed response → its measured fields."""
    acc = StreamAccumulator(t_send, model, prompt_tokens, target=target)
    for ev in events:
        if not acc.add(ev):
            break
    return acc.finish(t_end, status, cache)


def measure_json(body: bytes, t_send: float, t_end: float, model: str,
                 prompt_tokens: int | None = None, status: int = 200,
                 cache: str | None = None, *, target: Target = CHAT,
                 cache_json: JsonCache | None = None) -> Measured:
    """A non-streaming body → its measured fields (no TTFT/ITL exist)."""
    m = Measured(status=status, cache=cache, e2e=t_end - t_send)
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        m.error = error("invalid_json", f"body is not JSON: {body[:120]!r}")
        return m
    if type(obj) is not dict or obj.get("error") is not None:
        m.error = error("invalid_json", f"not a valid {target.kind} response: {error_message(body)}")
        return m
    m.objects = [obj]
    m.response_id = response_id(target, obj)
    if cache is None and cache_json is not None:
        m.cache = cache_json(obj)
    m.text = text = target.text(obj)
    usage = obj.get("usage")
    if type(usage) is not dict or not _usage_counts(m, usage):
        _count_fallback(m, text or "", model, prompt_tokens)
    m.error = None if text else error("empty_content", "response has no content")
    m.ok = m.error is None
    return m
