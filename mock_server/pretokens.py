"""Exact token counts of short ASCII texts, without running tiktoken's regex engine per request.

Why: a cache miss must count its new prompt's tokens (``usage.prompt_tokens`` is truthful), and in
a busy server tiktoken's call costs ~20 µs although the same call takes ~5 µs in a warm loop — its
regex automaton's state is cold by the time the next request comes. Prompts repeat their words
(templates, slots, counters), so this splits an ASCII text into tiktoken's own pre-tokens with
Python's ``re`` (the same patterns, written for ASCII) and adds up each pre-token's count, kept in
a bounded memo. BPE never merges across pre-tokens, so the sum is tiktoken's count exactly; a unit
test holds the two equal on random ASCII text (letters of both cases, contractions, digit runs,
punctuation, every ASCII whitespace) for both encodings. Anything else (non-ASCII, long texts, an
encoding without a pattern here) is counted by tiktoken itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from suite.tokens import get_encoding

W = r"[\t\n\x0b\x0c\r ]"  # tiktoken's \s on ASCII (Python's \s would add \x1c-\x1f)
NOT_W = r"[^\t\n\x0b\x0c\r ]"
# tiktoken's patterns with \p{L} -> A-Za-z, \p{N} -> 0-9 (\p{Lu} etc. -> A-Z / a-z); cl100k's
# possessive quantifiers become greedy ones (no alternative can backtrack into them, so the
# pieces are the same) and its $ becomes \Z (Python's $ would also match before a final \n).
PATTERNS = {
    "o200k_base": (
        r"[^\r\nA-Za-z0-9]?[A-Z]*[a-z]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        r"|[^\r\nA-Za-z0-9]?[A-Z]+[a-z]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        r"|[0-9]{1,3}"
        rf"| ?[^\t\n\x0b\x0c\r A-Za-z0-9]+[\r\n/]*"
        rf"|{W}*[\r\n]+"
        rf"|{W}+(?!{NOT_W})"
        rf"|{W}+"
    ),
    "cl100k_base": (
        r"'(?i:[sdmt]|ll|ve|re)"
        r"|[^\r\nA-Za-z0-9]?[A-Za-z]+"
        r"|[0-9]{1,3}"
        rf"| ?[^\t\n\x0b\x0c\r A-Za-z0-9]+[\r\n]*"
        rf"|{W}+\Z"
        rf"|{W}*[\r\n]"
        rf"|{W}+(?!{NOT_W})"
        rf"|{W}"
    ),
}
MAX_CHARS = 512  # longer texts: tiktoken's own loop beats a Python one
MEMO_LIMIT = 1 << 16  # pre-tokens remembered per encoding


@cache
def counter(encoding: str) -> Callable[[str], int]:
    """``len(encoding.encode_ordinary(text))`` for any ``text``, cheaper on short ASCII ones."""
    enc = get_encoding(encoding)
    full = enc.encode_ordinary
    pattern = PATTERNS.get(encoding)
    if pattern is None:
        return lambda text: len(full(text))
    findall = re.compile(pattern).findall
    piece_tokens = enc._core_bpe.encode_single_piece  # one pre-token's BPE, no regex
    memo: dict[str, int] = {}

    def count(text: str) -> int:
        if len(text) > MAX_CHARS or not text.isascii():
            return len(full(text))
        pieces = findall(text)
        try:
            return sum(map(memo.__getitem__, pieces))
        except KeyError:
            total = 0
            for piece in pieces:
                n = memo.get(piece)
                if n is None:
                    n = len(piece_tokens(piece.encode()))
                    if len(memo) < MEMO_LIMIT:
                        memo[piece] = n
                total += n
            return total

    return count
