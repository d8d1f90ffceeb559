"""Prefix reuse: system-prompt and document pools, and the expected prefix-cache share of a corpus
(16-token blocks of real tokens, per model, an unbounded cache)."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.errors import SpecError
from suite.records import CorpusRequest
from suite.synth import build_corpus, build_manifest, parse_spec
from suite.synth.options import synth_overrides
from suite.synth.prefixshare import (
    FRAME,
    block_hashes,
    cached_prefix,
    expected_cache,
    message_ids,
    prompt_ids,
)
from suite.tokens import count_chat_tokens, count_tokens

from .test_spec import BASE

SYSTEM = "You are an operations assistant."


def req(rid: str, model: str, user: str, *, system: str = SYSTEM, repeat_of: str | None = None
        ) -> CorpusRequest:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return CorpusRequest(rid, None, "s", 0, model, messages, 8, 0.0, True,
                         count_chat_tokens(messages, model), "d", "i", "k" + rid, repeat_of=repeat_of)


def test_blocks_by_hand() -> None:
    a, b, c = list(range(40)), [*range(32), *[99] * 8], [5, *range(1, 40)]
    seen = set(block_hashes(a))
    assert len(block_hashes(a)) == 2  # 40 tokens: two full blocks, 8 left over
    assert cached_prefix(block_hashes(b), len(b), seen) == 32  # the first two blocks match
    assert cached_prefix(block_hashes(c), len(c), seen) == 0  # the first block differs: nothing after it
    assert cached_prefix(block_hashes(a[:32]), 32, seen) == 16  # the last token is always computed


def test_the_token_sequence_is_prompt_tokens_long() -> None:
    requests = build_corpus(parse_spec({**BASE, "n": 40, "repeat_ratio": 0.2}))
    assert all(len(prompt_ids(r.model, r.messages)) == r.prompt_tokens for r in requests)
    assert message_ids("gpt-4o", {"role": "user", "content": "hi"})[:3] == [FRAME] * 3


def test_expected_share_of_a_small_corpus_by_hand() -> None:
    """Three gpt-4o requests with one long system prompt, then the same prompt for another model:
    the shared head is 3 framing + 1 role + S system tokens + 3 framing + 1 role ("user") tokens;
    the users' questions differ from their first token on."""
    system = "Answer briefly. " * 20
    s = count_tokens(system, "gpt-4o")
    head = 3 + 1 + s + 3 + 1
    corpus = [req("1", "gpt-4o", "Alpha question?", system=system),
              req("2", "gpt-4o", "Bravo question?", system=system),
              req("3", "gpt-4o", "Bravo question?", system=system, repeat_of="2"),
              req("4", "gpt-4o-mini", "Bravo question?", system=system)]
    got = expected_cache(corpus)
    total = sum(r.prompt_tokens for r in corpus)
    repeat = (corpus[2].prompt_tokens - 1) // 16 * 16
    assert got["block_tokens"] == 16
    assert got["per_model"]["gpt-4o"]["cached_tokens"] == head // 16 * 16 + repeat
    assert got["per_model"]["gpt-4o-mini"]["cached_tokens"] == 0  # caches are per model
    assert got["cached_tokens"] == head // 16 * 16 + repeat
    assert got["expected_cached_share"] == round(got["cached_tokens"] / total, 6)
    assert got["requests_with_cached_prefix"] == 0.5


def test_the_mock_prefix_cache_agrees_on_an_unbounded_cache() -> None:
    """The same token sequence and block rule as mock_server.prefixcache, at a capacity that never evicts."""
    from mock_server.prefixcache import PrefixCache, PrefixSpec
    from mock_server.prefixcache import prompt_ids as mock_ids
    from suite.models import encoding_for_model

    spec = parse_spec({**BASE, "n": 300, "repeat_ratio": 0.3, "near_duplicate_ratio": 0.1,
                       "system_prompts": {"count": 3, "tokens": 100},
                       "documents": {"count": 4, "tokens": 90, "probability": 0.5}})
    requests = build_corpus(spec)
    caches: dict[str, PrefixCache] = {}
    cached = 0
    for r in requests:
        cache = caches.setdefault(r.model, PrefixCache(PrefixSpec(16, 10**9)))
        cached += cache.admit(mock_ids(r.messages, encoding_for_model(r.model)))
    assert expected_cache(requests)["cached_tokens"] == cached > 0


def test_pools_are_built_to_size_and_reported(tmp_path: Path) -> None:
    raw = {**BASE, "n": 1000, "system_prompts": {"count": 3, "tokens": 120, "popularity": "zipf:1.5"},
           "documents": {"count": 6, "tokens": 200, "probability": 0.4}}
    spec = parse_spec(raw)
    requests = build_corpus(spec)
    systems = {r.messages[0]["content"] for r in requests}
    assert len(systems) == 3 and all(s.startswith(SYSTEM) for s in systems)
    model = next(iter(BASE["models"]))
    assert all(abs(count_tokens(s, model) - 120) <= 3 for s in systems)
    manifest = build_manifest(spec, spec.seed, requests)
    pc = manifest["prefix_cache"]
    assert pc["block_tokens"] == 16
    assert pc["system_prompts"] == {"requested": {"count": 3, "tokens": 120, "popularity": "zipf:1.5"},
                                    "achieved_distinct": 3}
    assert pc["documents"]["achieved_distinct"] == 6
    assert abs(pc["documents"]["achieved_probability"] - 0.4) < 0.06
    docs = [r for r in requests if r.messages[-1]["content"].startswith("Retrieved document D-")]
    assert all("\n\n" in r.messages[-1]["content"] for r in docs)
    plain = build_corpus(parse_spec({**BASE, "n": 1000}))
    assert pc["expected_cached_share"] > expected_cache(plain)["expected_cached_share"]


def test_cli_options_become_spec_keys_and_bad_ones_say_the_shape() -> None:
    assert synth_overrides(system_prompts="8:400:zipf:1.1", documents="50:800:0.5") == {
        "system_prompts": {"count": 8, "tokens": 400, "popularity": "zipf:1.1"},
        "documents": {"count": 50, "tokens": 800, "probability": 0.5}}
    with pytest.raises(SpecError, match=r"--documents: '50:800' is not COUNT:TOKENS:PROBABILITY"):
        synth_overrides(documents="50:800")
    with pytest.raises(SpecError, match="probability: 1.5 is not a valid probability"):
        parse_spec({**BASE, "documents": {"count": 2, "tokens": 10, "probability": 1.5}}, "x.yaml")
    with pytest.raises(SpecError, match="unknown key 'probability'"):
        parse_spec({**BASE, "system_prompts": {"count": 2, "tokens": 10, "probability": 0.5}}, "x.yaml")


def test_shared_prefix_counts_pool_prompts_as_shared() -> None:
    spec = parse_spec({**BASE, "n": 600, "shared_prefix": 0.5, "system_prompts": {"count": 3, "tokens": 80}})
    requests = build_corpus(spec)
    achieved = build_manifest(spec, spec.seed, requests)["shared_prefix"]["achieved"]
    referenced = sum(r.messages[0]["content"].startswith("[request ref ") for r in requests)
    assert achieved == 1 - referenced / 600
    assert abs(achieved - 0.5) < 0.07
