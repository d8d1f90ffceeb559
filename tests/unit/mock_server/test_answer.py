"""The answer planner: hit/miss and fail-open policy, fault choice, and the pure plan —
deterministic, real tokens, length within max_tokens, sane timing. No sockets."""

from __future__ import annotations

import asyncio
import logging
import statistics
from dataclasses import replace
from typing import Any

import orjson
import pytest

from mock_server.answer import (
    HIT,
    MISS,
    OFF,
    AnswerPlanner,
    Timing,
    chat_prompt_tokens,
    cut_at_stop,
    hit_timing,
    plan,
)
from mock_server.cache import Completion, MemoryCache, NullCache
from mock_server.config import DEFAULT_PROFILES_PATH, MockConfig, load_profiles
from mock_server.faults import Fault
from mock_server.metrics import Metrics
from mock_server.openai_errors import ApiError
from mock_server.validate import ChatRequest, parse_chat_request
from suite.errors import CacheBackendError
from suite.tokens import count_chat_tokens, encoding_for

PROFILES = load_profiles(DEFAULT_PROFILES_PATH)


C1 = Completion((1, 2), ("Hi", " there"), "stop", 9)


def small_request(text: str = "hello") -> ChatRequest:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], "max_tokens": 8}
    return parse_chat_request(orjson.dumps(body), PROFILES)


class BrokenCache(MemoryCache):
    """A backend that fails every call, like Redis after it was killed."""

    name = "broken"

    async def get(self, key: str) -> Completion | None:
        raise CacheBackendError("connection refused")

    async def put(self, key: str, completion: Completion) -> None:
        raise CacheBackendError("connection refused")


def planner(cache: MemoryCache | NullCache) -> AnswerPlanner:
    return AnswerPlanner(MockConfig(PROFILES), cache, Metrics(), logging.getLogger("test.mock"))


def test_engine_misses_then_hits_with_identical_content() -> None:
    async def scenario() -> None:
        eng = planner(MemoryCache())
        first = await eng.answer(small_request())
        assert first.cache == MISS
        await eng.store(small_request(), first)
        second = await eng.answer(small_request())
        assert second.cache == HIT
        assert second.completion == first.completion
        assert second.timing.ttft_s == PROFILES["gpt-4o"].hit_overhead_s
        assert (eng.metrics.counts.hits, eng.metrics.counts.misses) == (1, 1)

    asyncio.run(scenario())


def test_engine_without_cache_is_off() -> None:
    eng = planner(NullCache())
    assert asyncio.run(eng.answer(small_request())).cache == OFF


def test_engine_fails_open_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> AnswerPlanner:
        eng = planner(BrokenCache())
        for text in ("a", "b", "a"):
            answer = await eng.answer(small_request(text))
            assert answer.cache == MISS
            assert answer.completion.tokens
            await eng.store(small_request(text), answer)
        return eng

    with caplog.at_level(logging.WARNING, logger="test.mock"):
        eng = asyncio.run(scenario())
    assert eng.metrics.counts.errors == 6  # three failed lookups, three failed writes
    assert (eng.metrics.counts.hits, eng.metrics.counts.misses) == (0, 0)
    assert [r.getMessage() for r in caplog.records] == [
        "cache broken failing (connection refused); serving requests as MISS until it answers "
        "again"]
    assert b"mock_cache_errors_total 6.0" in eng.metrics.render()


def test_engine_faults_come_from_the_header_or_a_seeded_draw() -> None:
    faulty = {**PROFILES, "gpt-4o": replace(PROFILES["gpt-4o"], faults=((Fault("503"), 0.5),))}
    config = MockConfig(profiles=faulty, seed=3)

    def draws() -> list[Fault | None]:
        eng = AnswerPlanner(config, NullCache(), Metrics(), logging.getLogger("test"))
        return [eng.fault_for("gpt-4o", None) for _ in range(40)]

    first = draws()
    assert first == draws()
    assert 5 < first.count(Fault("503")) < 35
    assert None in first
    eng = AnswerPlanner(config, NullCache(), Metrics(), logging.getLogger("test"))
    assert eng.fault_for("instant", None) is None
    assert eng.fault_for("instant", "stall_mid=2") == Fault("stall_mid", 2.0)
    with pytest.raises(ApiError) as err:
        eng.fault_for("instant", "explode")
    assert (err.value.status, err.value.param, err.value.code) == (400, "X-Mock-Fault",
                                                                   "invalid_fault")


def request(model: str = "gpt-4o", text: str = "Tell me about caches.", **extra: Any) -> ChatRequest:
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    return parse_chat_request(orjson.dumps(body), PROFILES)


def test_same_request_and_seed_give_the_same_plan() -> None:
    req = request(max_tokens=200)
    assert plan(req, PROFILES["gpt-4o"], 0) == plan(request(max_tokens=200), PROFILES["gpt-4o"], 0)


def test_seed_and_request_change_the_text() -> None:
    base = plan(request(max_tokens=200), PROFILES["gpt-4o"], 0).completion.text
    assert plan(request(max_tokens=200), PROFILES["gpt-4o"], 1).completion.text != base
    assert plan(request("gpt-4o", "Other.", max_tokens=200), PROFILES["gpt-4o"], 0).completion.text \
        != base


def test_streaming_and_non_streaming_share_the_plan() -> None:
    profile = PROFILES["gpt-4o"]
    assert plan(request(max_tokens=50), profile, 0) == plan(request(max_tokens=50, stream=True),
                                                            profile, 0)


