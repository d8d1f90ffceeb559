"""Near-duplicates: the same intent and slot values, a different surface.

A paraphrase rewrites the *template* (its literal text only; ``{slot}`` references are kept) and is
then filled with the original's slot values, so the values survive verbatim while the wording,
case, spacing, punctuation or clause order changes. An exact-match cache misses it; a normalizing
or semantic cache can hit it. Each transform is a table entry; a paraphrase applies one to three.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping

PLACEHOLDER = re.compile(r"(\{\w+\})")
SENTENCE_BREAK = re.compile(r"(?<=[.?!])\s+(?=[A-Z{])")
# Word-level synonyms (lower case, whole words); the first match in a template is replaced.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "what's": ("what is",),
    "show me": ("give me", "list"),
    "show": ("display", "list"),
    "tell me": ("let me know",),
    "can you": ("could you", "would you"),
    "why": ("for what reason",),
    "current": ("present", "latest"),
    "status": ("state",),
    "failed": ("went wrong",),
    "fail": ("break",),
    "how many": ("what number of",),
    "last": ("most recent",),
    "compare": ("contrast",),
    "explain": ("describe",),
    "is": ("is it true that",),
    "which": ("what",),
    "give me": ("send me", "show me"),
    "right now": ("at the moment", "currently"),
    "draft": ("write",),
    "short": ("brief",),
    "slow": ("sluggish",),
    "summarise": ("sum up",),
}
SYNONYM_PATTERN = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(SYNONYMS, key=len, reverse=True))
                             + r")\b", re.IGNORECASE)


def _literals(template: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to the literal parts of a template, leaving ``{slot}`` references intact."""
    parts = PLACEHOLDER.split(template)
    return "".join(p if i % 2 else change(p) for i, p in enumerate(parts))


def case(template: str, rng: random.Random) -> str:
    style = rng.choice((str.lower, str.upper, str.swapcase))
    return _literals(template, style)


def whitespace(template: str, rng: random.Random) -> str:
    spaced = _literals(template, lambda s: s.replace(" ", rng.choice(("  ", " ", "\t", " \n "))))
    return rng.choice(("  ", "\n", "")) + spaced + rng.choice(("  ", " \n", "\n\n"))


def punctuation(template: str, rng: random.Random) -> str:
    stripped = template.rstrip()
    core = stripped.rstrip("?.!")
    tail = rng.choice(("", "??", "!", " ?", "...", "?!"))
    if tail == stripped[len(core):]:
        tail = tail + "."
    return _literals(core, lambda s: s.replace(",", "").replace(" - ", ", ")) + tail


def synonyms(template: str, rng: random.Random) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        repl = rng.choice(SYNONYMS[word.lower()])
        return repl[0].upper() + repl[1:] if word[0].isupper() else repl

    return _literals(template, lambda s: SYNONYM_PATTERN.sub(swap, s, count=1))


def clause_order(template: str, rng: random.Random) -> str:
    """Swap two sentences when there are two; otherwise move a courtesy clause around the question."""
    sentences = SENTENCE_BREAK.split(template.strip())
    if len(sentences) > 1:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
        return " ".join(sentences)
    courtesy = rng.choice(("please", "thanks", "quick question"))
    if rng.random() < 0.5:
        return f"{courtesy.capitalize()}: {template.strip()}"
    return f"{template.strip()} ({courtesy})"


TRANSFORMS: dict[str, Callable[[str, random.Random], str]] = {
    "case": case,
    "whitespace": whitespace,
    "punctuation": punctuation,
    "synonyms": synonyms,
    "clause_order": clause_order,
}
TRANSFORM_NAMES = tuple(sorted(TRANSFORMS))


def _some(items: tuple[str, ...], k: int, rng: random.Random) -> list[str]:
    """``k`` distinct items in random order (a partial Fisher-Yates shuffle; ``rng.sample`` costs 3x)."""
    pool = list(items)
    for i in range(k):
        j = i + int(rng.random() * (len(pool) - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


def paraphrase(template: str, values: Mapping[str, str], rng: random.Random) -> str:
    """A near-duplicate of ``template.format_map(values)``: 1–3 transforms, slot values unchanged."""
    names = _some(TRANSFORM_NAMES, 1 + int(rng.random() * 3), rng)
    # Clause order first: it works on sentences, which case and spacing would disguise.
    for name in sorted(names, key=lambda n: n != "clause_order"):
        template = TRANSFORMS[name](template, rng)
    return template.format_map(values)


def normalize(text: str) -> str:
    """What a normalizing cache might key on: lower case, no punctuation, single spaces."""
    return " ".join(re.sub(r"[^\w\s€$£%-]", " ", text.lower()).split())
