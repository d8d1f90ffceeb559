"""Lexical similarity of paraphrase pairs vs hard-negative pairs: a stated measure, percentiles and
histogram counts, and what holds on a built corpus."""

from __future__ import annotations

import math

import pytest

from suite.records import CorpusRequest
from suite.synth import build_corpus, parse_spec
from suite.synth.similarity import (
    BIN_EDGES,
    cosine,
    histogram,
    lexical_similarity,
    pair_similarities,
    question,
    spread,
)

from .test_spec import BASE


def test_cosine_of_character_trigrams_by_hand() -> None:
    assert cosine("abcd", "abcd") == pytest.approx(1.0)
    assert cosine("abcd", "ABCD") == pytest.approx(1.0)  # lower-cased
    assert cosine("a  b\tc", "a b c") == pytest.approx(1.0)  # whitespace collapsed
    assert cosine("abcd", "abce") == pytest.approx(0.5)  # {abc, bcd} vs {abc, bce}
    assert cosine("abc", "xyz") == 0.0
    # "aaaa" = {aaa: 2}, "aaab" = {aaa: 1, aab: 1}: 2 / (2 * sqrt(2))
    assert cosine("aaaa", "aaab") == pytest.approx(1 / math.sqrt(2))


def test_the_question_is_what_follows_the_last_blank_line() -> None:
    def req(text: str) -> CorpusRequest:
        return CorpusRequest("r1", None, "s", 0, "gpt-4o", [{"role": "user", "content": text}], 8, 0.0,
                             True, 1, "d", "i", "k")

    assert question(req("Retrieved document D-0001:\nbody\n\nWhat is X?")) == "What is X?"
    assert question(req("What is X?\n\n")) == "What is X?"
    assert question(req("plain")) == "plain"


def test_histogram_and_percentiles() -> None:
    assert len(BIN_EDGES) == 11 and BIN_EDGES[0] == 0.0 and BIN_EDGES[-1] == 1.0
    assert histogram([0.0, 0.05, 0.1, 0.95, 1.0]) == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    got = spread([0.1 * k for k in range(11)])
    assert (got["pairs"], got["p10"], got["p50"], got["p90"]) == (11, 0.1, 0.5, 0.9)
    assert spread([]) == {"pairs": 0, "p10": None, "p50": None, "p90": None, "counts": [0] * 10}


def test_paraphrases_are_closer_than_hard_negatives_yet_the_two_overlap() -> None:
    """Measured on the base scenario (seed 0, n 2000): paraphrase p50 0.90, hard-negative p50 0.75,
    hard-negative p90 0.89 > paraphrase p10 0.82 — no surface threshold separates them."""
    requests = build_corpus(parse_spec({**BASE, "n": 2000, "hard_negative_ratio": 0.1,
                                        "near_duplicate_ratio": 0.1}))
    sim = lexical_similarity(requests)
    para, near = sim["paraphrase"], sim["hard_negative"]
    assert para["pairs"] == near["pairs"] == 200
    assert para["p50"] > near["p50"]
    assert near["p90"] > para["p10"]
    assert max(pair_similarities(requests, "near_miss_of")) < 1  # another question, another text
    assert "character 3-gram" in sim["measure"]
