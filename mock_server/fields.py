"""One validator per request field, shared by the request parsers (validate.py) and the
embeddings handler (handlers/embeddings.py) — pure, no I/O. Each raises ``ApiError`` (400/404)
naming the parameter and the fix, in OpenAI's error shape. The cache-key helpers build the key
whose rule validate.py's docstring states. Kept apart from validate.py so that module reads as the
three requests themselves: their type, the one-pass common case and the full validators.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Mapping
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


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def kind(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "integer", float: "number"}.get(type(v), type(v).__name__)


def decode(body: bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the request body is not valid JSON ({exc}); send a JSON object.",
                       code="invalid_json") from None
    if not isinstance(obj, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {kind(obj)}.",
                       code="invalid_json")
    return obj


def model(obj: dict[str, Any], profiles: Mapping[str, Profile]) -> Profile:
    model = obj.get("model")
    if model is None:
        raise invalid("model", "you must provide a model parameter.", "missing_required_parameter")
    if not isinstance(model, str):
        raise invalid("model", f"model must be a string, got {kind(model)}.", "invalid_type")
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
    raise invalid(where, f"{where} must be a string or a list of text parts, got {kind(value)}.",
                  "invalid_type")


def _message(msg: Any, i: int) -> dict[str, str]:
    if (type(msg) is dict and msg.get("role") in ROLES and "content" in msg
            and all(type(v) is str for v in msg.values())):
        return msg  # the common case: already the normalized form (string fields only)
    where = f"messages[{i}]"
    if not isinstance(msg, dict):
        raise invalid(where, f"{where} must be an object, got {kind(msg)}.", "invalid_type")
    if msg.get("role") not in ROLES:
        raise invalid(f"{where}.role", f"{where}.role must be one of {', '.join(ROLES)}, got "
                      f"{msg.get('role')!r}.")
    out = {"role": msg["role"], "content": _content(msg.get("content"), f"{where}.content")}
    for name, value in msg.items():
        if name in out:
            continue
        if not isinstance(value, str):
            raise invalid(f"{where}.{name}", f"{where}.{name} is not supported by this mock "
                          f"(only string fields such as name), got {kind(value)}.", "invalid_type")
        out[name] = value
    return out


def messages(obj: dict[str, Any]) -> list[dict[str, str]]:
    messages = obj.get("messages")
    if messages is None:
        raise invalid("messages", "you must provide a messages parameter.",
                      "missing_required_parameter")
    if not isinstance(messages, list):
        raise invalid("messages", f"messages must be an array, got {kind(messages)}.",
                      "invalid_type")
    if not messages:
        raise invalid("messages", "messages must contain at least one message.", "empty_array")
    return [_message(m, i) for i, m in enumerate(messages)]


def max_tokens(obj: dict[str, Any], profile: Profile) -> int:
    name = "max_completion_tokens" if obj.get("max_completion_tokens") is not None else "max_tokens"
    value = obj.get(name)
    if value is None:
        return profile.max_output_tokens
    if not _is_int(value):
        raise invalid(name, f"{name} must be an integer, got {kind(value)}.", "invalid_type")
    if not 1 <= value <= profile.max_output_tokens:
        raise invalid(name, f"{name} is out of range: {value}; {profile.name} supports 1 to "
                      f"{profile.max_output_tokens} completion tokens.")
    return int(value)


def number(obj: dict[str, Any], name: str, low: float, high: float, default: float) -> float:
    value = obj.get(name)
    if value is None:
        return default
    if not _is_number(value):
        raise invalid(name, f"{name} must be a number, got {kind(value)}.", "invalid_type")
    if not low <= value <= high:
        raise invalid(name, f"{name} is out of range: {value}; it must be between {low:g} and "
                      f"{high:g}.")
    return float(value)


def stop(obj: dict[str, Any]) -> tuple[str, ...]:
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


def check_n(obj: dict[str, Any]) -> None:
    """n may only be 1 (the default), so it never enters the key."""
    value = obj.get("n")
    if value is None or value == 1 and _is_int(value):
        return
    if not _is_int(value):
        raise invalid("n", f"n must be an integer, got {kind(value)}.", "invalid_type")
    raise invalid("n", f"n={value} is not supported: this mock returns exactly one choice "
                  "(n=1).", "unsupported_value")


def seed(obj: dict[str, Any]) -> int | None:
    value = obj.get("seed")
    if value is not None and not _is_int(value):
        raise invalid("seed", f"seed must be an integer, got {kind(value)}.", "invalid_type")
    return value


def stream(obj: dict[str, Any]) -> tuple[bool, bool]:
    stream = obj.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise invalid("stream", f"stream must be a boolean, got {kind(stream)}.", "invalid_type")
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


def key_extras(obj: dict[str, Any], stop: tuple[str, ...]) -> dict[str, Any]:
    """The optional parameters that differ from their defaults (only those enter the key)."""
    extras: dict[str, Any] = {}
    for name, (low, high, default) in SAMPLING.items():
        if obj.get(name) is not None:
            value = number(obj, name, low, high, default)
            if value != default:
                extras[name] = value
    if stop:
        extras["stop"] = list(stop)
    chosen = seed(obj)
    if chosen is not None:
        extras["seed"] = chosen
    return extras


_PUNCTUATION = str.maketrans("", "", string.punctuation)
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """The lenient cache's view of a text: lower case, no ASCII punctuation, single spaces."""
    return _SPACES.sub(" ", text.lower().translate(_PUNCTUATION)).strip()


def key_messages(messages: list[dict[str, str]], normalize: bool) -> list[dict[str, str]]:
    if not normalize:
        return messages
    return [{**m, "content": normalize_text(m["content"])} for m in messages]
