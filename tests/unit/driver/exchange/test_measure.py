"""Known answers: hand-written SSE events and JSON bodies → measured fields."""

from __future__ import annotations

from dataclasses import fields

import orjson
import pytest

from suite.driver.exchange.cachedetect import cache_rule
from suite.driver.exchange.measure import (
    Measured,
    StreamAccumulator,
    cache_status,
    error_message,
    measure_http_error,
    measure_json,
    measure_stream,
)
from suite.driver.exchange.sse import SSEEvent
from suite.driver.exchange.targets import TargetOptions, build_target
from suite.records import MEASURED_FIELDS, RequestRecord
from suite.tokens import count_tokens

T_SEND = 100.0


def ev(t: float, obj: object | str) -> SSEEvent:
    return SSEEvent(obj if isinstance(obj, str) else orjson.dumps(obj).decode(), T_SEND + t)


def content(t: float, text: str | None, rid: str = "chatcmpl-1") -> SSEEvent:
    delta = {"content": text} if text is not None else {"role": "assistant"}
    return ev(t, {"id": rid, "choices": [{"index": 0, "delta": delta}]})


USAGE = {"prompt_tokens": 42, "completion_tokens": 3,
         "prompt_tokens_details": {"cached_tokens": 32}}


FULL = [
    content(0.05, None),          # role-only chunk: not a token
    content(0.20, "Hel"),         # TTFT = 0.20
    content(0.25, "lo"),          # gap 0.05
    content(0.30, ""),            # empty content: not a token, no gap
    content(0.40, "!"),           # gap 0.15
    ev(0.45, {"id": "chatcmpl-1", "choices": [], "usage": USAGE}),
    ev(0.50, "[DONE]"),
]


