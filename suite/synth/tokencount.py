"""Prompt tokens of many chat requests at once, counted as ``suite.tokens.count_chat_tokens`` does.

Rule: no text is tokenized twice. Every message is counted once per (model, role, content) and
remembered — prefix messages (system prompt, few-shot examples, history) and last messages alike, so
a user turn is not encoded again when it reappears in the next turn's history; the last messages are
counted one encoding at a time with ``encode_ordinary`` in a plain loop: tiktoken's
``encode_ordinary_batch`` is slower on short texts (a thread-pool task per text).
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
    """Prompt tokens of each ``(model, messages)``. The last messages are counted first and remembered,
    so a user turn that reappears in a later turn's history is not encoded again."""
    memo = memo or PrefixMemo()
    totals = [FRAMING] * len(requests)
    by_model: dict[str, list[int]] = defaultdict(list)
    for i, (model, _) in enumerate(requests):
        by_model[model].append(i)
    known = memo.known
    for model, rows in by_model.items():
        encode = encoding_for(model).encode_ordinary
        for i in rows:
            msg = requests[i][1][-1]
            if len(msg) == 2:  # role and content only, the usual case: the role's count is remembered
                key = (model, msg["role"], msg["content"])
                count = known.get(key)
                if count is None:
                    count = known[key] = FRAMING + len(encode(msg["content"])) + memo.text(model, msg["role"])
                totals[i] += count
            else:
                extra = sum(memo.text(model, v) for k, v in msg.items() if k != "content")
                totals[i] += FRAMING + len(encode(msg["content"])) + extra + (1 if "name" in msg else 0)
    message = memo.message
    for i, (model, messages) in enumerate(requests):
        if len(messages) > 1:
            totals[i] += sum(message(m, model) for m in messages[:-1])
    return totals
