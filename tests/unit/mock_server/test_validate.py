"""Request validation (status, param, code, message) and cache-key normalization — no sockets."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from mock_server.config import DEFAULT_PROFILES_PATH, load_profiles
from mock_server.fields import normalize_text
from mock_server.openai_errors import ApiError
from mock_server.validate import (
    ChatRequest,
    parse_chat_request,
    parse_completion_request,
    parse_engine_request,
)
from suite.records import request_key

PROFILES = load_profiles(DEFAULT_PROFILES_PATH)


MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]


BASE: dict[str, Any] = {"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 32,
                        "temperature": 0.7}


def parse(**changes: Any) -> ChatRequest:
    body = {**BASE, **changes}
    return parse_chat_request(orjson.dumps({k: v for k, v in body.items() if v is not ...}),
                              PROFILES)


def test_plain_request_key_equals_the_corpus_key() -> None:
    assert parse().key == request_key("gpt-4o", MESSAGES, 32, 0.7)


@pytest.mark.parametrize(
    "changes",
    [
        {"stream": True},
        {"stream": True, "stream_options": {"include_usage": True}},
        {"stream": False},
        {"top_p": 1},
        {"n": 1},
        {"presence_penalty": 0},
        {"stop": None},
        {"user": "someone", "metadata": {"a": "b"}},
        {"messages": [{"content": "Be brief.", "role": "system"},
                      {"content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}],
                       "role": "user"}]},
        {"max_tokens": ..., "max_completion_tokens": 32},
    ],
)
def test_key_ignores_what_does_not_change_the_answer(changes: dict[str, Any]) -> None:
    assert parse(**changes).key == parse().key


@pytest.mark.parametrize(
    "changes",
    [
        {"model": "gpt-4o-mini"},
        {"max_tokens": 33},
        {"temperature": 0.0},
        {"top_p": 0.5},
        {"seed": 1},
        {"stop": "."},
        {"frequency_penalty": 0.5},
        {"messages": [{"role": "user", "content": "Hi there"}]},
        {"messages": [*MESSAGES[:1], {"role": "user", "content": "Hi there", "name": "bob"}]},
    ],
)
def test_key_changes_with_what_changes_the_answer(changes: dict[str, Any]) -> None:
    assert parse(**changes).key != parse().key


def test_equivalent_spellings_share_a_key() -> None:
    assert parse(temperature=1).key == parse(temperature=1.0).key
    assert parse(stop=".").key == parse(stop=["."]).key


def test_absent_max_tokens_is_the_profile_limit() -> None:
    assert parse(max_tokens=...).max_tokens == PROFILES["gpt-4o"].max_output_tokens
    assert parse(max_tokens=5, max_completion_tokens=7).max_tokens == 7


def test_stream_flags() -> None:
    req = parse(stream=True, stream_options={"include_usage": True})
    assert (req.stream, req.include_usage) == (True, True)
    assert (parse().stream, parse().include_usage) == (False, False)


KNOWN = ("gpt-4o, gpt-4o-mini, gpt-5-mini, llama-3.1-8b, claude-sonnet, llama-3-70b-vllm, "
         "llama-3.1-8b-apc, gpt-4.1-mini, instant, fixed-200ms, slow")


@pytest.mark.parametrize(
    ("body", "status", "param", "code", "message"),
    [
        (b"{not json", 400, None, "invalid_json", None),
        (b"[1, 2]", 400, None, "invalid_json", "the request body must be a JSON object, got array."),
        ({"messages": MESSAGES}, 400, "model", "missing_required_parameter",
         "you must provide a model parameter."),
        ({"model": 4, "messages": MESSAGES}, 400, "model", "invalid_type",
         "model must be a string, got integer."),
        ({"model": "gpt-9", "messages": MESSAGES}, 404, "model", "model_not_found",
         f"The model 'gpt-9' does not exist on this mock server; known: {KNOWN}."),
        ({"model": "gpt-4o"}, 400, "messages", "missing_required_parameter",
         "you must provide a messages parameter."),
        ({"model": "gpt-4o", "messages": []}, 400, "messages", "empty_array",
         "messages must contain at least one message."),
        ({"model": "gpt-4o", "messages": "hi"}, 400, "messages", "invalid_type",
         "messages must be an array, got string."),
        ({"model": "gpt-4o", "messages": ["hi"]}, 400, "messages[0]", "invalid_type",
         "messages[0] must be an object, got string."),
        ({"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]}, 400,
         "messages[0].role", "invalid_value",
         "messages[0].role must be one of system, developer, user, assistant, tool, got 'robot'."),
        ({"model": "gpt-4o", "messages": [{"role": "user"}]}, 400, "messages[0].content",
         "invalid_type", "messages[0].content must be a string or a list of text parts, got null."),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": "x", "tool_calls": []}]},
         400, "messages[0].tool_calls", "invalid_type",
         "messages[0].tool_calls is not supported by this mock (only string fields such as name), "
         "got array."),
        ({**BASE, "max_tokens": 0}, 400, "max_tokens", "invalid_value",
         "max_tokens is out of range: 0; gpt-4o supports 1 to 16384 completion tokens."),
        ({**BASE, "max_tokens": 1_000_000}, 400, "max_tokens", "invalid_value",
         "max_tokens is out of range: 1000000; gpt-4o supports 1 to 16384 completion tokens."),
        ({**BASE, "max_tokens": "10"}, 400, "max_tokens", "invalid_type",
         "max_tokens must be an integer, got string."),
        ({**BASE, "max_completion_tokens": 2.5}, 400, "max_completion_tokens", "invalid_type",
         "max_completion_tokens must be an integer, got number."),
        ({**BASE, "temperature": 3}, 400, "temperature", "invalid_value",
         "temperature is out of range: 3; it must be between 0 and 2."),
        ({**BASE, "temperature": "hot"}, 400, "temperature", "invalid_type",
         "temperature must be a number, got string."),
        ({**BASE, "top_p": -0.1}, 400, "top_p", "invalid_value",
         "top_p is out of range: -0.1; it must be between 0 and 1."),
        ({**BASE, "n": 2}, 400, "n", "unsupported_value",
         "n=2 is not supported: this mock returns exactly one choice (n=1)."),
        ({**BASE, "n": True}, 400, "n", "invalid_type", "n must be an integer, got boolean."),
        ({**BASE, "stop": ["a", "b", "c", "d", "e"]}, 400, "stop", "invalid_value",
         "stop has 5 sequences; at most 4 are allowed."),
        ({**BASE, "stop": [""]}, 400, "stop", "invalid_type",
         "stop must be a non-empty string or an array of them."),
        ({**BASE, "seed": "x"}, 400, "seed", "invalid_type", "seed must be an integer, got string."),
        ({**BASE, "stream": "yes"}, 400, "stream", "invalid_type",
         "stream must be a boolean, got string."),
        ({**BASE, "stream_options": {"include_usage": True}}, 400, "stream_options",
         "invalid_value", "stream_options is only allowed when stream is true."),
        ({**BASE, "stream": True, "stream_options": [1]}, 400, "stream_options", "invalid_type",
         'stream_options must be an object like {"include_usage": true}.'),
    ],
)
def test_bad_requests_are_openai_errors(body: Any, status: int, param: str | None,
                                        code: str, message: str | None) -> None:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    with pytest.raises(ApiError) as err:
        parse_chat_request(raw, PROFILES)
    e = err.value.to_dict()["error"]
    assert (err.value.status, e["type"], e["param"], e["code"]) == (
        status, "invalid_request_error", param, code)
    if message is not None:
        assert e["message"] == message
    else:
        assert e["message"].startswith("the request body is not valid JSON (")


def test_normalize_mode_keys_ignore_case_whitespace_and_punctuation() -> None:
    def key(text: str, normalize: bool) -> str:
        body = {**BASE, "messages": [{"role": "user", "content": text}]}
        return parse_chat_request(orjson.dumps(body), PROFILES, normalize).key

    assert key("What is  a cache?", True) == key("what is a cache", True)
    assert key("What is  a cache?", False) != key("what is a cache", False)
    assert key("what is a cache", True) != key("what is the cache", True)
    assert normalize_text("  Hello,\tWORLD!!  ") == "hello world"
    req = parse_chat_request(orjson.dumps(BASE), PROFILES, True)
    assert req.messages == MESSAGES  # only the key is lenient: the prompt itself is untouched


def test_completion_request_has_its_own_key_and_defaults() -> None:
    body = {"model": "gpt-4o", "prompt": "Hi there"}
    req = parse_completion_request(orjson.dumps(body), PROFILES)
    assert (req.prompt, req.max_tokens, req.messages) == ("Hi there", 16,
                                                          [{"role": "user", "content": "Hi there"}])
    chat = parse_chat_request(orjson.dumps({"model": "gpt-4o", "max_tokens": 16, "messages":
                                            req.messages}), PROFILES)
    assert req.key != chat.key
    listed = parse_completion_request(orjson.dumps({**body, "prompt": ["Hi there"]}), PROFILES)
    assert listed.key == req.key


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [({"model": "gpt-4o"}, "prompt", "missing_required_parameter"),
     ({"model": "gpt-4o", "prompt": ""}, "prompt", "empty_string"),
     ({"model": "gpt-4o", "prompt": ["a", "b"]}, "prompt", "invalid_type"),
     ({"model": "gpt-4o", "prompt": "x", "max_tokens": 0}, "max_tokens", "invalid_value")],
)
def test_bad_completion_requests(body: dict[str, Any], param: str, code: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_completion_request(orjson.dumps(body), PROFILES)
    assert (err.value.status, err.value.param, err.value.code) == (400, param, code)


def test_engine_request_maps_to_one_chat_turn() -> None:
    body = {"message": "Hello", "session_id": "s-1", "user_level": "expert"}
    req = parse_engine_request(orjson.dumps(body), PROFILES, "gpt-4o-mini")
    assert (req.model, req.session_id, req.stream) == ("gpt-4o-mini", "s-1", False)
    assert req.messages == [{"role": "system", "content": "User level: expert"},
                            {"role": "user", "content": "Hello"}]
    other = parse_engine_request(orjson.dumps({**body, "session_id": "s-2"}), PROFILES, "gpt-4o-mini")
    assert other.key == req.key  # the session does not change the answer


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [({"session_id": "s"}, "message", "missing_required_parameter"),
     ({"message": "  ", "session_id": "s"}, "message", "empty_string"),
     ({"message": "hi"}, "session_id", "missing_required_parameter"),
     ({"message": "hi", "session_id": 3}, "session_id", "invalid_type"),
     ({"message": "hi", "session_id": "s", "user_level": 2}, "user_level", "invalid_type")],
)
def test_bad_engine_requests(body: dict[str, Any], param: str, code: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_engine_request(orjson.dumps(body), PROFILES, "gpt-4o")
    assert (err.value.status, err.value.param, err.value.code) == (400, param, code)


SIMPLE_BODIES = [
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]},
    {"model": "instant", "messages": [{"role": "system", "content": "s"},
                                      {"role": "user", "content": "q"}],
     "max_tokens": 7, "temperature": 0, "stream": True},
    {"model": "instant", "messages": [{"role": "user", "content": "q"}], "stream": True,
     "stream_options": {"include_usage": True}},
    {"model": "instant", "messages": [{"role": "user", "content": "q"}], "stream": False},
]


@pytest.mark.parametrize("body", SIMPLE_BODIES)
def test_fast_path_equals_the_full_path(body: dict[str, object]) -> None:
    """The flat fast path for plain requests must give exactly the full validator's result."""
    fast = parse_chat_request(orjson.dumps(body), PROFILES)
    full = parse_chat_request(orjson.dumps({**body, "n": 1}), PROFILES)  # "n" forces the full path
    assert fast == full
