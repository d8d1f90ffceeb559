"""Multi-turn sessions: a user's open conversation, and the assistant replies its history is filled with.

A session keeps one model, one set of parameters and one prefix for all its turns; each turn's
request carries the whole history so far (user turns and generated replies), so its key is new.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from suite.tokens import encoding_for

Messages = list[dict[str, str]]


@dataclass
class Session:
    """A user's open conversation: its id, planned turns, fixed model/parameters and prefix, and the
    history so far (user turns and generated assistant replies)."""

    id: str
    turns: int
    params: tuple[str, int, float]
    prefix: Messages
    history: Messages
    done: int = 0


REPLY_WORDS = ("Sure", "the", "workflow", "ran", "at", "and", "finished", "without", "errors", "I",
               "checked", "its", "last", "executions", "status", "is", "currently", "approved", "pending",
               "you", "can", "retry", "it", "from", "the", "dashboard", "next", "step", "would", "be", "to",
               "review", "data")


def reply_text(tokens: int, rng: random.Random, model: str = "gpt-4o") -> str:
    """Plausible assistant prose of ``tokens`` tokens in ``model``'s real encoding (exact in nearly
    every case, else one token off; at least one word).

    The words are drawn first (``tokens`` of them, a fixed number of draws, so the stream stays in
    step whatever the text), then the longest cut whose text is at most ``tokens`` tokens is found,
    stepping a word at a time from an estimate (a reply word is about one token, plus a full stop per
    twelve words; every word is at least one token, so ``tokens`` words always reach the target).
    Adding a word can add two tokens (a new sentence's word and its full stop), so the cut, the next
    one, and both without their final full stop are compared, and the closest text is taken."""
    target = max(1, tokens)
    words = [rng.choice(REPLY_WORDS) for _ in range(target)]
    encode = encoding_for(model).encode_ordinary

    sizes: dict[int, int] = {}

    def size(k: int) -> int:
        if k not in sizes:
            sizes[k] = len(encode(_prose(words[:k])))
        return sizes[k]

    lo = min(target, max(1, round(target * 12 / 13)))
    if size(lo) <= target:
        while lo < target and size(lo + 1) <= target:
            lo += 1
    else:
        while lo > 1 and size(lo) > target:
            lo -= 1
    if size(lo) == target:
        return _prose(words[:lo])
    texts = [_prose(words[:k]) for k in range(lo, min(lo + 1, target) + 1)]
    texts += [t[:-1] for t in texts]
    return min(texts, key=lambda t: abs(len(encode(t)) - target))  # ties: the earliest listed


def _prose(words: list[str]) -> str:
    """Sentences of twelve words, capitalized and closed with a full stop."""
    return " ".join(" ".join(words[i:i + 12]).capitalize() + "." for i in range(0, len(words), 12))
