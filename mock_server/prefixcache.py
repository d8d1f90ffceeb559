"""Prompt-prefix (KV) caching, modelled the way vLLM's automatic prefix caching works: a prompt is
cut into blocks of ``block_tokens`` real tokens, block i is named by a hash chained over blocks
0..i (so a block matches only when everything before it matches too), only full blocks are kept,
and the blocks live in an LRU bounded by ``capacity_tokens``.

Why a model and not a flag: what a prefix cache saves depends on what else ran before (capacity,
eviction order, block rounding), and those are the effects a benchmark of a real server sees —
``cached_tokens`` is a multiple of the block size, a prompt whose whole length is cached still
computes its last token (vLLM recomputes at least one, so a block-aligned repeat reports one
block less), and a long enough stream of other prompts evicts a shared prefix.

The token sequence is the one ``answer.chat_prompt_tokens`` counts: each message is 3 framing
tokens then its string fields' real tokens (1 more for a ``name``), and the reply is primed by 3
tokens at the end; framing tokens, which tiktoken has no ids for, are negative sentinel ids. So
``len(prompt_ids(...)) == prompt_tokens`` always (a unit test holds it).

Eviction order follows vLLM's free queue: after a request, its blocks are touched tail first, so
a request's last blocks are evicted before its first ones (the shared head of many prompts
outlives the tails). Blocks are admitted when the request is planned (its prefill), so a twin
arriving during the first one's prefill already hits: a simplification (vLLM shares only
computed blocks). State is per process: with ``llmsuite mock --workers N`` each worker has its own
prefix cache, as each replica of a real deployment has its own KV cache.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from suite.tokens import get_encoding

FRAME, NAME, PRIME = -1, -2, -3  # token ids of the framing tokens tiktoken has no id for
MEMO_MAX_CHARS = 65_536  # strings up to this length have their ids memoized (system prompts, docs)


@dataclass(frozen=True)
class PrefixSpec:
    """A profile's ``prefix_cache: {block_tokens, capacity_tokens}``."""

    block_tokens: int
    capacity_tokens: int

    @property
    def capacity_blocks(self) -> int:
        return self.capacity_tokens // self.block_tokens


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def prefix_spec(raw: Mapping[str, Any]) -> PrefixSpec:
    """Validate a profile's prefix_cache mapping; ValueError says which field and the rule."""
    unknown = sorted(set(raw) - {"block_tokens", "capacity_tokens"})
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown field; known: block_tokens, capacity_tokens")
    block = raw.get("block_tokens", 16)
    if not _count(block) or not 1 <= block <= 4096:
        raise ValueError(f"block_tokens: {block!r} is not valid (must be an integer from 1 to 4096; "
                         "vLLM's default is 16)")
    capacity = raw.get("capacity_tokens")
    if not _count(capacity) or capacity < block:
        raise ValueError(f"capacity_tokens: {capacity!r} is not valid (must be an integer >= "
                         f"block_tokens ({block}): the KV cache's size in tokens)")
    return PrefixSpec(block, capacity)


@cache
def _encoder(encoding: str) -> Callable[[str], list[int]]:
    return get_encoding(encoding).encode_ordinary


@lru_cache(maxsize=1024)
def _memo_ids(encoding: str, text: str) -> tuple[int, ...]:
    return tuple(_encoder(encoding)(text))


def text_ids(encoding: str, text: str) -> tuple[int, ...] | list[int]:
    """The real token ids of one string (memoized when short enough to be a shared prefix)."""
    if len(text) > MEMO_MAX_CHARS:
        return _encoder(encoding)(text)
    return _memo_ids(encoding, text)


def prompt_ids(messages: list[dict[str, str]], encoding: str) -> list[int]:
    """The chat prompt as the token sequence ``chat_prompt_tokens`` counts (see module doc)."""
    ids: list[int] = []
    for msg in messages:
        ids += (FRAME, FRAME, FRAME)
        for name, value in msg.items():
            if isinstance(value, str):
                ids += text_ids(encoding, value)
            if name == "name":
                ids.append(NAME)
    ids += (PRIME, PRIME, PRIME)
    return ids


def block_hashes(ids: list[int], block_tokens: int) -> list[int]:
    """Chained hash of every full block: block i's covers blocks 0..i. Python's hash of a tuple of
    ints is the same in every process (no hash randomization for ints), 64 bits wide."""
    out: list[int] = []
    parent = 0
    for start in range(0, len(ids) - block_tokens + 1, block_tokens):
        parent = hash((parent, tuple(ids[start:start + block_tokens])))
        out.append(parent)
    return out


class PrefixCache:
    """The LRU of one model's cached blocks (keys: chained block hashes)."""

    def __init__(self, spec: PrefixSpec) -> None:
        self.spec = spec
        self.blocks: OrderedDict[int, None] = OrderedDict()

    def admit(self, ids: list[int]) -> int:
        """Cached prefix length in tokens of this prompt, then its full blocks cached (LRU).
        At most ``len(ids) - 1`` tokens count as cached: the last one is always computed."""
        hashes = block_hashes(ids, self.spec.block_tokens)
        usable = max(0, (len(ids) - 1) // self.spec.block_tokens)
        hit = 0
        for h in hashes[:usable]:
            if h not in self.blocks:
                break
            hit += 1
        self._touch(reversed(hashes))
        return hit * self.spec.block_tokens

    def _touch(self, tail_first: Iterable[int]) -> None:
        blocks = self.blocks
        for h in tail_first:
            if h in blocks:
                blocks.move_to_end(h)
            else:
                blocks[h] = None
        while len(blocks) > self.spec.capacity_blocks:
            blocks.popitem(last=False)

    def clear(self) -> int:
        n = len(self.blocks)
        self.blocks.clear()
        return n


def prefix_caches(specs: Mapping[str, PrefixSpec | None]) -> dict[str, PrefixCache]:
    """One cache per model whose profile has a ``prefix_cache`` (per app, never global)."""
    return {name: PrefixCache(spec) for name, spec in specs.items() if spec is not None}
