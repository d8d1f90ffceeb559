"""Multi-turn sessions: a user's open conversation, and the assistant replies its history is filled with.

A session keeps one model, one set of parameters and one prefix for all its turns; each turn's
request carries the whole history so far (user turns and generated replies), so its key is new.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

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


def reply_text(tokens: int, rng: random.Random) -> str:
    """Plausible assistant prose of about ``tokens`` tokens (≈ 0.8 words per token)."""
    words = [rng.choice(REPLY_WORDS) for _ in range(max(1, round(tokens * 0.8)))]
    sentences = [" ".join(words[i:i + 12]).capitalize() + "." for i in range(0, len(words), 12)]
    return " ".join(sentences)
