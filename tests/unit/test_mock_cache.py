"""Response caches, the engine's hit/miss/fail-open policy and the OpenAI body shapes — pure, no
sockets (the caches here are in-process; Redis itself is exercised in the integration tests)."""

from __future__ import annotations

import asyncio
import logging

import orjson
import pytest

from mock_server.cache import MemoryCache, NullCache, RedisCache, decode_entry, encode_entry
from mock_server.config import DEFAULT_PROFILES_PATH, MockConfig, load_profiles
from mock_server.engine import HIT, MISS, OFF, Engine
from mock_server.metrics import Metrics
from mock_server.plan import Completion
from mock_server.request import ChatRequest, parse_chat_request
from mock_server.responses import DONE, ChunkEvents, EngineEvents, completion_body
from mock_server.serve import build_cache
from suite.errors import CacheBackendError, SpecError

PROFILES = load_profiles(DEFAULT_PROFILES_PATH)
C1 = Completion((1, 2), ("Hi", " there"), "stop", 9)


def request(text: str = "hello") -> ChatRequest:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], "max_tokens": 8}
    return parse_chat_request(orjson.dumps(body), PROFILES)


def test_memory_cache_evicts_the_least_recently_used() -> None:
    async def scenario() -> list[str]:
        cache = MemoryCache(capacity=2)
        await cache.put("a", C1)
        await cache.put("b", C1)
        assert await cache.get("a") == C1  # a is now the most recently used
        await cache.put("c", C1)
        assert await cache.get("b") is None
        return cache.keys()

    assert asyncio.run(scenario()) == ["a", "c"]


def test_memory_cache_clear_and_size() -> None:
    async def scenario() -> tuple[int, int | None]:
        cache = MemoryCache(capacity=5)
        for key in "xyz":
            await cache.put(key, C1)
        return await cache.clear(), cache.size()

    assert asyncio.run(scenario()) == (3, 0)


def test_memory_cache_rejects_a_zero_capacity() -> None:
    with pytest.raises(CacheBackendError, match=r"memory cache capacity 0 is not valid \(must be "
                                                r">= 1\)\."):
        MemoryCache(0)


def test_entries_round_trip_and_corrupt_ones_are_backend_errors() -> None:
    assert decode_entry(encode_entry(C1)) == C1
    with pytest.raises(CacheBackendError, match="unreadable cache entry"):
        decode_entry(b'{"v": 99}')
    with pytest.raises(CacheBackendError, match="unreadable cache entry"):
        decode_entry(b"\x00garbage")


def test_build_cache_reads_the_url() -> None:
    assert isinstance(build_cache("memory"), MemoryCache)
    assert isinstance(build_cache("none"), NullCache)
    redis_cache = build_cache("redis://127.0.0.1:1/0", ttl_s=5)
    assert isinstance(redis_cache, RedisCache) and redis_cache.ttl_ms == 5000
    asyncio.run(redis_cache.close())
    with pytest.raises(SpecError) as err:
        build_cache("memcached://x")
    assert str(err.value) == ("--cache: 'memcached://x' is not a cache; use memory, none, or a "
                              "Redis URL such as redis://127.0.0.1:6379/0.")


class BrokenCache(MemoryCache):
    """A backend that fails every call, like Redis after it was killed."""

    name = "broken"

    async def get(self, key: str) -> Completion | None:
        raise CacheBackendError("connection refused")

    async def put(self, key: str, completion: Completion) -> None:
        raise CacheBackendError("connection refused")


def engine(cache: MemoryCache | NullCache) -> Engine:
    return Engine(MockConfig(PROFILES), cache, Metrics(), logging.getLogger("test.mock"))


def test_engine_misses_then_hits_with_identical_content() -> None:
    async def scenario() -> None:
        eng = engine(MemoryCache())
        first = await eng.answer(request())
        assert first.cache == MISS
        await eng.store(request(), first)
        second = await eng.answer(request())
        assert second.cache == HIT and second.completion == first.completion
        assert second.timing.ttft_s == PROFILES["gpt-4o"].hit_overhead_s
        assert (eng.metrics.counts.hits, eng.metrics.counts.misses) == (1, 1)

    asyncio.run(scenario())


def test_engine_without_cache_is_off() -> None:
    eng = engine(NullCache())
    assert asyncio.run(eng.answer(request())).cache == OFF


