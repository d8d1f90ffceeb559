"""Pre-tokenized sentences, so planning a completion costs list joins instead of tokenizing.

A bank of ``BANK_SIZE`` sentences is built once per encoding from the fixed vocabulary with a fixed
seed. Each sentence is tokenized twice: as an opener ("The ...") and as a continuation
(" The ..."). Joining pieces is exact: tiktoken's pre-tokenizer always splits before a space
that follows sentence punctuation, so the tokens of the joined text are the joined tokens (a unit
test checks this for every sentence).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from mock_server.vocab import sentence
from suite.tokens import get_encoding

BANK_SIZE = 1024  # a power of two: 16-bit picks map onto it uniformly
BANK_SEED = 1  # changing it changes every planned text, on purpose only


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
