"""``llmsuite corpus stats`` rows: human names with units, and a missing figure says why."""

from __future__ import annotations

from pathlib import Path

from suite.synth.stats import display_rows


def test_rows_have_human_names_units_and_readable_values() -> None:
    rows = dict(display_rows({
        "requests": 2000, "repeat_ratio": 0.3, "prompt_tokens": {"p50": 216.0, "p90": 227.0, "p99": 231.4},
        "expected_output_tokens": {"p50": 184.0, "p90": 364.0, "p99": 701.6, "min": 15, "max": 1024,
                                   "at_max_tokens_share": 0.1305},
        "models": {"gpt-4o": 1040, "gpt-5-mini": 960}, "zipf_slope": 1.0734,
    }))
    assert rows == {
        "Requests": "2,000",
        "Exact repeats": "30.0%",
        "Prompt length (tokens)": "p50 216 · p90 227 · p99 231",
        "Expected output length (tokens)": "p50 184 · p90 364 · p99 702 · min 15 · max 1,024; "
                                           "13.1% at max_tokens",
        "Models (requests each)": "gpt-4o 1,040 · gpt-5-mini 960",
        "Popularity: fitted Zipf exponent s": "1.07",
    }


def test_a_missing_figure_says_why() -> None:
    rows = dict(display_rows({"arrival_rate": None, "zipf_slope": None, "expected_output_tokens": None}))
    assert rows["Arrival rate (requests/s)"] == "— (closed loop: no arrival times)"
    assert rows["Popularity: fitted Zipf exponent s"].startswith("— (fewer than 3 originals repeated 5+")
    assert rows["Expected output length (tokens)"] == "— (the corpus carries no expected output lengths)"


def test_every_statistic_of_a_real_corpus_has_a_human_name(tmp_path: Path) -> None:
    from suite.api import synthesize
    from suite.records import read_corpus
    from suite.synth import stats

    res = synthesize("ops-assistant", tmp_path / "c.jsonl", n=40, seed=1)
    summary = stats.summary(read_corpus(res.corpus))
    rows = display_rows(summary)
    assert len(rows) == len(summary)
    for name, value in rows:
        assert "_" not in name and "{" not in value, (name, value)


def test_hard_negative_similarity_and_prefix_cache_rows() -> None:
    spread = {"pairs": 200, "p10": 0.6616, "p50": 0.7504, "p90": 0.8854,
              "counts": [0, 0, 0, 0, 0, 0, 23, 73, 85, 19]}
    rows = dict(display_rows({"hard_negative_ratio": 0.1, "similarity_hard_negative": spread,
                              "similarity_paraphrase": None, "expected_cached_share": 0.9109,
                              "expected_cached_share_per_model": {"gpt-4o": 0.895, "gpt-4o-mini": None}}))
    assert rows == {
        "Hard negatives (near misses: other slot values)": "10.0%",
        "Lexical similarity of hard-negative pairs (char 3-gram cosine)":
            "p10 0.66 · p50 0.75 · p90 0.89 (200 pairs; per 0.1 bin from 0: 0/0/0/0/0/0/23/73/85/19)",
        "Lexical similarity of paraphrase pairs (char 3-gram cosine)": "— (no paraphrase in the corpus)",
        "Expected prefix-cache share (16-token blocks, unbounded cache)": "91.1%",
        "Expected prefix-cache share per model": "gpt-4o 89.5% · gpt-4o-mini —",
    }


def test_corpus_stats_of_a_corpus_with_hard_negatives(tmp_path: Path) -> None:
    from suite.api import corpus_stats, synthesize

    res = synthesize("ops-assistant", tmp_path / "c.jsonl", n=200, seed=1,
                     overrides={"hard_negative_ratio": 0.1})
    stats = corpus_stats(res.corpus, prefix_cache=True).stats
    assert stats["hard_negative_ratio"] == res.manifest["hard_negative_ratio"]["achieved"] == 0.1
    assert stats["similarity_hard_negative"] == res.manifest["lexical_similarity"]["hard_negative"]
    assert 0 < stats["expected_cached_share"] < 1
