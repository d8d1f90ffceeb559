"""One observed exchange of the probe, as data: what ``init`` concluded must be explainable from
these alone (the table's evidence column quotes them), and the reasoning over them (conclude.py,
cachediff.py) is tested without a socket.

Also the few readings every conclusion shares: the JSON body, the SSE events of a stream, flattened
field paths (``choices.0.message.content``) and a short excerpt of a body for a message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

_NO_JSON: Any = object()
MAX_DEPTH = 6  # deep enough for usage.prompt_tokens_details.cached_tokens, bounded for odd bodies


@dataclass(frozen=True)
class Answer:
    """What one request of the probe got back (``status`` None: no answer; ``error`` says why)."""

    what: str  # what the request was for, in the evidence's words ("chat, no key")
    method: str
    path: str
    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    elapsed_s: float = 0.0
    error: str | None = None
    auth: str | None = None  # the header that carried the key (None: no key sent)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        """401/403 (or a 4xx whose body speaks of a key): the target wants (another) key."""
        from suite.driver.control.health import key_problem

        return self.status is not None and key_problem(self.status, self.body)

    @property
    def missing_route(self) -> bool:
        """404/405 — unless the body speaks of a model (OpenAI's 404 for an unknown model)."""
        return self.status in (404, 405) and not self.model_problem

    @property
    def model_problem(self) -> bool:
        return self.status in (400, 404, 422) and b"model" in self.body.lower()

    @property
    def sse(self) -> bool:
        ctype = self.headers.get("content-type", "").lower()
        return "text/event-stream" in ctype or self.body.lstrip().startswith(b"data:")

    def json(self) -> Any:
        """The decoded body, or None when it is not JSON (an SSE stream, HTML, empty)."""
        value = _decode(self.body)
        return None if value is _NO_JSON else value

    def events(self) -> tuple[list[Any], bool]:
        """(decoded ``data:`` events, whether ``data: [DONE]`` arrived) of an SSE body."""
        return sse_events(self.body)

    def status_text(self) -> str:
        return f"HTTP {self.status}" if self.status is not None else f"no answer ({self.error})"

    def line(self) -> str:
        """``POST /v1/chat/completions → HTTP 200 in 63 ms``: the evidence's usual phrase."""
        took = f" in {ms(self.elapsed_s)}" if self.status is not None else ""
        return f"{self.method} {self.path} → {self.status_text()}{took}"


def _decode(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _NO_JSON


def sse_events(body: bytes) -> tuple[list[Any], bool]:
    """The JSON payloads of ``data:`` lines and whether the stream said ``[DONE]``; a payload that is
    not JSON is kept as its text (a target may stream plain text)."""
    events: list[Any] = []
    done = False
    for raw in body.splitlines():
        line = raw.strip()
        if not line.startswith(b"data:"):
            continue
        payload = line[5:].strip()
        if payload == b"[DONE]":
            done = True
            continue
        value = _decode(payload)
        events.append(payload.decode("utf-8", "replace") if value is _NO_JSON else value)
    return events, done


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def flatten(obj: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Every scalar leaf of a decoded body as (dotted path, value); lists by position."""
    if depth > MAX_DEPTH:
        return
    if isinstance(obj, dict):
        items: Iterator[tuple[Any, Any]] = iter(obj.items())
    elif isinstance(obj, list):
        items = iter(enumerate(obj[:8]))
    else:
        if prefix:
            yield prefix, obj
        return
    for key, value in items:
        yield from flatten(value, f"{prefix}.{key}" if prefix else str(key), depth + 1)


def excerpt(body: bytes, limit: int = 160) -> str:
    """The start of a body on one line, for a message that quotes the target."""
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lower(items: Any) -> dict[str, str]:
    """Header items → {lower-case name: value} (a repeated header keeps its last value)."""
    return {str(k).lower(): str(v) for k, v in items}
