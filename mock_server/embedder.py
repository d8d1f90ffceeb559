"""The offline embedder of the semantic cache and of ``POST /v1/embeddings``: feature hashing.

A text becomes a bag of features — its lower-cased word unigrams (weight 1) and the character
trigrams of each word padded with spaces (weight 1/2, so "reset"/"resets" stay close) — each
hashed with crc32 into one of ``dims`` buckets with a hash-chosen sign (signed feature hashing:
collisions cancel out on average instead of adding similarity), then L2-normalized to float32.

Why this and not a neural model: it is deterministic, needs no weights or download, costs tens of
microseconds per text, and it is *lexical* — a paraphrase that keeps the words scores high, and
so does a hard negative that only changes an id ("order 1234" vs "order 5678"): exactly the
false hits a semantic cache must be judged on. Point ``--embeddings-url`` at a real model to
judge a real embedder instead.

Same text, same dims => the same vector, on every machine and run (crc32, no salted ``hash``).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from functools import lru_cache

import numpy as np

DIMS = 256  # the semantic cache's vector size (the mock's "llmsuite-ngram" embedding model)
WORD_WEIGHT = 1.0
GRAM_WEIGHT = 0.5
_WORDS = re.compile(r"\w+")


def features(text: str) -> dict[str, float]:
    """The weighted features of a text (word unigrams and padded character trigrams)."""
    out: dict[str, float] = {}
    for word in _WORDS.findall(text.lower()):
        out["w:" + word] = out.get("w:" + word, 0.0) + WORD_WEIGHT
        padded = f" {word} "
        for i in range(len(padded) - 2):
            gram = "c:" + padded[i:i + 3]
            out[gram] = out.get(gram, 0.0) + GRAM_WEIGHT
    return out


@lru_cache(maxsize=65_536)
def _word_slots(word: str, dims: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """A word's features as (bucket, signed weight) pairs: computed once per word and size."""
    padded = f" {word} "
    named = [("w:" + word, WORD_WEIGHT)] + [("c:" + padded[i:i + 3], GRAM_WEIGHT)
                                           for i in range(len(padded) - 2)]
    slots, values = [], []
    for feature, weight in named:
        h = zlib.crc32(feature.encode())
        slots.append(h % dims)
        values.append(weight if (h >> 31) & 1 else -weight)
    return tuple(slots), tuple(values)


def embed(text: str, dims: int = DIMS) -> np.ndarray:
    """The unit vector of ``text`` (float32, little-endian). A text without a single word
    character has no features: it gets a unit vector drawn from a generator seeded with its
    sha256 (equal texts equal, different ones unrelated)."""
    slots: list[int] = []
    values: list[float] = []
    for word in _WORDS.findall(text.lower()):
        s, w = _word_slots(word, dims)
        slots.extend(s)
        values.extend(w)
    v = np.bincount(slots, weights=values, minlength=dims) if slots else np.zeros(dims)
    norm = float(np.linalg.norm(v))
    if norm == 0:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
        v = np.random.default_rng(seed).standard_normal(dims)
        norm = float(np.linalg.norm(v))
    return (v / norm).astype("<f4")


def embed_many(texts: list[str], dims: int = DIMS) -> np.ndarray:
    """Row-stacked ``embed`` (shape ``(len(texts), dims)``)."""
    if not texts:
        return np.zeros((0, dims), dtype="<f4")
    return np.stack([embed(t, dims) for t in texts])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors (0.0 when either is all zeros)."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))