def test_engine_fails_open_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> Engine:
        eng = engine(BrokenCache())
        for text in ("a", "b", "a"):
            answer = await eng.answer(request(text))
            assert answer.cache == MISS and answer.completion.tokens
            await eng.store(request(text), answer)
        return eng

    with caplog.at_level(logging.WARNING, logger="test.mock"):
        eng = asyncio.run(scenario())
    assert eng.metrics.counts.errors == 6  # three failed lookups, three failed writes
    assert (eng.metrics.counts.hits, eng.metrics.counts.misses) == (0, 0)
    assert [r.getMessage() for r in caplog.records] == [
        "cache broken failing (connection refused); serving requests as MISS until it answers "
        "again"]
    assert b"mock_cache_errors_total 6.0" in eng.metrics.render()


def test_non_streaming_body_has_the_openai_shape() -> None:
    body = orjson.loads(completion_body("chatcmpl-1", 7, "gpt-4o", C1, cached=True))
    assert body["object"] == "chat.completion" and body["cached"] is True
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
    from mock_server.responses import usage

    expected = orjson.dumps({
        "id": 'chatcmpl-"1', "object": "chat.completion", "created": 1_700_000_000,
        "model": "gpt-4o", "system_fingerprint": None,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": completion.text,
                                             "refusal": None},
                     "logprobs": None, "finish_reason": completion.finish_reason}],
        "usage": usage(completion, cached), "cached": cached})
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


def test_engine_events_carry_the_response_piece_and_the_session() -> None:
    ev = EngineEvents("s-1")
    raw = ev.role() + ev.contents(("Hi", " there")) + ev.finish("stop") + ev.usage(C1, False) + DONE
    assert raw == (b'data: {"response":"Hi","session_id":"s-1"}\n\n'
                   b'data: {"response":" there","session_id":"s-1"}\n\n' + DONE)


def parse_events(raw: bytes) -> list[dict[str, object]]:
    events = raw.split(b"\n\n")
    assert events[-1] == b"" and all(e.startswith(b"data: ") for e in events[:-1])
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
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 2
    assert DONE == b"data: [DONE]\n\n"
    chunks = ("a", ' "b"', "\\", "")
    assert ev.contents(chunks) == b"".join(ev.content(c) for c in chunks)
    assert ev.contents(()) == b""


def test_stream_contents_are_the_same_with_a_full_chunk_memo(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk JSON is memoized up to a bound; past it chunks are serialized anew, same bytes."""
    from mock_server import responses

    monkeypatch.setattr(responses, "_CHUNK_JSON", {})
    monkeypatch.setattr(responses, "CHUNK_JSON_LIMIT", 3)
    ev = ChunkEvents("chatcmpl-1", 7, "gpt-4o")
    for chunks in (("a", "b"), ("a", "b", "c", "d", "e"), ("e", '","', "a"), ("a", "b")):
        for _ in range(2):  # first sight and memoized
            assert ev.contents(chunks) == b"".join(ev.content(c) for c in chunks)
    assert len(responses._CHUNK_JSON) == 3


def test_memory_cache_entries_expire_after_the_ttl() -> None:
    now = [100.0]

    async def scenario() -> list[Completion | None]:
        cache = MemoryCache(capacity=5, ttl_s=2.0, clock=lambda: now[0])
        await cache.put("k", C1)
        seen = [await cache.get("k")]
        now[0] = 101.9
        seen.append(await cache.get("k"))
        now[0] = 102.0
        seen.append(await cache.get("k"))
        return seen

    assert asyncio.run(scenario()) == [C1, C1, None]


def test_engine_faults_come_from_the_header_or_a_seeded_draw() -> None:
    from dataclasses import replace

    from mock_server.faults import Fault
    from mock_server.openai_errors import ApiError

    faulty = {**PROFILES, "gpt-4o": replace(PROFILES["gpt-4o"], faults=((Fault("503"), 0.5),))}
    config = MockConfig(profiles=faulty, seed=3)

    def draws() -> list[Fault | None]:
        eng = Engine(config, NullCache(), Metrics(), logging.getLogger("test"))
        return [eng.fault_for("gpt-4o", None) for _ in range(40)]

    first = draws()
    assert first == draws() and 5 < first.count(Fault("503")) < 35 and None in first
    eng = Engine(config, NullCache(), Metrics(), logging.getLogger("test"))
    assert eng.fault_for("instant", None) is None
    assert eng.fault_for("instant", "stall_mid=2") == Fault("stall_mid", 2.0)
    with pytest.raises(ApiError) as err:
        eng.fault_for("instant", "explode")
    assert (err.value.status, err.value.param, err.value.code) == (400, "X-Mock-Fault",
                                                                   "invalid_fault")
