"""Parse and validate a chat-completions request body into a ``ChatRequest`` — pure, no I/O.

The cache key is sha256 over the normalized request, orjson with sorted keys, first 32 hex chars:

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

import hashlib
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from mock_server.config import Profile
from mock_server.openai_errors import ApiError, invalid

ROLES = ("system", "developer", "user", "assistant", "tool")
# Optional sampling parameters: name -> (low, high, default). Outside the key when default.
SAMPLING: dict[str, tuple[float, float, float]] = {
    "top_p": (0.0, 1.0, 1.0),
    "presence_penalty": (-2.0, 2.0, 0.0),
    "frequency_penalty": (-2.0, 2.0, 0.0),
}
MAX_STOP = 4


@dataclass(slots=True)
class ChatRequest:
    """A validated request; ``key`` is what the exact-match response cache looks up.
    Treat it as read-only (not frozen only because frozen init costs ~2 us per request)."""

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


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _kind(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "integer", float: "number"}.get(type(v), type(v).__name__)


def _decode(body: bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the request body is not valid JSON ({exc}); send a JSON object.",
                       code="invalid_json") from None
    if not isinstance(obj, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {_kind(obj)}.",
                       code="invalid_json")
    return obj


def _model(obj: dict[str, Any], profiles: Mapping[str, Profile]) -> Profile:
    model = obj.get("model")
    if model is None:
        raise invalid("model", "you must provide a model parameter.", "missing_required_parameter")
    if not isinstance(model, str):
        raise invalid("model", f"model must be a string, got {_kind(model)}.", "invalid_type")
    if model not in profiles:
        raise ApiError(404, f"The model '{model}' does not exist on this mock server; known: "
                       f"{', '.join(profiles)}.", param="model", code="model_not_found")
    return profiles[model]


def _content(value: Any, where: str) -> str:
    """A message's text: a string, or a list of ``{"type": "text", "text": ...}`` parts joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        for p in value
    ):
        return "".join(p["text"] for p in value)
    raise invalid(where, f"{where} must be a string or a list of text parts, got {_kind(value)}.",
                  "invalid_type")


def _message(msg: Any, i: int) -> dict[str, str]:
    if (type(msg) is dict and msg.get("role") in ROLES and "content" in msg
            and all(type(v) is str for v in msg.values())):
        return msg  # the common case: already the normalized form (string fields only)
    where = f"messages[{i}]"
    if not isinstance(msg, dict):
        raise invalid(where, f"{where} must be an object, got {_kind(msg)}.", "invalid_type")
    if msg.get("role") not in ROLES:
        raise invalid(f"{where}.role", f"{where}.role must be one of {', '.join(ROLES)}, got "
                      f"{msg.get('role')!r}.")
    out = {"role": msg["role"], "content": _content(msg.get("content"), f"{where}.content")}
    for name, value in msg.items():
        if name in out:
            continue
        if not isinstance(value, str):
            raise invalid(f"{where}.{name}", f"{where}.{name} is not supported by this mock "
                          f"(only string fields such as name), got {_kind(value)}.", "invalid_type")
        out[name] = value
    return out


def _messages(obj: dict[str, Any]) -> list[dict[str, str]]:
    messages = obj.get("messages")
    if messages is None:
        raise invalid("messages", "you must provide a messages parameter.",
                      "missing_required_parameter")
    if not isinstance(messages, list):
        raise invalid("messages", f"messages must be an array, got {_kind(messages)}.",
                      "invalid_type")
    if not messages:
        raise invalid("messages", "messages must contain at least one message.", "empty_array")
    return [_message(m, i) for i, m in enumerate(messages)]


def _max_tokens(obj: dict[str, Any], profile: Profile) -> int:
    name = "max_completion_tokens" if obj.get("max_completion_tokens") is not None else "max_tokens"
    value = obj.get(name)
    if value is None:
        return profile.max_output_tokens
    if not _is_int(value):
        raise invalid(name, f"{name} must be an integer, got {_kind(value)}.", "invalid_type")
    if not 1 <= value <= profile.max_output_tokens:
        raise invalid(name, f"{name} is out of range: {value}; {profile.name} supports 1 to "
                      f"{profile.max_output_tokens} completion tokens.")
    return int(value)


