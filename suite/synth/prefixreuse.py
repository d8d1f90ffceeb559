"""Prefix-reuse knobs: a pool of system prompts and a pool of retrieved documents that requests share.

A prefix cache (vLLM's automatic prefix caching, SGLang's RadixAttention, hosted prompt caching)
reuses the KV cache of a prompt's leading tokens; what it can reuse depends on how often the same
long prefix comes back. Two knobs make that controllable:

- ``system_prompts: {count: K, tokens: N, popularity: uniform|zipf:S}`` — K system prompts of about
  N tokens (the spec's system prompt, then a seeded operating profile); each conversation picks one.
- ``documents: {count: D, tokens: M, probability: P, popularity: uniform|zipf:S}`` — D documents of
  about M tokens; a fresh request carries one before its question with probability P (as a RAG
  application puts the retrieved text first and the question last).

Texts are drawn from their own seeded streams and sized with the first model's encoding; the
manifest reports the prefix share a cache could reuse, counted per model with real tokens.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Any

from suite.synth.context import WORDS
from suite.synth.repetition import Popularity, parse_popularity, parse_ratio
from suite.synth.streams import derive_seed
from suite.synth.validate import Where, check_keys, integer, mapping
from suite.tokens import encoding_for

SENTENCES_PER_PARAGRAPH = 4


@dataclass(frozen=True)
class PrefixPool:
    """``count`` texts of about ``tokens`` tokens, picked by ``popularity``; ``probability`` is the
    share of fresh requests that carry one (1 for system prompts)."""

    count: int
    tokens: int
    popularity: Popularity = Popularity()
    probability: float = 1.0

    def to_dict(self, with_probability: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"count": self.count, "tokens": self.tokens,
                               "popularity": self.popularity.to_value()}
        return {**out, "probability": self.probability} if with_probability else out

    def weights(self) -> list[int]:
        """Cumulative integer weights of the pool's texts (rank 1 = the first text)."""
        total, out = 0, []
        for rank in range(1, self.count + 1):
            total += self.popularity.weight(rank)
            out.append(total)
        return out


def parse_pool(raw: Any, where: Where, with_probability: bool) -> PrefixPool | None:
    """``{count, tokens, popularity?, probability?}`` (probability only for documents)."""
    if raw is None:
        return None
    shape = "{count: K, tokens: N, popularity: uniform" + (", probability: P}" if with_probability else "}")
    raw = mapping(raw, where, shape)
    required = {"count": "how many distinct texts the pool holds", "tokens": "tokens per text"}
    check_keys(raw, where, required, ("popularity", "probability") if with_probability else ("popularity",))
    count = integer(raw["count"], where.at("count"), "pool size", 1)
    tokens = integer(raw["tokens"], where.at("tokens"), "token count", 1)
    popularity = parse_popularity(raw.get("popularity", "uniform"), where.at("popularity"))
    probability = 1.0
    if with_probability:
        probability = parse_ratio(raw.get("probability", 1.0), where.at("probability"),
                                  "probability", upper_inclusive=True)
    return PrefixPool(count, tokens, popularity, probability)


def pool_option(name: str, text: str, with_probability: bool) -> dict[str, Any]:
    """``8:400`` / ``8:400:zipf:1.1`` (system prompts); ``50:800:0.5`` / ``50:800:0.5:zipf:1.1``
    (documents) → the spec mapping, validated later like the YAML."""
    from suite.errors import SpecError

    parts = text.strip().split(":")
    head = 3 if with_probability else 2
    shape = "COUNT:TOKENS:PROBABILITY[:zipf:S]" if with_probability else "COUNT:TOKENS[:zipf:S]"
    example = "50:800:0.5" if with_probability else "8:400:zipf:1.1"
    try:
        values: list[Any] = [int(parts[0]), int(parts[1])]
        if with_probability:
            values.append(float(parts[2]))
    except (ValueError, IndexError):
        raise SpecError(f"--{name}: {text!r} is not {shape} (e.g. {example}).") from None
    out: dict[str, Any] = {"count": values[0], "tokens": values[1]}
    if with_probability:
        out["probability"] = values[2]
    if len(parts) > head:
        out["popularity"] = ":".join(parts[head:])
    return out


def system_heads(pool: PrefixPool, system_prompt: str) -> list[str]:
    """The spec's system prompt, then the profile's number: the K prompts share their first tokens."""
    return [f"{system_prompt.rstrip()}\n\nOperating profile {k} of {pool.count}:\n"
            for k in range(1, pool.count + 1)]


def document_heads(pool: PrefixPool) -> list[str]:
    return [f"Retrieved document D-{k:04d}:\n" for k in range(1, pool.count + 1)]


def pool_texts(heads: list[str], tokens: int, model: str, rng: random.Random, tail: str = "") -> list[str]:
    """One text per head of about ``tokens`` tokens (in ``model``'s encoding): the head, then seeded
    prose cut to the token budget, then ``tail``."""
    enc = encoding_for(model)
    out = []
    for head in heads:
        need = tokens - len(enc.encode_ordinary(head))
        body: list[int] = []
        while len(body) < need:
            body += enc.encode_ordinary(_paragraph(rng))
        out.append(head + (enc.decode(body[:need]) if need > 0 else "") + tail)
    return out


def _paragraph(rng: random.Random) -> str:
    sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
                 for _ in range(SENTENCES_PER_PARAGRAPH)]
    return " ".join(sentences) + "\n"


class PoolPicker:
    """Draws a pool text by popularity from one seeded stream."""

    def __init__(self, pool: PrefixPool, texts: list[str], rng: random.Random) -> None:
        self.pool = pool
        self.texts = texts
        self.rng = rng
        self.cum = pool.weights()

    def pick(self) -> tuple[int, str]:
        """(index, text) of a drawn text."""
        i = bisect.bisect_right(self.cum, self.rng.randrange(self.cum[-1]))
        return i, self.texts[i]

    def maybe(self) -> str:
        """A drawn text with the pool's probability, else ""."""
        if self.pool.probability < 1 and self.rng.random() >= self.pool.probability:
            return ""
        return self.pick()[1]


SYSTEM_PROMPTS, DOCUMENTS = "system_prompts", "documents"  # also the names of their random streams


def picker(pool: PrefixPool | None, kind: str, system_prompt: str, model: str,
           seed: int) -> PoolPicker | None:
    """A picker over the pool's texts, drawn from the build's ``kind`` stream (None: the knob is not
    set, and no stream is touched). A document ends in a blank line, before the question."""
    if pool is None:
        return None
    rng = random.Random(derive_seed(seed, kind))
    system = kind == SYSTEM_PROMPTS
    heads = system_heads(pool, system_prompt) if system else document_heads(pool)
    return PoolPicker(pool, pool_texts(heads, pool.tokens, model, rng, "" if system else "\n\n"), rng)
