"""The one writer: OpenAI body shapes as bytes, SSE events, and the paced writer driven by a
fake clock (no sockets, no real sleeping)."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from mock_server import write
from mock_server.answer import Timing
from mock_server.cache import Completion
from mock_server.write import DONE, ChunkEvents, completion_body, due_times, write_paced

C1 = Completion((1, 2), ("Hi", " there"), "stop", 9)


def test_non_streaming_body_has_the_openai_shape() -> None:
    body = orjson.loads(completion_body("chatcmpl-1", 7, "gpt-4o", C1, cached=True))
    assert body["object"] == "chat.completion"
    assert body["cached"] is True
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hi there",
                                             "refusal": None}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11,
                             "prompt_tokens_details": {"cached_tokens": 9},
                             "completion_tokens_details": {"reasoning_tokens": 0}}


@pytest.mark.parametrize("cached", [True, False])
@pytest.mark.parametrize("completion", [C1, Completion((), (), "length", 0),
                                        Completion((5,) * 3, ('"<b>', "\\n\u00e9", "\u2028"), "stop", 7)])
def test_the_spliced_body_is_what_serializing_the_object_gives(completion: Completion,
                                                               cached: bool) -> None:
    expected = orjson.dumps({
        "id": 'chatcmpl-"1', "object": "chat.completion", "created": 1_700_000_000,
        "model": "gpt-4o", "system_fingerprint": None,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": completion.text,
                                             "refusal": None},
                     "logprobs": None, "finish_reason": completion.finish_reason}],
        "usage": write.usage(completion, cached), "cached": cached})
    assert completion_body('chatcmpl-"1', 1_700_000_000, "gpt-4o", completion, cached) == expected


@pytest.mark.parametrize(("cached", "cached_tokens"), [(True, 9), (False, 0)])
def test_cached_tokens_is_the_whole_prompt_on_a_hit_only(cached: bool, cached_tokens: int) -> None:
    """A response-cache hit processed none of the prompt; a generated answer all of it."""
    plain = orjson.loads(completion_body("chatcmpl-1", 7, "gpt-4o", C1, cached=cached))
    ev = ChunkEvents("chatcmpl-1", 7, "gpt-4o")
    streamed = orjson.loads(ev.usage(C1, cached)[len(b"data: "):])
    for usage in (plain["usage"], streamed["usage"]):
        assert usage["prompt_tokens_details"] == {"cached_tokens": cached_tokens}
        assert usage["prompt_tokens"] == 9
    assert plain["cached"] is cached


def parse_events(raw: bytes) -> list[dict[str, object]]:
    events = raw.split(b"\n\n")
    assert events[-1] == b""
    assert all(e.startswith(b"data: ") for e in events[:-1])
    return [orjson.loads(e[6:]) for e in events[:-1]]


def test_stream_events_have_the_chunk_shape() -> None:
    ev = ChunkEvents("chatcmpl-1", 7, "gpt-4o")
    raw = ev.role() + ev.content('say "hi"\n') + ev.finish("length") + ev.usage(C1, False)
    role, content, finish, usage = parse_events(raw)
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 7, "model": "gpt-4o",
            "system_fingerprint": None}
    for event in (role, content, finish, usage):
        assert {k: event[k] for k in head} == head
    assert role["choices"] == [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                "logprobs": None, "finish_reason": None}]
    assert content["choices"][0]["delta"] == {"content": 'say "hi"\n'}
    assert finish["choices"][0] == {"index": 0, "delta": {}, "logprobs": None,
                                    "finish_reason": "length"}
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == 2
    assert DONE == b"data: [DONE]\n\n"
    chunks = ("a", ' "b"', "\\", "")
    assert ev.contents(chunks) == b"".join(ev.content(c) for c in chunks)
    assert ev.contents(()) == b""


def test_stream_contents_are_the_same_with_a_full_chunk_memo(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk JSON is memoized up to a bound; past it chunks are serialized anew, same bytes."""
    monkeypatch.setattr(write, "_CHUNK_JSON", {})
    monkeypatch.setattr(write, "CHUNK_JSON_LIMIT", 3)
    ev = ChunkEvents("chatcmpl-1", 7, "gpt-4o")
    for chunks in (("a", "b"), ("a", "b", "c", "d", "e"), ("e", '","', "a"), ("a", "b")):
        for _ in range(2):  # first sight and memoized
            assert ev.contents(chunks) == b"".join(ev.content(c) for c in chunks)
    assert len(write._CHUNK_JSON) == 3


def test_due_times_accumulate_from_the_start() -> None:
    assert due_times(10.0, Timing(0.5, (0.1, 0.2)), 3) == pytest.approx([10.5, 10.6, 10.8])
    assert due_times(10.0, Timing(0.5, ()), 1) == [10.5]


class FakeTime:
    """A clock that only moves when the writer sleeps (plus a fixed overshoot per sleep)."""

    def __init__(self, overshoot: float = 0.0) -> None:
        self.now = 0.0
        self.overshoot = overshoot
        self.writes: list[tuple[float, bytes]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds + self.overshoot

    async def write(self, data: bytes) -> None:
        self.writes.append((self.now, data))


def test_write_paced_writes_each_token_at_its_due_time() -> None:
    t = FakeTime()
    stamps = asyncio.run(write_paced(t, [b"a", b"b", b"c"], [0.5, 0.6, 0.8], t.clock, t.sleep))
    assert stamps == pytest.approx([0.5, 0.6, 0.8])
    assert [(round(at, 6), data) for at, data in t.writes] == [(0.5, b"a"), (0.6, b"b"),
                                                              (0.8, b"c")]


def test_write_paced_batches_what_is_already_due_and_does_not_drift() -> None:
    t = FakeTime(overshoot=0.15)  # each sleep wakes 150 ms late
    stamps = asyncio.run(write_paced(t, [b"a", b"b", b"c", b"d"], [0.1, 0.2, 0.3, 0.6], t.clock,
                                     t.sleep))
    assert [(round(at, 6), data) for at, data in t.writes] == [(0.25, b"ab"), (0.45, b"c"),
                                                              (0.75, b"d")]
    assert stamps == pytest.approx([0.25, 0.25, 0.45, 0.75])  # coalesced bodies share a stamp


def test_write_paced_sends_a_hit_in_one_write() -> None:
    t = FakeTime()
    asyncio.run(write_paced(t, [b"a", b"b", b"c"], [0.0, 0.0, 0.0], t.clock, t.sleep))
    assert t.writes == [(0.0, b"abc")]
