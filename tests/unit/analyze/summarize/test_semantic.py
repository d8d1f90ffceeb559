"""Hits judged against the corpus: exact / paraphrase / false (near miss apart) / unjudged /
unattributed, missed opportunities, Wilson intervals, and what cannot be judged without a served key
or with a corpus that is missing or changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from suite.analyze import analyze_run
from suite.analyze.summarize.semantic import Row, classify, truth_from_rows, wilson
from suite.cachesignal import allowlist, parse_rule, served_rule
from suite.errors import AnalysisError, SpecError
from suite.records import RunMeta, file_sha256
from tests.unit.analyze.logs import rec, run_dir

# id, key, repeat_of, variant_of, near_miss_of
CORPUS = [("a0", "ka", None, None, None), ("a2", "ka", "a0", None, None), ("a1", "ka1", None, "a0", None),
          ("b0", "kb", None, None, None), ("b1", "kb1", None, None, "b0"),
          ("c0", "kc", None, None, None), ("c1", "kc1", None, "c0", None),
          ("d0", "kd", None, None, None), ("d1", "kd1", None, "d0", None),
          ("e0", "ke", None, None, None), ("f0", "kf", None, None, None)]
# id, verdict, served key: in send order, one second apart, each answered in 0.1 s
SENT = [("a0", "miss", "ka"), ("a2", "hit", "ka"), ("a1", "hit", "ka"), ("b0", "miss", "kb"),
        ("b1", "hit", "kb"), ("c0", "miss", "kc"), ("c1", "hit", "ka"), ("d0", "miss", "kd"),
        ("d1", "miss", "kd1"), ("e0", "hit", "zz-not-in-corpus"), ("f0", "hit", None)]


def corpus_rows() -> list[dict[str, Any]]:
    return [{"id": i, "key": k, "repeat_of": r, "variant_of": v, **({"near_miss_of": n} if n else {})}
            for i, k, r, v, n in CORPUS]


def rows() -> list[Row]:
    return [Row(i, c, 1000.0 + n, 1000.1 + n, s) for n, (i, c, s) in enumerate(SENT)]


def test_every_hit_gets_its_class() -> None:
    judged = classify(rows(), truth_from_rows(corpus_rows()))
    assert judged.counts == {"exact": 1, "paraphrase": 1, "false": 2, "false_near_miss": 1,
                             "unjudged": 1, "unattributed": 1}
    assert [SENT[p][0] for p in judged.positions["false_near_miss"]] == ["b1"]
    assert [SENT[p][0] for p in judged.positions["false"]] == ["c1"]
    assert judged.opportunities == {"exact": 1, "paraphrase": 3, "missed_exact": 0, "missed_paraphrase": 1,
                                    "paraphrase_hit_on_opportunity": 1}


def test_a_paraphrase_sent_before_its_group_was_answered_is_no_opportunity() -> None:
    sent = [Row("a0", "miss", 1000.0, 1002.0, "ka"), Row("a1", "miss", 1001.0, 1001.1, "ka1")]
    assert classify(sent, truth_from_rows(corpus_rows())).opportunities["paraphrase"] == 0


def test_target_keys_learned_from_misses_join_a_gateway_that_keys_its_own_way() -> None:
    """The gateway calls a0's entry "gw-1" (said on a0's miss): a1 served "gw-1" is a paraphrase."""
    sent = [Row("a0", "miss", 1000.0, 1000.1, "gw-1"), Row("a1", "hit", 1001.0, 1001.1, "gw-1"),
            Row("a2", "hit", 1002.0, 1002.1, "gw-1")]
    judged = classify(sent, truth_from_rows(corpus_rows()))
    assert (judged.counts["paraphrase"], judged.counts["exact"]) == (1, 1)


def test_without_a_served_key_every_hit_is_unjudged_but_opportunities_count() -> None:
    judged = classify(rows(), truth_from_rows(corpus_rows()), served_known=False)
    assert judged.counts["unjudged"] == 6 and judged.counts["false"] == 0
    assert judged.opportunities["missed_paraphrase"] == 1


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [(0, 10, 0.0, 0.27753), (5, 10, 0.23659, 0.76341),
                                                  (10, 10, 0.72247, 1.0)])
def test_wilson_interval(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got is not None and got == pytest.approx((lo, hi), abs=1e-5)
    assert wilson(0, 0) is None


def test_served_headers_are_kept_and_named_badly_refused() -> None:
    names = allowlist(parse_rule("auto"), served_rule("X-GW-Served", "none"))
    assert "x-gw-served" in names and "x-cache-similarity" not in names
    with pytest.raises(SpecError, match="--served-key-header: 'x gw' is not a header name"):
        served_rule("x gw", "none")


def write_run(tmp_path: Path, served_key: str = "x-cache-key", corpus_sha: str | None = None) -> Path:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in corpus_rows()))
    rule = served_rule(served_key, "x-cache-similarity")
    headers = {"rule": "auto", "allowlist": list(allowlist(parse_rule("auto"), rule)),
               "served": {"key": rule.key or None, "similarity": "x-cache-similarity"}}
    meta = RunMeta(run_id="t", target="http://127.0.0.1:9", corpus=str(corpus),
                   corpus_sha256=corpus_sha or file_sha256(corpus), users=1, duration_s=0.0, started=1000.0,
                   extra={"cache_headers": headers})
    records = [rec(n, id=i, key=dict((c[0], c[1]) for c in CORPUS)[i], cache=c, e2e=0.1,
                   prompt_tokens=100, completion_tokens=50,
                   cache_headers={"x-cache": c.upper(), **({"x-cache-key": s} if s else {}),
                                  **({"x-cache-similarity": "0.93"} if c == "hit" else {})})
               for n, (i, c, s) in enumerate(SENT)]
    records.append(rec(99, id="a1", key="ka1", cache="hit", warmup=True, e2e=0.1,
                       cache_headers={"x-cache-key": "kc"}))  # warm-up: never counted
    (tmp_path / "run").mkdir()
    return run_dir(tmp_path / "run", records, meta)


def test_the_summary_block_judges_the_run_against_its_corpus(tmp_path: Path) -> None:
    block = analyze_run(write_run(tmp_path))["semantic"]
    assert (block["requests"], block["hits"]) == (11, 6)
    assert block["hit_ratio"]["value"] == pytest.approx(6 / 11)
    assert block["hits_by_class"]["false"] == 2 and block["hits_by_class"]["false_near_miss"] == 1
    assert (block["false_hit_ratio"]["k"], block["false_hit_ratio"]["n"]) == (2, 4)
    assert block["false_hit_ratio"]["ci"] == pytest.approx(list(wilson(2, 4) or ()))
    assert (block["precision"]["k"], block["precision"]["n"]) == (1, 3)
    assert (block["recall"]["k"], block["recall"]["n"]) == (1, 3)
    assert block["corpus"]["verified"] is True
    saved = block["savings"]  # exact + paraphrase hits: 2 × 150 tokens; false: 2 × 150
    assert (saved["tokens_saved_net"], saved["tokens_false"]) == (300, 300)
    assert saved["usd_saved_net"] > 0
    assert saved["usd_saved_gross"] == pytest.approx(2 * saved["usd_saved_net"])
    assert block["similarity"]["paraphrase"]["median"] == pytest.approx(0.93)
    assert "cannot_judge" not in block


def test_no_served_key_says_which_figures_cannot_be_judged(tmp_path: Path) -> None:
    block = analyze_run(write_run(tmp_path, served_key="none"))["semantic"]
    assert block["hit_ratio"]["value"] == pytest.approx(6 / 11)
    assert block["opportunities"]["missed_paraphrase"] == 1
    assert {c["figure"] for c in block["cannot_judge"]} == {"hits_by_class", "false_hit_ratio", "precision",
                                                            "recall", "savings"}
    assert "--served-key-header none" in block["cannot_judge"][0]["why"]
    assert "precision" not in block


def test_a_changed_corpus_judges_nothing(tmp_path: Path) -> None:
    block = analyze_run(write_run(tmp_path, corpus_sha="0" * 64))["semantic"]
    assert block["hit_ratio"]["value"] == pytest.approx(6 / 11)
    assert "changed since the run" in block["corpus"]["why"]
    assert "opportunities" in {c["figure"] for c in block["cannot_judge"]}


def test_analyze_override_must_name_a_recorded_header(tmp_path: Path) -> None:
    from suite.cachesignal import ServedRule

    with pytest.raises(AnalysisError, match="header 'x-gw-served' was not recorded by this run"):
        analyze_run(write_run(tmp_path), served=ServedRule("x-gw-served", ""))


def test_a_run_without_a_served_rule_has_no_block(tmp_path: Path) -> None:
    path = write_run(tmp_path)
    meta = orjson.loads((path / "run.json").read_bytes())
    del meta["extra"]["cache_headers"]["served"]
    (path / "run.json").write_bytes(orjson.dumps(meta))
    assert "semantic" not in analyze_run(path)


def test_report_and_terminal_show_the_judged_figures(tmp_path: Path) -> None:
    from rich.console import Console

    from suite.analyze.outputs.report import render_html
    from suite.analyze.outputs.tables import render_summary_table

    summary = analyze_run(write_run(tmp_path))
    page = render_html(summary, {})
    assert "Hit correctness (against the corpus)" in page
    assert "50.0 % (2 of 4 judged hits; 95 % CI 15.0–85.0 %)" in page
    assert "1 (near misses: 1)" not in page and "2 (near misses: 1)" in page
    console = Console(width=200, record=True)
    console.print(render_summary_table(summary))
    text = console.export_text()
    assert "precision of semantic hits" in text and "33.3 % (1 of 3 semantic hits" in text


def test_the_wilson_interval_always_holds_the_observed_ratio() -> None:
    for n in range(1, 400):
        for k in (0, 1, n - 1, n):
            lo, hi = wilson(k, n) or (1.0, 0.0)
            assert lo <= k / n <= hi, (k, n)
