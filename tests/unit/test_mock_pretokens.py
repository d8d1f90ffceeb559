"""Counting from memoized pre-tokens gives tiktoken's count exactly."""

from __future__ import annotations

import random

import pytest

from mock_server import pretokens
from mock_server.pretokens import counter
from mock_server.textbank import sentence_bank
from suite.tokens import get_encoding

ATOMS = [*"abcxyzABCXYZ0123456789", " ", "  ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c",
         "\x1f", "\x00", "\x7f", "'", "'s", "'S", "'re", "'LL", "'d", "'t", "'m", "'ve", "?", "!",
         ".", ",", "-", "/", "//", "_", "#", '"', "(", ")", "How", " fast", " answer", "1234567",
         "e2e", "URL", "iPhone", "McDonald's", "x\n\ny", "é", "中文", "\u00a0", "\u2028"]


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_counts_equal_tiktoken_on_random_text(encoding: str) -> None:
    rng = random.Random(encoding)
    count, tiktoken_count = counter(encoding), get_encoding(encoding).encode_ordinary
    for _ in range(20_000):
        text = "".join(rng.choice(ATOMS) for _ in range(rng.randint(0, 30)))
        for _ in range(2):  # first sight, then from the memo
            assert count(text) == len(tiktoken_count(text)), repr(text)


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_counts_equal_tiktoken_on_the_mocks_own_sentences(encoding: str) -> None:
    bank = sentence_bank(encoding)
    text = "".join("".join(p.chunks) for p in bank.openers[:200])
    count, tiktoken_count = counter(encoding), get_encoding(encoding).encode_ordinary
    assert count(text[:500]) == len(tiktoken_count(text[:500]))
    assert count(text) == len(tiktoken_count(text))  # long: tiktoken's own path


def test_a_full_memo_still_counts_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pretokens, "MEMO_LIMIT", 2)
    counter.cache_clear()
    try:
        count, tiktoken_count = counter("o200k_base"), get_encoding("o200k_base").encode_ordinary
        for text in ("How fast can you answer? 1", "How fast can you answer? 2", "a b c d"):
            assert count(text) == len(tiktoken_count(text))
    finally:
        counter.cache_clear()