@pytest.mark.parametrize("max_tokens", [1, 2, 7, 64, 300])
@pytest.mark.parametrize("model", ["gpt-4o", "gpt-5-mini", "instant"])
def test_length_stays_within_max_tokens(model: str, max_tokens: int) -> None:
    for i in range(20):
        c = plan(request(model, f"q{i}", max_tokens=max_tokens), PROFILES[model], 0).completion
        assert 1 <= len(c.tokens) <= max_tokens
        assert c.finish_reason in ("stop", "length")
        if c.finish_reason == "length":
            assert len(c.tokens) == max_tokens


def test_lengths_follow_the_profile_median() -> None:
    lengths = [len(plan(request("gpt-4o", f"q{i}"), PROFILES["gpt-4o"], 0).completion.tokens)
               for i in range(300)]
    assert 100 <= statistics.median(lengths) <= 160  # profile median 128, log-normal spread 0.6
    assert len(set(lengths)) > 50


def test_instant_lengths_are_exactly_the_median() -> None:
    c = plan(request("instant", max_tokens=100), PROFILES["instant"], 0).completion
    assert (len(c.tokens), c.finish_reason) == (16, "stop")


def test_tokens_and_chunks_are_real_for_the_encoding() -> None:
    req = request(max_tokens=120)
    c = plan(req, PROFILES["gpt-4o"], 0).completion
    enc = encoding_for("gpt-4o")
    assert c.text == enc.decode(list(c.tokens))
    assert list(c.chunks) == [enc.decode([t]) for t in c.tokens]
    assert c.text[0].isupper()
    assert c.text.isascii()
    assert c.prompt_tokens == count_chat_tokens(req.messages, "gpt-4o")


def test_stop_sequence_ends_the_text_before_it() -> None:
    c = plan(request(max_tokens=200, stop=["."]), PROFILES["gpt-4o"], 0).completion
    assert "." not in c.text
    assert c.finish_reason == "stop"
    assert c.text
    assert c.text[-1].isalpha()  # ends on the word before the first sentence end


def test_cut_at_stop_counts_whole_tokens() -> None:
    chunks = ["Hello", " wor", "ld", ".", " Next"]
    assert cut_at_stop(chunks, ("world",)) == 1
    assert cut_at_stop(chunks, ("ld.",)) == 2
    assert cut_at_stop(chunks, ("zzz", "Next")) == 4
    assert cut_at_stop(chunks, ("Hello",)) == 0
    assert cut_at_stop(chunks, ("zzz",)) is None
    assert cut_at_stop(chunks, ()) is None


def test_instant_has_no_delays() -> None:
    t = plan(request("instant"), PROFILES["instant"], 0).timing
    assert t.ttft_s == 0
    assert set(t.itl_s) == {0.0}
    assert t.e2e_s == 0


def test_gpt4o_timing_matches_its_profile() -> None:
    plans = [plan(request("gpt-4o", f"q{i}"), PROFILES["gpt-4o"], 0) for i in range(400)]
    ttfts = [p.timing.ttft_s for p in plans]
    itls = [g for p in plans for g in p.timing.itl_s]
    assert all(len(p.timing.itl_s) == len(p.completion.tokens) - 1 for p in plans)
    assert min(ttfts) >= 0
    assert min(itls) >= 0
    assert statistics.mean(ttfts) == pytest.approx(0.45, abs=0.03)
    assert statistics.stdev(ttfts) == pytest.approx(0.15, abs=0.03)
    assert statistics.mean(itls) == pytest.approx(0.010, abs=0.0005)


def test_prefill_grows_ttft_with_the_prompt() -> None:
    profile = PROFILES["llama-3.1-8b"]
    short = plan(request("llama-3.1-8b", "hi"), profile, 0).timing.ttft_s
    long = plan(request("llama-3.1-8b", "word " * 2000), profile, 0).timing.ttft_s
    assert long - short == pytest.approx(0.00025 * 2000, abs=0.03)


def test_hit_timing_sends_everything_after_the_overhead() -> None:
    assert hit_timing(PROFILES["gpt-4o"], 4) == Timing(0.002, (0.0, 0.0, 0.0))


MESSAGE_SETS = [
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "Be terse. " * 300}, {"role": "user", "content": "Why?"}],
    [{"role": "user", "content": "A", "name": "alice"}, {"role": "assistant", "content": ""}],
]


@pytest.mark.parametrize("messages", MESSAGE_SETS)
@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_memoized_prompt_count_equals_suite_tokens(messages: list[dict[str, str]],
                                                   encoding: str) -> None:
    model = "gpt-4o" if encoding == "o200k_base" else "gpt-4"
    for _ in range(2):  # the second call is served from the memo
        assert chat_prompt_tokens(messages, encoding) == count_chat_tokens(messages, model)


def test_long_prompts_are_counted_off_the_loop_with_the_same_result() -> None:
    """A prompt past OFF_LOOP_CHARS goes to a worker thread; the count is the one on the loop."""
    import asyncio
    import threading

    from mock_server import answer as answer_module

    long = [{"role": "user", "content": "lorem ipsum " * (answer_module.OFF_LOOP_CHARS // 6)}]
    short = [{"role": "user", "content": "hello"}]
    assert answer_module.is_long(long) and not answer_module.is_long(short)
    threads: list[int] = []
    real = answer_module.chat_prompt_tokens

    def spy(messages: list[dict[str, str]], encoding: str) -> int:
        threads.append(threading.get_ident())
        return real(messages, encoding)

    answer_module.chat_prompt_tokens = spy
    try:
        async def both() -> tuple[int, int]:
            return (await answer_module.count_prompt(long, "o200k_base"),
                    await answer_module.count_prompt(short, "o200k_base"))
        got = asyncio.run(both())
    finally:
        answer_module.chat_prompt_tokens = real
    assert got == (real(long, "o200k_base"), real(short, "o200k_base"))
    assert threads[0] != threading.get_ident() and threads[1] == threading.get_ident()
