"""The ``semantic`` block as fact rows, shared by report.html's "Hit correctness" fold and the
terminal table: were the hits the right answers (suite.analyze.summarize.semanticsection)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from suite.analyze.outputs.fmt import MISSING, number, percent
from suite.analyze.outputs.page import Fold, paragraph, table
from suite.analyze.schema import Summary

TITLE = "Hit correctness (against the corpus)"
_FIGURES = (("false_hit_ratio", "false-hit ratio", "judged hits"),
            ("precision", "precision of semantic hits", "semantic hits"),
            ("recall", "recall of semantic hits", "semantic opportunities"))


def proportion_text(p: Mapping[str, Any], of: str) -> str:
    """``12.5 % (1 of 8 judged hits; 95 % CI 2.2–47.1 %)``, or the reason it has no value."""
    if p.get("value") is None:
        return f"{MISSING} ({p.get('why', 'not computed')})"
    lo, hi = p["ci"]
    return f"{percent(p['value'])} ({p['k']:,} of {p['n']:,} {of}; 95 % CI {lo * 100:.1f}–{hi * 100:.1f} %)"


def _class_rows(block: Mapping[str, Any]) -> list[tuple[str, str]]:
    c = block.get("hits_by_class")
    if not c:
        return []
    return [("hits: exact (same key)", f"{c['exact']:,}"),
            ("hits: paraphrase (correct semantic)", f"{c['paraphrase']:,}"),
            ("hits: false (wrong answer served)", f"{c['false']:,} (near misses: {c['false_near_miss']:,})"),
            ("hits not judged", f"{c['unjudged']:,} without a served key, {c['unattributed']:,} "
                                "naming no corpus entry")]


def _opportunity_rows(block: Mapping[str, Any]) -> list[tuple[str, str]]:
    o = block.get("opportunities")
    if not o:
        return []
    return [("missed opportunities (exact)", f"{o['missed_exact']:,} of {o['exact']:,} exact repeats"),
            ("missed opportunities (paraphrase)", f"{o['missed_paraphrase']:,} of {o['paraphrase']:,} "
                                                  "paraphrases of an answered request")]


def _savings_rows(block: Mapping[str, Any]) -> list[tuple[str, str]]:
    s = block.get("savings")
    if not s:
        return []
    rows = [("tokens saved, net of false hits", f"{s['tokens_saved_net']:,} (false hits: "
                                                f"{s['tokens_false']:,} tokens of wrong answers)")]
    if "usd_saved_net" in s:
        rows.append(("cost saved, net of false hits", f"${number(s['usd_saved_net'], 4)} (gross "
                     f"${number(s['usd_saved_gross'], 4)}; prices as of {s['as_of']})"))
    else:
        rows.append(("cost saved", f"{MISSING} ({s.get('usd_why', 'no price table')})"))
    return rows


def semantic_rows(block: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every figure of the block as (fact, value) text."""
    rows = [("served-key header", block["served_key_header"] or "none"),
            ("hit ratio", proportion_text(block["hit_ratio"], "requests")), *_class_rows(block)]
    rows += [(label, proportion_text(block[key], of)) for key, label, of in _FIGURES if key in block]
    rows += _opportunity_rows(block) + _savings_rows(block)
    names = {"false": "false (not near-miss)", "false_near_miss": "near-miss false"}
    for cls, sim in (block.get("similarity") or {}).items():
        rows.append((f"similarity of {names.get(cls, cls)} hits",
                     f"median {sim['median']:.4f} (min {sim['min']:.4f}, max {sim['max']:.4f}, "
                     f"n {sim['n']:,})"))
    corpus = block["corpus"]
    rows.append(("corpus", ("verified (sha256 as recorded)" if corpus.get("verified") else
                            corpus.get("why") or corpus.get("note") or "not verified")))
    if corpus.get("near_miss_note"):
        rows.append(("near misses", corpus["near_miss_note"]))
    rows += [(f"cannot judge: {c['figure']}", c["why"]) for c in block.get("cannot_judge", [])]
    return rows


def semantic_fold(summary: Summary) -> Fold | None:
    block = summary.get("semantic")
    if block is None:
        return None
    body = paragraph("Each hit is judged against the corpus: exact (the served entry has the request's "
                     "key), paraphrase (an entry of the same variant_of group: a correct semantic hit) "
                     "or false (any other entry: a wrong answer served).", "muted")
    return Fold(TITLE, body + table(["fact", "value"], semantic_rows(block)))
