"""The prompt-token share a prefix cache could serve from cache when a corpus is replayed in order.

A prefix cache (vLLM's automatic prefix caching) hashes a prompt's tokens in blocks of 16 and reuses
a block's KV cache when the same block, after the same preceding blocks, was computed before. So a
request's cached prefix is the run of its leading full blocks that an earlier request of the same
model already had; a partial last block is never cached, and the prompt's last token is always
computed (a block-aligned exact repeat caches one block less). This module counts that with real
tiktoken tokens, per model (caches are per model), for an unbounded cache (nothing is evicted: an
LRU of finite capacity caches less). It is the figure a measured ``cached_tokens`` share is
compared against.

Token sequence of a chat prompt, the one the mock's prefix cache uses (mock_server.prefixcache)
and ``prompt_tokens`` counts, so ``len(prompt_ids(...)) == prompt_tokens``: per message, 3 framing
tokens then the real tokens of its string fields in order (role, content; 1 more for a ``name``),
then 3 tokens priming the reply; the framing tokens are negative ids no text can produce.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from suite.records import CorpusRequest
from suite.tokens import encoding_for

BLOCK_TOKENS = 16  # vLLM's default KV-cache block size
FRAME, NAME, PRIME = -1, -2, -3  # ids of the framing tokens, which have no text
CACHE = ("unbounded: a block stays cached once computed (an LRU of finite capacity caches less); "
         "per model; only full blocks after identical preceding blocks, and never the last token")
TOKENS = ("per message 3 framing tokens, then the tiktoken ids of role and content (1 more for a "
          "name); 3 reply-priming tokens at the end: prompt_tokens long, as the mock's prefix cache")
Messages = list[dict[str, Any]]


class TokenMemo:
    """Token ids of each plain {role, content} message, encoded once per (model, role, content)."""

    def __init__(self) -> None:
        self.known: dict[tuple[str, str, str], list[int]] = {}

    def message(self, model: str, msg: dict[str, Any]) -> list[int]:
        if len(msg) != 2 or not isinstance(msg.get("content"), str):
            return message_ids(model, msg)
        key = (model, str(msg.get("role", "")), msg["content"])
        ids = self.known.get(key)
        if ids is None:
            ids = self.known[key] = message_ids(model, msg)
        return ids


def message_ids(model: str, msg: dict[str, Any]) -> list[int]:
    """3 framing tokens, then the ids of each string field in order (1 more for a ``name``)."""
    encode = encoding_for(model).encode_ordinary
    ids = [FRAME, FRAME, FRAME]
    for name, value in msg.items():
        if isinstance(value, str):
            ids += encode(value)
        if name == "name":
            ids.append(NAME)
    return ids


def prompt_ids(model: str, messages: Messages, memo: TokenMemo | None = None) -> list[int]:
    """The prompt's token sequence as this module defines it (see the module's docstring)."""
    memo = memo or TokenMemo()
    return [t for m in messages for t in memo.message(model, m)] + [PRIME, PRIME, PRIME]


def block_hashes(ids: Sequence[int], block: int = BLOCK_TOKENS) -> list[int]:
    """One hash per full block, each chained on the one before (a block is the same only after the
    same prefix), as vLLM's prefix cache keys its blocks. Python's hash of a tuple of ints is the
    same in every process (no hash randomization for ints)."""
    out, parent = [], 0
    for start in range(0, len(ids) - block + 1, block):
        parent = hash((parent, tuple(ids[start:start + block])))
        out.append(parent)
    return out


def cached_prefix(hashes: Sequence[int], length: int, seen: set[int], block: int = BLOCK_TOKENS) -> int:
    """Tokens of the leading blocks already in ``seen``, for a prompt ``length`` tokens long (its
    last token is always computed, so at most ``(length - 1) // block`` blocks count)."""
    n = 0
    for h in hashes[:max(0, (length - 1) // block)]:
        if h not in seen:
            break
        n += 1
    return n * block


def expected_cache(requests: Sequence[CorpusRequest], block: int = BLOCK_TOKENS) -> dict[str, Any]:
    """The manifest's ``prefix_cache`` section: the cached-token share overall and per model, when the
    corpus is sent in order to a cache that starts empty. An exact repeat (``repeat_of``) has all
    its full blocks cached (the same tokens as its original, already seen)."""
    memo = TokenMemo()
    seen: dict[str, set[int]] = defaultdict(set)
    cached: dict[str, int] = defaultdict(int)
    prompt: dict[str, int] = defaultdict(int)
    hits = 0
    for r in requests:
        prompt[r.model] += r.prompt_tokens
        if r.repeat_of is not None:
            got = (max(0, r.prompt_tokens - 1) // block) * block
        else:
            ids = prompt_ids(r.model, r.messages, memo)
            hashes = block_hashes(ids, block)
            got = cached_prefix(hashes, len(ids), seen[r.model], block)
            seen[r.model].update(hashes)
        cached[r.model] += got
        hits += got > 0
    return {"block_tokens": block, "cache": CACHE, "tokens": TOKENS,
            "expected_cached_share": _share(sum(cached.values()), sum(prompt.values())),
            "cached_tokens": sum(cached.values()), "prompt_tokens": sum(prompt.values()),
            "requests_with_cached_prefix": _share(hits, len(requests)),
            "per_model": {m: {"expected_cached_share": _share(cached[m], prompt[m]),
                              "cached_tokens": cached[m], "prompt_tokens": prompt[m]}
                          for m in sorted(prompt)}}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None
