"""The other generating endpoints' requests, mapped onto a ``ChatRequest`` — pure, no I/O.

* ``POST /v1/completions``: a ``prompt`` instead of ``messages`` (same parameter rules as chat);
* ``POST /api/chat``: the intelligence engine's ``{"message", "session_id", "user_level"?}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server import fields
from mock_server.config import Profile
from mock_server.fields import cache_key, normalize_text
from mock_server.openai_errors import invalid
from mock_server.request import ChatRequest

COMPLETIONS_DEFAULT_MAX_TOKENS = 16  # OpenAI's default for the legacy completions endpoint


def _prompt(obj: dict[str, Any]) -> str:
    value = obj.get("prompt")
    if value is None:
        raise invalid("prompt", "you must provide a prompt parameter.", "missing_required_parameter")
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        value = value[0]
    if not isinstance(value, str):
        raise invalid("prompt", "prompt must be a string (or a list of one string; batches are not "
                      f"supported by this mock), got {fields.kind(value)}.", "invalid_type")
    if not value:
        raise invalid("prompt", "prompt must not be empty.", "empty_string")
    return value


def parse_completion_request(body: bytes, profiles: Mapping[str, Profile],
                             normalize: bool = False) -> ChatRequest:
    """``POST /v1/completions``: same rules as chat, a ``prompt`` instead of ``messages``; its key
    carries ``"endpoint": "completions"`` so a prompt never shares an answer with a chat."""
    obj = fields.decode(body)
    profile = fields.model(obj, profiles)
    prompt = _prompt(obj)
    max_tokens = (COMPLETIONS_DEFAULT_MAX_TOKENS if obj.get("max_tokens") is None
                  else fields.max_tokens(obj, profile))
    temperature = fields.number(obj, "temperature", 0.0, 2.0, 1.0)
    fields.check_n(obj)
    stop = fields.stop(obj)
    stream, include_usage = fields.stream(obj)
    key = cache_key({"endpoint": "completions", "model": profile.name,
                     "prompt": normalize_text(prompt) if normalize else prompt,
                     "max_tokens": max_tokens, "temperature": temperature,
                     **fields.key_extras(obj, stop)})
    return ChatRequest(profile.name, [{"role": "user", "content": prompt}], max_tokens,
                       temperature, stop, stream, include_usage, key, prompt=prompt)


def _text_field(obj: dict[str, Any], name: str, required: bool) -> str | None:
    value = obj.get(name)
    if value is None and not required:
        return None
    if value is None:
        raise invalid(name, f"you must provide a {name} parameter.", "missing_required_parameter")
    if not isinstance(value, str):
        raise invalid(name, f"{name} must be a string, got {fields.kind(value)}.", "invalid_type")
    if not value.strip():
        raise invalid(name, f"{name} must not be empty.", "empty_string")
    return value


def parse_engine_request(body: bytes, profiles: Mapping[str, Profile], model: str,
                         normalize: bool = False) -> ChatRequest:
    """``POST /api/chat {"message", "session_id", "user_level"?, "stream"?}``: one user turn for
    ``model`` (the server's engine model); ``user_level`` becomes a system message, so it is in
    the key; ``session_id`` is echoed and is not (one question, one cached answer, whoever asks;
    the session's history is added to the prompt by the route, see sessions.py)."""
    obj = fields.decode(body)
    message = _text_field(obj, "message", True)
    session_id = _text_field(obj, "session_id", True)
    level = _text_field(obj, "user_level", False)
    stream = obj.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise invalid("stream", f"stream must be a boolean, got {fields.kind(stream)}.", "invalid_type")
    profile = profiles[model]
    messages = ([{"role": "system", "content": f"User level: {level}"}] if level else [])
    messages.append({"role": "user", "content": str(message)})
    key = cache_key({"model": model, "messages": fields.key_messages(messages, normalize),
                     "max_tokens": profile.max_output_tokens, "temperature": 1.0})
    return ChatRequest(model, messages, profile.max_output_tokens, 1.0, (), bool(stream), False,
                       key, session_id=session_id)