def _finish(t: float, reason: str = "stop") -> SSEEvent:
    return ev(t, {"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})


def _engine_events(done: bool) -> list[SSEEvent]:
    events = [ev(0.1 * i, {"response": p, "session_id": "s1", "response_id": "resp-7"})
              for i, p in enumerate(["Hi", " there"], start=1)]
    return [*events, ev(0.3, "[DONE]")] if done else events


def test_full_stream_known_answer() -> None:
    m = measure_stream(FULL, T_SEND, T_SEND + 0.6, "gpt-4o", prompt_tokens=40, cache="miss")
    assert m.ok
    assert m.error is None
    assert m.status == 200
    assert m.ttft == pytest.approx(0.20)
    assert m.itl == pytest.approx([0.05, 0.15])
    assert m.e2e == pytest.approx(0.6)
    assert (m.prompt_tokens, m.completion_tokens, m.cached_tokens) == (42, 3, 32)
    assert m.tokens_source == "usage"
    assert m.response_id == "chatcmpl-1"
    assert m.cache == "miss"


def test_without_usage_counts_received_text_with_tiktoken() -> None:
    events = [e for e in FULL if "usage" not in e.data]
    m = measure_stream(events, T_SEND, T_SEND + 0.6, "gpt-4o", prompt_tokens=40)
    assert m.ok
    assert m.tokens_source == "tiktoken"
    assert m.completion_tokens == count_tokens("Hello!", "gpt-4o")
    assert m.prompt_tokens == 40  # the corpus's own tiktoken count
    assert m.cached_tokens is None


def test_usage_without_details_leaves_cached_tokens_unmeasured() -> None:
    events = [*FULL[:5], ev(0.45, {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}}),
              FULL[-1]]
    m = measure_stream(events, T_SEND, T_SEND + 0.6, "gpt-4o")
    assert (m.prompt_tokens, m.completion_tokens, m.cached_tokens) == (5, 3, None)


def test_single_content_chunk_has_empty_itl() -> None:
    m = measure_stream([content(0.3, "all at once"), ev(0.31, "[DONE]")], T_SEND, T_SEND + 0.32, "gpt-4o")
    assert m.ok
    assert m.ttft == pytest.approx(0.3)
    assert m.itl == []


@pytest.mark.parametrize("events, kind, fragment", [
    (FULL[:-1], "stream_incomplete", "without [DONE] after 3 content chunk(s)"),
    ([*FULL[:3], SSEEvent('{"error": {"message": "overloaded"}}', T_SEND + 0.3, "error")],
     "stream_error", "error event: overloaded"),
    ([*FULL[:3], ev(0.3, {"error": {"message": "upstream died"}})], "stream_error", "upstream died"),
    ([*FULL[:3], ev(0.3, "{not json")], "invalid_json", "chunk is not JSON"),
    ([*FULL[:3], ev(0.3, "[1, 2]")], "invalid_json", "not a JSON object"),
    ([content(0.1, None), ev(0.2, "[DONE]")], "empty_content", "no content"),
], ids=["no-done", "error-event", "error-chunk", "garbage", "not-object", "empty"])
def test_failed_streams(events: list[SSEEvent], kind: str, fragment: str) -> None:
    m = measure_stream(events, T_SEND, T_SEND + 1.0, "gpt-4o")
    assert not m.ok
    assert m.error is not None
    assert m.error["kind"] == kind
    assert fragment in m.error["message"]
    assert m.e2e == pytest.approx(1.0)


def test_cut_stream_keeps_what_was_measured() -> None:
    acc = StreamAccumulator(T_SEND, "gpt-4o")
    for e in FULL[:3]:
        assert acc.add(e)
    acc.cut("HTTPParseError: Incomplete response.")
    m = acc.finish(T_SEND + 0.4)
    assert not m.ok
    assert m.error == {"kind": "stream_incomplete", "message": "connection lost after 2 content "
                       "chunk(s): HTTPParseError: Incomplete response."}
    assert m.ttft == pytest.approx(0.2)
    assert m.itl == pytest.approx([0.05])
    assert m.completion_tokens == count_tokens("Hello", "gpt-4o")


def test_accumulator_stops_at_done() -> None:
    acc = StreamAccumulator(T_SEND, "gpt-4o")
    assert acc.add(content(0.1, "x"))
    assert not acc.add(ev(0.2, "[DONE]"))


def test_json_body_known_answer() -> None:
    body = orjson.dumps({"id": "chatcmpl-9", "choices": [{"message": {"role": "assistant",
                                                                      "content": "Hi there"}}],
                         "usage": USAGE})
    m = measure_json(body, T_SEND, T_SEND + 0.8, "gpt-4o", cache="hit")
    assert m.ok
    assert m.ttft is None
    assert m.itl is None
    assert m.e2e == pytest.approx(0.8)
    assert (m.completion_tokens, m.cached_tokens, m.tokens_source) == (3, 32, "usage")
    assert (m.response_id, m.cache) == ("chatcmpl-9", "hit")


def test_json_body_without_usage() -> None:
    body = orjson.dumps({"choices": [{"message": {"content": "Hi there"}}]})
    m = measure_json(body, T_SEND, T_SEND + 0.1, "gpt-4o", prompt_tokens=7)
    assert m.ok
    assert m.response_id is None
    assert (m.completion_tokens, m.prompt_tokens, m.tokens_source) == (
        count_tokens("Hi there", "gpt-4o"), 7, "tiktoken")


@pytest.mark.parametrize("body, kind", [
    (b"<html>oops</html>", "invalid_json"),
    (b'{"error": {"message": "bad"}}', "invalid_json"),
    (b'{"choices": [{"message": {"content": ""}}]}', "empty_content"),
], ids=["html", "error-object", "empty"])
def test_bad_json_bodies(body: bytes, kind: str) -> None:
    m = measure_json(body, T_SEND, T_SEND + 0.1, "gpt-4o")
    assert not m.ok
    assert m.error is not None
    assert m.error["kind"] == kind


@pytest.mark.parametrize("status, body, message", [
    (429, b'{"error": {"message": "Rate limit reached", "type": "rate_limit"}}', "Rate limit reached"),
    (500, b'{"error": "boom"}', "boom"),
    (503, b'{"message": "down for maintenance"}', "down for maintenance"),
    (502, b"<h1>Bad Gateway</h1>\n", "<h1>Bad Gateway</h1>"),
    (500, b"", "(empty body)"),
])
def test_http_errors(status: int, body: bytes, message: str) -> None:
    m = measure_http_error(status, body, T_SEND, T_SEND + 0.01, cache=None)
    assert not m.ok
    assert m.status == status
    assert m.error == {"kind": f"http_{status}", "message": message}
    assert m.e2e == pytest.approx(0.01)
    assert m.ttft is None
    assert m.completion_tokens is None


def test_error_message_truncates_long_text() -> None:
    assert len(error_message(b"x" * 1000)) == 300


@pytest.mark.parametrize("header, want", [
    ("HIT", "hit"), ("MISS", "miss"), ("hit", "hit"), (" Miss ", "miss"), (None, None),
    ("BYPASS", "miss"), ("", None), ("Hit from cloudfront", "hit"), ("RefreshHit from cloudfront", "hit"),
    ("EXPIRED", "miss"), ("weird", None),
])
def test_cache_status(header: str | None, want: str | None) -> None:
    assert cache_status(header) == want


def test_a_finish_reason_completes_a_stream_without_done() -> None:
    m = measure_stream([*FULL[:5], _finish(0.45)], T_SEND, T_SEND + 0.5, "gpt-4o")
    assert m.ok
    assert m.chunks == 3
    assert m.text == "Hello!"


def test_chunks_counts_content_chunks_only() -> None:
    m = measure_stream(FULL, T_SEND, T_SEND + 0.6, "gpt-4o")
    assert m.chunks == 3  # the role chunk, the empty one and the usage chunk are not content


def test_non_streamed_response_has_no_chunk_count() -> None:
    body = orjson.dumps({"choices": [{"message": {"content": "Hi"}}]})
    assert measure_json(body, T_SEND, T_SEND + 0.1, "gpt-4o").chunks is None


def test_error_chunk_with_null_error_is_not_an_error() -> None:
    events = [ev(0.1, {"id": "x", "error": None, "choices": [{"delta": {"content": "a"}}]}),
              ev(0.2, "[DONE]")]
    assert measure_stream(events, T_SEND, T_SEND + 0.3, "gpt-4o").ok


def test_completions_stream_reads_choices_text() -> None:
    target = build_target(TargetOptions(kind="openai-completions"))
    events = [ev(0.1, {"id": "cmpl-1", "choices": [{"text": "Hel", "finish_reason": None}]}),
              ev(0.2, {"id": "cmpl-1", "choices": [{"text": "lo", "finish_reason": None}]}),
              ev(0.3, {"id": "cmpl-1", "choices": [{"text": "", "finish_reason": "length"}]}),
              ev(0.4, "[DONE]")]
    m = measure_stream(events, T_SEND, T_SEND + 0.5, "gpt-4o", target=target)
    assert m.ok
    assert m.text == "Hello"
    assert m.ttft == pytest.approx(0.1)
    assert m.response_id == "cmpl-1"


@pytest.mark.parametrize("done, eof, stream_end, ok", [
    (True, False, None, True),     # [DONE]
    (False, True, None, True),     # engine default "eof": a clean end is complete
    (False, True, "done", False),  # --stream-end done: [DONE] is required
    (False, False, None, False),   # neither: cut
])
def test_engine_stream_completeness(done: bool, eof: bool, stream_end: str | None, ok: bool) -> None:
    target = build_target(TargetOptions(kind="engine", stream_end=stream_end))
    acc = StreamAccumulator(T_SEND, "gpt-4o", 5, target=target)
    for e in _engine_events(done):
        if not acc.add(e):
            break
    if eof:
        acc.ended()
    m = acc.finish(T_SEND + 0.5)
    assert m.ok is ok, m.error
    assert m.text == "Hi there"
    assert m.response_id == "resp-7"
    assert m.chunks == 2
    if not ok:
        assert m.error is not None
        assert m.error["kind"] == "stream_incomplete"


def test_engine_json_body_with_a_nested_text_field() -> None:
    target = build_target(TargetOptions(kind="engine", text_field="data.answer", id_field="data.id"))
    body = orjson.dumps({"data": {"answer": "Forty-two", "id": "e-1"}})
    m = measure_json(body, T_SEND, T_SEND + 0.2, "gpt-4o", prompt_tokens=3, target=target)
    assert m.ok
    assert m.text == "Forty-two"
    assert m.response_id == "e-1"
    assert m.tokens_source == "tiktoken"
    assert m.completion_tokens == count_tokens("Forty-two", "gpt-4o")


def test_json_cache_field_is_read_when_headers_said_nothing() -> None:
    body = orjson.dumps({"response": "x", "cached": True})
    target = build_target(TargetOptions(kind="engine"))
    rule = cache_rule("auto")
    assert measure_json(body, T_SEND, T_SEND + 0.1, "gpt-4o", target=target,
                        cache_json=rule.from_json).cache == "hit"
    assert measure_json(body, T_SEND, T_SEND + 0.1, "gpt-4o", cache="miss", target=target,
                        cache_json=rule.from_json).cache == "miss"  # the header wins


def test_measured_has_the_record_s_measured_fields_and_nothing_else_recorded() -> None:
    declared = {f.name: f for f in fields(RequestRecord)}
    own = {f.name: f for f in fields(Measured)}
    assert [n for n in own if n not in ("text", "objects")] == list(MEASURED_FIELDS)
    for name in MEASURED_FIELDS:
        assert own[name].type == declared[name].type, name
        assert own[name].default == declared[name].default, name
    assert Measured.__module__ == "suite.driver.exchange.measure"
    assert "text" not in repr(Measured(text="secret answer"))
