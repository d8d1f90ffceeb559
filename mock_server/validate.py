"""Parse and validate a generating request body into a ``ChatRequest`` — pure, no I/O.

One parser per generating endpoint, all built from the per-field validators of fields.py (each
raises ``ApiError`` 400/404 naming the parameter and the fix):

* ``POST /v1/chat/completions``: ``parse_chat_request`` (the common request in one flat pass,
  ``simple_request``, else the full validator);
* ``POST /v1/completions``: ``parse_completion_request``, a ``prompt`` instead of ``messages``;
* ``POST /api/chat``: ``parse_engine_request``, the intelligence engine's
  ``{"message", "session_id", "user_level"?}``.

The chat cache key is sha256 over the normalized request, orjson with sorted keys, first 32 hex
chars:

    {"model", "messages", "max_tokens", "temperature"}            always
    + "top_p", "n", "stop", "seed", "presence_penalty",
      "frequency_penalty"                                         only when not the default

* messages keep role, content and any other string fields (name, tool_call_id); content given
  as a list of text parts is joined into one string (same prompt, same key);
* max_tokens is the effective limit (max_completion_tokens wins; absent = the profile's
  max_output_tokens); temperature is a float (absent = 1.0, OpenAI's default);
* stop given as a string is the one-element list;
* stream, stream_options, user, metadata and unknown fields are NOT in the key: a streamed and a
  non-streamed request share one cached answer.

So for a plain request the key equals the corpus ``key`` (``suite.records.request_key``), which
lets the analyzer join the server's ``X-Cache-Key`` with the corpus.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_server import fields
from mock_server.config import Profile
from mock_server.fields import ROLES, cache_key, normalize_text
from mock_server.openai_errors import invalid


@dataclass(slots=True)
class ChatRequest:
    """A validated request; ``key`` is what the exact-match response cache looks up.
    Treat it as read-only (not frozen only because a frozen dataclass is slower to build, and one is
    built per request)."""

    model: str
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    stop: tuple[str, ...]
    stream: bool
    include_usage: bool
    key: str
    prompt: str | None = None  # POST /v1/completions: the raw prompt (counted without chat framing)
    session_id: str | None = None  # POST /api/chat: echoed back


SIMPLE_FIELDS = frozenset(("model", "messages", "max_tokens", "temperature", "stream",
                           "stream_options"))


def _simple_usage(obj: dict[str, Any]) -> bool | None:
    """include_usage on the fast path; None when stream_options needs the full validator."""
    options = obj.get("stream_options")
    if options is None:
        return False
    if type(options) is dict and obj.get("stream") is True and options.keys() <= {"include_usage"}:
        value = options.get("include_usage", False)
        return value if type(value) is bool else None
    return None


def simple_request(obj: dict[str, Any], profiles: Mapping[str, Profile]) -> ChatRequest | None:
    """The common request (only SIMPLE_FIELDS, plain string messages, valid values) validated
    in one flat pass — fewer calls is what makes a zero-latency MISS cheap. None: anything
    unusual, and the full validator (``parse_chat_request``) decides and words any error."""
    if not obj.keys() <= SIMPLE_FIELDS:
        return None
    model = obj.get("model")
    profile = profiles.get(model) if type(model) is str else None
    messages = obj.get("messages")
    max_tokens = obj.get("max_tokens")
    temperature = obj.get("temperature", 1.0)
    stream = obj.get("stream", False)
    usage = _simple_usage(obj)
    if (usage is None or profile is None or type(messages) is not list or not messages
            or not (max_tokens is None or type(max_tokens) is int)
            or type(temperature) not in (int, float) or type(stream) is not bool):
        return None
    if max_tokens is None:
        max_tokens = profile.max_output_tokens
    if not (1 <= max_tokens <= profile.max_output_tokens and 0.0 <= temperature <= 2.0):
        return None
    for msg in messages:  # {"role", "content"} decided without a generator: most messages
        if not (type(msg) is dict and msg.get("role") in ROLES
                and type(msg.get("content")) is str
                and (len(msg) == 2 or all(type(v) is str for v in msg.values()))):
            return None
    key = cache_key({"model": profile.name, "messages": messages, "max_tokens": max_tokens,
                     "temperature": float(temperature)})
    return ChatRequest(profile.name, messages, max_tokens, float(temperature), (), stream, usage,
                       key)


def parse_chat_request(body: bytes, profiles: Mapping[str, Profile],
                       normalize: bool = False) -> ChatRequest:
    """Validate a request body; raise ApiError (400/404) naming the bad parameter. With
    ``normalize`` the key (and so the generated text) ignores case, whitespace and punctuation."""
    obj = fields.decode(body)
    if not normalize:
        simple = simple_request(obj, profiles)
        if simple is not None:
            return simple
    profile = fields.model(obj, profiles)
    messages = fields.messages(obj)
    max_tokens = fields.max_tokens(obj, profile)
    temperature = fields.number(obj, "temperature", 0.0, 2.0, 1.0)
    fields.check_n(obj)
    stop = fields.stop(obj)
    stream, include_usage = fields.stream(obj)
    key = cache_key({"model": profile.name, "messages": fields.key_messages(messages, normalize),
                     "max_tokens": max_tokens, "temperature": temperature,
                     **fields.key_extras(obj, stop)})
    return ChatRequest(profile.name, messages, max_tokens, temperature, stop, stream,
                       include_usage, key)


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
