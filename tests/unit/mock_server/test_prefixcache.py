"""The prompt-prefix cache model: token sequence = the counted prompt, chained block hashes, block
rounding, the last-token rule, LRU eviction (tail blocks first), and the planner's TTFT and usage
on a prefix hit. No sockets."""

from __future__ import annotations

import asyncio
import logging

import orjson
import pytest

from mock_server.answer import HIT, AnswerPlanner, chat_prompt_tokens
from mock_server.cache import MemoryCache
from mock_server.config import MockConfig, profile_from_dict
from mock_server.metrics import Metrics
from mock_server.prefixcache import PrefixCache, PrefixSpec, block_hashes, prefix_spec, prompt_ids
from mock_server.validate import parse_chat_request
from mock_server.write import completion_body, usage
from suite.errors import ModelError
from suite.tokens import get_encoding

ENC = "o200k_base"
DOC = " ".join(f"Clause {i}: the tenant keeps the premises clean and dry." for i in range(30))
RAW = {"ttft_base_s": 0.05, "ttft_jitter_s": 0.0, "prefill_s_per_token": 0.001,
       "tokens_per_s": 100.0, "output_tokens": {"median": 4, "spread": 0.0}, "encoding": ENC,
       "prefix_cache": {"block_tokens": 16, "capacity_tokens": 100_000}}


def chat(question: str, system: str = DOC) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def shared_len(system: str = DOC) -> int:
    """Tokens both prompts share, counted by hand: the system message, then the user message's
    framing and role (the questions below start with different tokens)."""
    enc = get_encoding(ENC)
    return 3 + len(enc.encode_ordinary("system")) + len(enc.encode_ordinary(system)) + 3 + len(
        enc.encode_ordinary("user"))


@pytest.mark.parametrize("messages", [
    chat("Why?"), [{"role": "user", "content": "hi", "name": "bob"}],
    [{"role": "user", "content": ""}], chat("x" * 70_000)])
def test_prompt_ids_are_the_counted_prompt(messages: list[dict[str, str]]) -> None:
    assert len(prompt_ids(messages, ENC)) == chat_prompt_tokens(messages, ENC)


def test_repeat_of_a_shared_prefix_reports_the_block_rounded_prefix() -> None:
    cache = PrefixCache(PrefixSpec(16, 100_000))
    assert cache.admit(prompt_ids(chat("Why is the sky blue?"), ENC)) == 0
    expected = shared_len() // 16 * 16
    assert expected > 0
    for question in ("How long is the lease?", "When is rent due?", "Who pays for repairs?"):
        assert cache.admit(prompt_ids(chat(question), ENC)) == expected


def test_a_whole_cached_prompt_still_computes_its_last_token() -> None:
    cache = PrefixCache(PrefixSpec(4, 1000))
    assert cache.admit(list(range(8))) == 0
    assert cache.admit(list(range(8))) == 4  # 8 cached would leave nothing to compute
    assert cache.admit(list(range(9))) == 8
    assert cache.admit(list(range(3))) == 0  # no full block


def test_a_block_matches_only_after_the_same_blocks() -> None:
    assert block_hashes([1, 2, 3, 4], 2)[1] != block_hashes([9, 9, 3, 4], 2)[1]
    cache = PrefixCache(PrefixSpec(2, 1000))
    cache.admit([1, 2, 3, 4, 5])
    assert cache.admit([9, 9, 3, 4, 5]) == 0


def test_lru_evicts_the_least_recent_blocks_tail_first() -> None:
    cache = PrefixCache(PrefixSpec(2, 6))  # three blocks
    a = [1, 1, 2, 2, 3, 3, 0]
    cache.admit(a)  # blocks a0 a1 a2
    assert cache.admit(a) == 6
    cache.admit([7, 7, 0])  # one new block evicts a's tail block (a2), not its head
    assert cache.admit(a) == 4  # re-admitting a2 evicts the least recent block: [7, 7]
    assert cache.admit([7, 7, 0]) == 0
    assert len(cache.blocks) == 3
    assert cache.clear() == 3


@pytest.mark.parametrize(("raw", "why"), [
    ({"block_tokens": 0, "capacity_tokens": 10}, "block_tokens: 0 is not valid"),
    ({"block_tokens": 16, "capacity_tokens": 8}, "capacity_tokens: 8 is not valid"),
    ({"capacity_tokens": 100, "size": 1}, "size: unknown field"),
])
def test_bad_specs_are_named(raw: dict[str, int], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        prefix_spec(raw)
    with pytest.raises(ModelError, match=f"models.m.prefix_cache.{why}"):
        profile_from_dict("m", {**RAW, "prefix_cache": raw}, "models.m")


def test_planner_prefills_only_the_uncached_tokens() -> None:
    profile = profile_from_dict("apc", RAW, "models.apc")
    planner = AnswerPlanner(MockConfig({"apc": profile}), MemoryCache(), Metrics(),
                            logging.getLogger("test.mock"))

    def ask(question: str):  # noqa: ANN202 - an Answer
        body = {"model": "apc", "messages": chat(question), "max_tokens": 8}
        return asyncio.run(planner.answer(parse_chat_request(orjson.dumps(body),
                                                             {"apc": profile})))

    cold, warm = ask("Why is the sky blue?"), ask("How is the sky blue?")
    cached = shared_len() // 16 * 16
    assert (cold.completion.cached_tokens, warm.completion.cached_tokens) == (0, cached)
    for a in (cold, warm):
        uncached = a.completion.prompt_tokens - a.completion.cached_tokens
        assert a.timing.ttft_s == pytest.approx(0.05 + 0.001 * uncached)
    assert usage(warm.completion, False)["prompt_tokens_details"] == {"cached_tokens": cached}
    assert orjson.loads(completion_body("id", 0, "apc", warm.completion, False))["usage"] == usage(
        warm.completion, False)
    asyncio.run(planner.store(parse_chat_request(orjson.dumps(
        {"model": "apc", "messages": chat("How is the sky blue?"), "max_tokens": 8}),
        {"apc": profile}), warm))
    hit = ask("How is the sky blue?")  # a response-cache hit: no prefill, whole prompt cached
    assert hit.cache == HIT
    assert usage(hit.completion, True)["prompt_tokens_details"]["cached_tokens"] == (
        hit.completion.prompt_tokens)
