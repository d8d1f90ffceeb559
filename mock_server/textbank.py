"""The text of the mock's answers: a fixed vocabulary, pre-tokenized sentences, and the kept
heads of the ``TEXT_VARIANTS`` texts that answers are cut from — so planning a completion costs
list joins and slices instead of tokenizing.

Vocabulary: fixed on purpose. The text is a pure function of the seeded picks, so changing a
word list changes every planned completion (and should be done knowingly). ASCII only, so every
token decodes to a whole string and the streamed chunks join to exactly the decoded text.

Sentence bank: ``BANK_SIZE`` sentences built once per encoding from the vocabulary with a fixed
seed. Each sentence is tokenized twice: as an opener ("The ...") and as a continuation
(" The ..."). Joining pieces is exact: tiktoken's pre-tokenizer always splits before a space
that follows sentence punctuation, so the tokens of the joined text are the joined tokens (a unit
test checks this for every sentence).

Text variants (capacity rule: a MISS must stay cheap): the text of a request is one of
``TEXT_VARIANTS`` texts per (encoding, length), chosen by sha256(seed, key); each variant's head is
composed once and kept (and recent slices of it shared), so a miss usually costs a cached slice
instead of composing sentences. Picks come from sha256 blocks, never the global ``random``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import count

from suite.tokens import get_encoding

BANK_SIZE = 1024  # a power of two: 16-bit picks map onto it uniformly
BANK_SEED = 1  # changing it changes every planned text, on purpose only
TEXT_VARIANTS = 4096  # distinct texts per (encoding, length): collisions are rare, caching works
MEMO_MAX_TOKENS = 256  # longer texts are composed each time (bounds the kept heads' memory)

DETERMINERS = ("the", "a", "this", "each", "every", "our", "that", "one")
ADJECTIVES = (
    "simple", "careful", "stable", "recent", "common", "useful", "clear", "small", "large",
    "new", "early", "final", "main", "public", "local", "quick", "slow", "strong", "better",
    "shared", "typical", "reliable", "modern", "practical", "specific", "general", "direct",
    "helpful", "hidden", "open", "complete", "basic", "key", "extra", "previous", "next",
)
NOUNS = (
    "system", "process", "request", "answer", "model", "result", "method", "question", "team",
    "service", "record", "value", "change", "report", "plan", "step", "user", "customer",
    "server", "cache", "policy", "budget", "project", "design", "version", "option", "feature",
    "problem", "solution", "example", "summary", "document", "message", "account", "order",
    "product", "market", "network", "database", "test", "release", "schedule", "review",
    "decision", "detail", "metric", "pattern", "workflow", "query", "session", "response",
    "approach", "reason", "source", "context", "limit", "window", "estimate",
)
VERBS = (
    "improves", "changes", "explains", "supports", "reduces", "checks", "describes", "follows",
    "needs", "shows", "handles", "updates", "returns", "keeps", "measures", "covers", "builds",
    "uses", "compares", "tracks", "limits", "creates", "reviews", "starts", "requires",
    "includes", "answers", "moves", "avoids", "confirms", "extends", "matches", "sends",
)
PREPOSITIONS = ("for", "with", "in", "on", "after", "before", "during", "without", "from",
                "across", "under", "through")
CONNECTIVES = ("and", "but", "so", "while", "because", "although")
OPENERS = ("In practice,", "For example,", "As a result,", "In short,", "However,", "First,",
           "Then,", "Finally,", "In most cases,", "To be clear,")


def noun_phrase(rng: random.Random) -> list[str]:
    words = [rng.choice(DETERMINERS)]
    if rng.random() < 0.5:
        words.append(rng.choice(ADJECTIVES))
    words.append(rng.choice(NOUNS))
    return words


def clause(rng: random.Random) -> list[str]:
    words = [*noun_phrase(rng), rng.choice(VERBS), *noun_phrase(rng)]
    if rng.random() < 0.5:
        words += [rng.choice(PREPOSITIONS), *noun_phrase(rng)]
    return words


def sentence(rng: random.Random) -> str:
    """One sentence such as "In practice, the simple system improves a request for each user." """
    words = clause(rng)
    if rng.random() < 0.3:
        words += [rng.choice(CONNECTIVES), *clause(rng)]
    if rng.random() < 0.3:
        words = [*rng.choice(OPENERS).split(), *words]
    else:
        words[0] = words[0].capitalize()
    return " ".join(words) + "."


@dataclass(frozen=True)
class Piece:
    tokens: tuple[int, ...]
    chunks: tuple[str, ...]  # each token decoded on its own (ASCII: always whole characters)


@dataclass(frozen=True)
class SentenceBank:
    openers: tuple[Piece, ...]
    continuations: tuple[Piece, ...]


def _piece(text: str, encoding: str) -> Piece:
    enc = get_encoding(encoding)
    tokens = enc.encode_ordinary(text)
    return Piece(tuple(tokens), tuple(b.decode("utf-8") for b in enc.decode_tokens_bytes(tokens)))


@cache
def sentence_bank(encoding: str) -> SentenceBank:
    rng = random.Random(BANK_SEED)
    texts = [sentence(rng) for _ in range(BANK_SIZE)]
    return SentenceBank(tuple(_piece(t, encoding) for t in texts),
                        tuple(_piece(" " + t, encoding) for t in texts))


def extend(tokens: list[int], chunks: list[str], n: int, bank: SentenceBank,
           picks: Iterator[int]) -> None:
    """Append sentences chosen by ``picks`` (an opener first) until there are >= ``n`` tokens.
    Extending a text later with the same ``picks`` gives the text composed at once."""
    while len(tokens) < n:
        piece = (bank.continuations if tokens else bank.openers)[next(picks) % BANK_SIZE]
        tokens += piece.tokens
        chunks += piece.chunks


def compose(n: int, bank: SentenceBank, picks: Iterator[int]) -> tuple[list[int], list[str]]:
    """The first ``n`` tokens (and their chunks) of sentences chosen by ``picks``."""
    tokens: list[int] = []
    chunks: list[str] = []
    extend(tokens, chunks, n, bank, picks)
    return tokens[:n], chunks[:n]


def picks_for(key: str, seed: int, stream: str) -> Iterator[int]:
    """Endless 16-bit values from sha256(seed, key, stream, block) — cheaper than seeding a
    Random when only a few choices are needed."""
    for block in count():
        digest = hashlib.sha256(f"{seed}:{key}:{stream}:{block}".encode()).digest()
        for i in range(0, len(digest), 2):
            yield (digest[i] << 8) | digest[i + 1]


def text_variant(key: str, seed: int) -> int:
    """Which text a request gets. The key is already sha256 hex (uniform), so its first 8 hex
    digits, scrambled by the seed, pick the variant without hashing again."""
    return (int(key[:8], 16) ^ (seed * 0x9E3779B1)) % TEXT_VARIANTS


class _Head:
    """The tokens of one text variant composed so far, and where its picks stand. Held as
    tuples of ints and strs, which the cyclic GC stops tracking: thousands of kept heads cost
    no collection time."""

    __slots__ = ("chunks", "picks", "tokens")

    def __init__(self, variant: int) -> None:
        self.tokens: tuple[int, ...] = ()
        self.chunks: tuple[str, ...] = ()
        self.picks = picks_for(str(variant), 0, "text")

    def grow(self, n: int, bank: SentenceBank) -> None:
        tokens, chunks = list(self.tokens), list(self.chunks)
        extend(tokens, chunks, n, bank, self.picks)
        self.tokens, self.chunks = tuple(tokens), tuple(chunks)


_heads: dict[tuple[str, int], _Head] = {}  # at most TEXT_VARIANTS per encoding, <= ~4 KB each


def composed(encoding: str, n: int, variant: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The first ``n`` tokens of text variant ``variant`` (texts of one variant are prefixes of
    each other, whatever ``n``). Each variant's head is kept and only ever extended, up to
    ``MEMO_MAX_TOKENS``, and recent (length, variant) slices of it are kept too: answers of the
    same length and variant share one pair of tuples, so making (and, once the response cache
    evicts it, freeing) a completion touches two objects instead of every token and chunk. A long
    answer is composed each time — it is paced, so its CPU cost is spread anyway."""
    if n > MEMO_MAX_TOKENS:
        tokens, chunks = compose(n, sentence_bank(encoding), picks_for(str(variant), 0, "text"))
        return tuple(tokens), tuple(chunks)
    return _head_slice(encoding, n, variant)


@lru_cache(maxsize=2 * TEXT_VARIANTS)
def _head_slice(encoding: str, n: int, variant: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    head = _grown(encoding, n, variant)
    return head.tokens[:n], head.chunks[:n]


def _grown(encoding: str, n: int, variant: int) -> _Head:
    """The variant's head, at least ``n`` tokens long."""
    head = _heads.get((encoding, variant))
    if head is None:
        head = _heads[(encoding, variant)] = _Head(variant)
    if len(head.tokens) < n:
        head.grow(n, sentence_bank(encoding))
    return head


def warm_heads(encoding: str, n: int) -> None:
    """Compose every text variant's head up to ``n`` tokens now (start-up), so the first
    thousands of misses cost what later ones do."""
    for variant in range(TEXT_VARIANTS):
        _grown(encoding, n, variant)
