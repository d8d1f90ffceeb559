"""The pure response plan: deterministic, real tokens, length within max_tokens, sane timing;
and the paced writer driven by a fake clock (no sockets, no real sleeping)."""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import orjson
import pytest

from mock_server.config import DEFAULT_PROFILES_PATH, load_profiles
from mock_server.plan import (
    MEMO_MAX_TOKENS,
    Timing,
    chat_prompt_tokens,
    composed,
    cut_at_stop,
    hit_timing,
    picks_for,
    plan,
    text_variant,
)
from mock_server.request import ChatRequest, parse_chat_request
from mock_server.streaming import due_times, write_paced
from mock_server.textbank import BANK_SIZE, compose, sentence_bank
from suite.tokens import count_chat_tokens, encoding_for, get_encoding

PROFILES = load_profiles(DEFAULT_PROFILES_PATH)


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
    assert c.text[0].isupper() and c.text.isascii()
    assert c.prompt_tokens == count_chat_tokens(req.messages, "gpt-4o")


def test_stop_sequence_ends_the_text_before_it() -> None:
    c = plan(request(max_tokens=200, stop=["."]), PROFILES["gpt-4o"], 0).completion
    assert "." not in c.text and c.finish_reason == "stop"
    assert c.text and c.text[-1].isalpha()  # ends on the word before the first sentence end


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
    assert t.ttft_s == 0 and set(t.itl_s) == {0.0} and t.e2e_s == 0


def test_gpt4o_timing_matches_its_profile() -> None:
    plans = [plan(request("gpt-4o", f"q{i}"), PROFILES["gpt-4o"], 0) for i in range(400)]
    ttfts = [p.timing.ttft_s for p in plans]
    itls = [g for p in plans for g in p.timing.itl_s]
    assert all(len(p.timing.itl_s) == len(p.completion.tokens) - 1 for p in plans)
    assert min(ttfts) >= 0 and min(itls) >= 0
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


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_sentence_bank_joins_exactly_like_tokenizing_the_joined_text(encoding: str) -> None:
    bank = sentence_bank(encoding)
    enc = get_encoding(encoding)
    assert len(bank.openers) == len(bank.continuations) == BANK_SIZE
    for i in range(0, BANK_SIZE, 2):
        pieces = [bank.openers[i], bank.continuations[i + 1], bank.continuations[i]]
        tokens = [t for p in pieces for t in p.tokens]
        text = "".join(c for p in pieces for c in p.chunks)
        assert enc.encode_ordinary(text) == tokens


def test_compose_truncates_to_n_tokens() -> None:
    bank = sentence_bank("o200k_base")
    tokens, chunks = compose(50, bank, iter(range(100)))
    assert len(tokens) == len(chunks) == 50
    assert tokens[: len(bank.openers[0].tokens)] == list(bank.openers[0].tokens)


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


def test_text_variants_are_deterministic_and_prefixes_of_each_other() -> None:
    key = request().key
    assert text_variant(key, 0) == text_variant(key, 0) != text_variant(key, 1)
    short, long = composed("o200k_base", 5, 7), composed("o200k_base", 40, 7)
    assert long[0][:5] == short[0] and long[1][:5] == short[1]
    # a kept head (<= MEMO_MAX_TOKENS) and a freshly composed long text agree on their prefix
    head, beyond = (composed("o200k_base", n, 7) for n in (MEMO_MAX_TOKENS, MEMO_MAX_TOKENS + 30))
    assert len(beyond[0]) == MEMO_MAX_TOKENS + 30 and beyond[0][:MEMO_MAX_TOKENS] == head[0]
    assert beyond[1][:MEMO_MAX_TOKENS] == head[1]
    # a kept head extended on demand gives the text composed at once, in either order
    for first, then in ((40, 5), (5, 40)):
        composed("o200k_base", first, 11 + first)
        fresh = compose(then, sentence_bank("o200k_base"), picks_for(str(11 + first), 0, "text"))
        assert composed("o200k_base", then, 11 + first) == (tuple(fresh[0]), tuple(fresh[1]))
    assert len({text_variant(request(text=f"q{i}").key, 0) for i in range(200)}) > 190
