"""Prompt tokens of many chat requests at once, counted as ``suite.tokens.count_chat_tokens`` does.

Rule: no text is tokenized twice. Prefix messages (system prompt, few-shot examples, history) are
counted once per (model, role, content) and remembered; the last message of every request is counted
one encoding at a time with ``encode_ordinary`` in a plain loop (measured here:
tiktoken's ``encode_ordinary_batch`` is 3-4x slower on short texts — a thread-pool task per text).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from suite.tokens import encoding_for

Messages = list[dict[str, str]]
FRAMING = 3  # tokens per message, and 3 more to prime the reply (OpenAI's documented count)


class PrefixMemo:
    """Token counts of whole messages, remembered per (model, role, content)."""

    def __init__(self) -> None:
        self.known: dict[tuple[str, str, str], int] = {}

    def text(self, model: str, value: str) -> int:
        """Tokens of a short repeated string such as a role name."""
        key = (model, "", value)
        if key not in self.known:
            self.known[key] = len(encoding_for(model).encode_ordinary(value))
        return self.known[key]

    def message(self, msg: dict[str, str], model: str) -> int:
        key = (model, msg["role"], msg["content"])
        if key not in self.known:
            enc = encoding_for(model)
            self.known[key] = FRAMING + sum(len(enc.encode_ordinary(v)) for v in msg.values()) + (
                1 if "name" in msg else 0)
        return self.known[key]


def count_prompts(requests: Sequence[tuple[str, Messages]], memo: PrefixMemo | None = None) -> list[int]:
    """Prompt tokens of each ``(model, messages)``."""
    memo = memo or PrefixMemo()
    totals = [FRAMING + sum(memo.message(m, model) for m in messages[:-1]) for model, messages in requests]
    by_model: dict[str, list[int]] = defaultdict(list)
    for i, (model, _) in enumerate(requests):
        by_model[model].append(i)
    for model, rows in by_model.items():
        last = [requests[i][1][-1] for i in rows]
        enc = encoding_for(model)
        encode = enc.encode_ordinary
        for i, msg in zip(rows, last, strict=True):
            tokens = encode(msg["content"])
            extra = sum(memo.text(model, v) for k, v in msg.items() if k != "content")
            totals[i] += FRAMING + len(tokens) + extra + (1 if "name" in msg else 0)
    return totals
