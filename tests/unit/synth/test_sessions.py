"""Assistant replies in multi-turn history are sized with the model's real encoding."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from suite.synth import build_corpus, parse_spec
from suite.synth.sessions import reply_text
from suite.tokens import count_tokens

from .test_spec import BASE


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4", "gpt-3.5-turbo"])
@pytest.mark.parametrize("tokens", [2, 7, 12, 13, 40, 100, 160, 333])
def test_reply_has_the_target_token_count(model: str, tokens: int) -> None:
    for seed in range(5):
        text = reply_text(tokens, random.Random(seed), model)
        assert abs(count_tokens(text, model) - tokens) <= 1, (seed, text)
        assert text[0].isupper()
        assert text.split()[0].strip(".").isalpha()


def test_reply_is_deterministic_and_draws_a_fixed_number_of_words() -> None:
    a, b = random.Random(3), random.Random(3)
    assert reply_text(80, a, "gpt-4o") == reply_text(80, b, "gpt-4o")
    assert a.random() == b.random()
    c, d = random.Random(3), random.Random(3)
    reply_text(80, c, "gpt-4o")
    reply_text(80, d, "gpt-4")  # another encoding, maybe another cut, but the same draws
    assert c.getstate() == d.getstate()


def test_history_replies_have_the_requested_tokens_in_the_models_encoding() -> None:
    raw = {**BASE, "turns": {"choices": [3]}, "users": 3, "reply_tokens": {"choices": [25, 90]}}
    requests = build_corpus(replace(parse_spec(raw, "r.yaml"), n=30), 1)
    replies = [(r.model, m["content"]) for r in requests for m in r.messages if m["role"] == "assistant"]
    assert replies
    for model, text in replies:
        assert min(abs(count_tokens(text, model) - t) for t in (25, 90)) <= 1, text