def _number(obj: dict[str, Any], name: str, low: float, high: float, default: float) -> float:
    value = obj.get(name)
    if value is None:
        return default
    if not _is_number(value):
        raise invalid(name, f"{name} must be a number, got {_kind(value)}.", "invalid_type")
    if not low <= value <= high:
        raise invalid(name, f"{name} is out of range: {value}; it must be between {low:g} and "
                      f"{high:g}.")
    return float(value)


def _stop(obj: dict[str, Any]) -> tuple[str, ...]:
    value = obj.get("stop")
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not (isinstance(stops, list) and all(isinstance(s, str) and s for s in stops)):
        raise invalid("stop", "stop must be a non-empty string or an array of them.",
                      "invalid_type")
    if len(stops) > MAX_STOP:
        raise invalid("stop", f"stop has {len(stops)} sequences; at most {MAX_STOP} are allowed.")
    return tuple(stops)


def _check_n(obj: dict[str, Any]) -> None:
    """n may only be 1 (the default), so it never enters the key."""
    value = obj.get("n")
    if value is None or value == 1 and _is_int(value):
        return
    if not _is_int(value):
        raise invalid("n", f"n must be an integer, got {_kind(value)}.", "invalid_type")
    raise invalid("n", f"n={value} is not supported: this mock returns exactly one choice "
                  "(n=1).", "unsupported_value")


def _seed(obj: dict[str, Any]) -> int | None:
    value = obj.get("seed")
    if value is not None and not _is_int(value):
        raise invalid("seed", f"seed must be an integer, got {_kind(value)}.", "invalid_type")
    return value


def _stream(obj: dict[str, Any]) -> tuple[bool, bool]:
    stream = obj.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise invalid("stream", f"stream must be a boolean, got {_kind(stream)}.", "invalid_type")
    options = obj.get("stream_options")
    if options is None:
        return bool(stream), False
    if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool):
        raise invalid("stream_options", "stream_options must be an object like "
                      '{"include_usage": true}.', "invalid_type")
    if not stream:
        raise invalid("stream_options", "stream_options is only allowed when stream is true.")
    return True, bool(options.get("include_usage", False))


def cache_key(fields: Mapping[str, Any]) -> str:
    """sha256 of the normalized fields (sorted keys), first 32 hex chars — see module docstring."""
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def _key_extras(obj: dict[str, Any], stop: tuple[str, ...]) -> dict[str, Any]:
    """The optional parameters that differ from their defaults (only those enter the key)."""
    extras: dict[str, Any] = {}
    for name, (low, high, default) in SAMPLING.items():
        if obj.get(name) is not None:
            value = _number(obj, name, low, high, default)
            if value != default:
                extras[name] = value
    if stop:
        extras["stop"] = list(stop)
    seed = _seed(obj)
    if seed is not None:
        extras["seed"] = seed
    return extras


_PUNCTUATION = str.maketrans("", "", string.punctuation)
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """The lenient cache's view of a text: lower case, no ASCII punctuation, single spaces."""
    return _SPACES.sub(" ", text.lower().translate(_PUNCTUATION)).strip()


def _key_messages(messages: list[dict[str, str]], normalize: bool) -> list[dict[str, str]]:
    if not normalize:
        return messages
    return [{**m, "content": normalize_text(m["content"])} for m in messages]


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
    unusual, and the full path below decides (and words any error)."""
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
    obj = _decode(body)
    if not normalize:
        simple = simple_request(obj, profiles)
        if simple is not None:
            return simple
    profile = _model(obj, profiles)
    messages = _messages(obj)
    max_tokens = _max_tokens(obj, profile)
    temperature = _number(obj, "temperature", 0.0, 2.0, 1.0)
    _check_n(obj)
    stop = _stop(obj)
    stream, include_usage = _stream(obj)
    key = cache_key({"model": profile.name, "messages": _key_messages(messages, normalize),
                     "max_tokens": max_tokens, "temperature": temperature,
                     **_key_extras(obj, stop)})
    return ChatRequest(profile.name, messages, max_tokens, temperature, stop, stream,
                       include_usage, key)
