"""The body template of an ``engine`` target: JSON with placeholders, compiled once per run.

The template is written as JSON. A string that is exactly one placeholder becomes that value with
its JSON type (``"{max_tokens}"`` → ``64``, ``"{messages}"`` → the message list, ``"{stream}"`` →
``true``); a placeholder inside a longer string is replaced by the value as text (``{messages}``
as JSON text). Known placeholders: ``PLACEHOLDERS``. So ``{"q": "{message}", "n": "{max_tokens}",
"tag": "s={session_id}"}`` renders a request asking "hi" with ``max_tokens=8`` in session ``s9`` as
``{"q": "hi", "n": 8, "tag": "s=s9"}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from suite.errors import SpecError
from suite.records import CorpusRequest

DEFAULT_ENGINE_TEMPLATE = '{"message": "{message}", "session_id": "{session_id}", "stream": "{stream}"}'

PLACEHOLDERS: dict[str, Callable[[CorpusRequest], Any]] = {
    "message": lambda req: last_user_message(req.messages),
    "messages": lambda req: req.messages,
    "session_id": lambda req: req.session,
    "model": lambda req: req.model,
    "max_tokens": lambda req: req.max_tokens,
    "temperature": lambda req: req.temperature,
    "stream": lambda req: req.stream,
    "request_id": lambda req: req.id,
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

Render = Callable[[CorpusRequest], Any]


def last_user_message(messages: list[dict[str, str]]) -> str:
    """The newest user turn (what a one-message engine API is asked), else the last message."""
    for msg in reversed(messages):
        if msg.get("role") == "user":
            return msg.get("content", "")
    return messages[-1].get("content", "") if messages else ""


def compile_template(template: str) -> Render:
    """JSON text with placeholders → ``render(req)`` returning the body object to serialize."""
    try:
        tree = orjson.loads(template)
    except orjson.JSONDecodeError as exc:
        raise SpecError(f"--engine-template: {template!r} is not valid JSON ({exc}); write it as "
                        f"JSON with quoted placeholders, e.g. {DEFAULT_ENGINE_TEMPLATE}") from None
    if not isinstance(tree, dict):
        raise SpecError(f"--engine-template: {template!r} must be a JSON object, e.g. "
                        f"{DEFAULT_ENGINE_TEMPLATE}")
    return _node(tree)


def _node(node: Any) -> Render:
    if isinstance(node, dict):
        items = [(k, _node(v)) for k, v in node.items()]
        return lambda req: {k: f(req) for k, f in items}
    if isinstance(node, list):
        parts = [_node(v) for v in node]
        return lambda req: [f(req) for f in parts]
    if isinstance(node, str):
        return _string(node)
    return lambda req: node


def _string(text: str) -> Render:
    names = PLACEHOLDER.findall(text)
    unknown = [n for n in names if n not in PLACEHOLDERS]
    if unknown:
        raise SpecError(f"--engine-template: unknown placeholder {{{unknown[0]}}}; known: "
                        + ", ".join(f"{{{n}}}" for n in PLACEHOLDERS))
    if not names:
        return lambda req: text
    if text == f"{{{names[0]}}}":
        return PLACEHOLDERS[names[0]]  # the whole string: the value keeps its JSON type
    getters = {n: PLACEHOLDERS[n] for n in names}

    def render(req: CorpusRequest) -> str:
        values = {n: _as_text(get(req)) for n, get in getters.items()}
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    return render


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()
