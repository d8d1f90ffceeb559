"""How hard a corpus is for a semantic cache: lexical similarity of paraphrase pairs vs hard-negative pairs.

A semantic cache should hit a paraphrase (``variant_of``: same question, other words) and must not
hit a hard negative (``near_miss_of``: same words, another question). When hard negatives are
lexically *closer* to their originals than paraphrases are, no threshold on surface similarity
separates the two: that is what makes a corpus hard. The measure is deliberately simple and
stated in the manifest: the cosine of character 3-gram counts of the question — the last user
message after its last blank line, so a retrieved document or generated context in front of it
(the same in both requests of a pair) does not push every pair to 1 — lower-cased with whitespace
collapsed (close to what a hashed character n-gram embedder sees).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from suite.records import CorpusRequest

NGRAM = 3
MEASURE = ("cosine of character 3-gram counts of the question: the last user message after its last "
           "blank line (lower case, whitespace collapsed)")
BIN_EDGES = tuple(round(0.1 * i, 1) for i in range(11))  # [0, 0.1), ..., [0.9, 1.0]


def _grams(text: str) -> Counter[str]:
    flat = " ".join(text.lower().split())
    if len(flat) < NGRAM:
        return Counter([flat])
    return Counter(flat[i:i + NGRAM] for i in range(len(flat) - NGRAM + 1))


def cosine(a: str, b: str) -> float:
    """Cosine similarity of the two texts' character 3-gram count vectors (1 = same multiset)."""
    ga, gb = _grams(a), _grams(b)
    dot = sum(n * gb[g] for g, n in ga.items() if g in gb)
    norm = math.sqrt(sum(n * n for n in ga.values()) * sum(n * n for n in gb.values()))
    return dot / norm if norm else 0.0


def question(request: CorpusRequest) -> str:
    """The last user message after its last blank line (what follows any document or context)."""
    content = request.messages[-1].get("content", "")
    if not isinstance(content, str):
        content = " ".join(str(p.get("text", "")) for p in content)
    parts = [p for p in content.split("\n\n") if p.strip()]
    return parts[-1] if parts else content


def pair_similarities(requests: Sequence[CorpusRequest], field: str) -> list[float]:
    """The similarity of each request whose ``field`` (variant_of or near_miss_of) names another
    request of the corpus to that request, in corpus order."""
    by_id = {r.id: r for r in requests}
    out = []
    for r in requests:
        other = getattr(r, field)
        if other is not None and other in by_id:
            out.append(round(cosine(question(by_id[other]), question(r)), 6))
    return out


def histogram(values: Sequence[float]) -> list[int]:
    """Counts per ``BIN_EDGES`` bin (the last bin includes 1.0)."""
    counts = [0] * (len(BIN_EDGES) - 1)
    for v in values:
        counts[min(int(v * 10), len(counts) - 1)] += 1
    return counts


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Pairs, p10/p50/p90 (numpy's linear interpolation; None without pairs) and histogram counts."""
    if not values:
        return {"pairs": 0, "p10": None, "p50": None, "p90": None, "counts": histogram(values)}
    arr = np.asarray(values, dtype=float)
    qs = {f"p{q}": round(float(np.percentile(arr, q)), 4) for q in (10, 50, 90)}
    return {"pairs": len(values), **qs, "counts": histogram(values)}


def lexical_similarity(requests: Sequence[CorpusRequest]) -> dict[str, Any]:
    """The manifest's (and ``corpus stats``') similarity section: the measure, the bins, and the
    spread of paraphrase pairs and hard-negative pairs."""
    return {"measure": MEASURE, "bins": list(BIN_EDGES),
            "paraphrase": spread(pair_similarities(requests, "variant_of")),
            "hard_negative": spread(pair_similarities(requests, "near_miss_of"))}
