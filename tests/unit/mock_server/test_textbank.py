"""The text of answers: the sentence bank joins exactly, composing truncates, text variants are
deterministic prefixes of each other."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from mock_server.config import DEFAULT_PROFILES_PATH, load_profiles
from mock_server.textbank import (
    BANK_SIZE,
    MEMO_MAX_TOKENS,
    compose,
    composed,
    picks_for,
    sentence_bank,
    text_variant,
)
from mock_server.validate import ChatRequest, parse_chat_request
from suite.tokens import get_encoding

PROFILES = load_profiles(DEFAULT_PROFILES_PATH)


def request(model: str = "gpt-4o", text: str = "Tell me about caches.", **extra: Any) -> ChatRequest:
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    return parse_chat_request(orjson.dumps(body), PROFILES)


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


def test_text_variants_are_deterministic_and_prefixes_of_each_other() -> None:
    key = request().key
    assert text_variant(key, 0) == text_variant(key, 0) != text_variant(key, 1)
    short, long = composed("o200k_base", 5, 7), composed("o200k_base", 40, 7)
    assert long[0][:5] == short[0]
    assert long[1][:5] == short[1]
    # a kept head (<= MEMO_MAX_TOKENS) and a freshly composed long text agree on their prefix
    head, beyond = (composed("o200k_base", n, 7) for n in (MEMO_MAX_TOKENS, MEMO_MAX_TOKENS + 30))
    assert len(beyond[0]) == MEMO_MAX_TOKENS + 30
    assert beyond[0][:MEMO_MAX_TOKENS] == head[0]
    assert beyond[1][:MEMO_MAX_TOKENS] == head[1]
    # a kept head extended on demand gives the text composed at once, in either order
    for first, then in ((40, 5), (5, 40)):
        composed("o200k_base", first, 11 + first)
        fresh = compose(then, sentence_bank("o200k_base"), picks_for(str(11 + first), 0, "text"))
        assert composed("o200k_base", then, 11 + first) == (tuple(fresh[0]), tuple(fresh[1]))
    assert len({text_variant(request(text=f"q{i}").key, 0) for i in range(200)}) > 190
