"""The summary's ``semantic`` block: the run's hits judged against its corpus (suite.analyze.summarize
.semantic), with what cannot be judged named and why.

Present when the run recorded a served-key rule (run.json ``extra.cache_headers.served``, every run
since the driver kept one) or ``analyze --served-key-header`` names one; older runs have no block.
Ground truth is the corpus run.json names, checked against its recorded sha256: a corpus that is
missing or changed judges nothing ("cannot judge"), since its ids would no longer mean the requests
that were sent. Without a served key the hit ratio and the missed opportunities still stand; the
hit classes, false-hit ratio, precision, recall and net savings do not.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from suite.analyze.read.cacheheaders import Recorded, header_columns, recorded
from suite.analyze.read.load import LoadedRun
from suite.analyze.summarize.semantic import Judged, Row, Truth, classify, proportion, truth_from_rows
from suite.cachesignal import ServedRule
from suite.errors import AnalysisError, CorpusError
from suite.models import PriceTable, price_table_or_why
from suite.records import file_sha256, iter_jsonl

JUDGED = ("hits_by_class", "false_hit_ratio", "precision", "recall", "savings")


def served_of(run: LoadedRun, override: ServedRule | None) -> tuple[ServedRule | None, Recorded | None]:
    """The served-key rule to read (``analyze --served-key-header`` first, else run.json's) and what
    the run recorded; (None, …) when neither says (an older run: no block)."""
    rec = recorded(run.meta)
    if override is not None:
        missing = [n for n in override.names if rec is None or n not in rec.allowlist]
        if missing:
            kept = ", ".join(rec.allowlist) if rec else "none (run.json has no extra.cache_headers)"
            raise AnalysisError(f"{run.run_dir}: header {missing[0]!r} was not recorded by this run (its "
                                f"records keep {kept}); re-run with --served-key-header / "
                                f"--similarity-header {missing[0]}.")
        return override, rec
    block = (run.meta.extra.get("cache_headers") or {}) if run.meta else {}
    served = block.get("served") if isinstance(block, dict) else None
    if not isinstance(served, dict):
        return None, rec
    return ServedRule(str(served.get("key") or ""), str(served.get("similarity") or "")), rec


def read_truth(run: LoadedRun, corpus: Path | None) -> tuple[Truth | None, dict[str, Any]]:
    """The corpus's truth and the ``corpus`` node (path, verified, why)."""
    node: dict[str, Any] = {"path": None if corpus is None else str(corpus), "verified": False}
    if corpus is None:
        return None, {**node, "why": "run.json names no corpus: cannot judge hits against ground truth"}
    if not corpus.exists():
        return None, {**node, "why": f"corpus {corpus} not found: cannot judge hits against ground truth"}
    expected = run.meta.corpus_sha256 if run.meta else ""
    if expected:
        now = file_sha256(corpus)
        if now != expected:
            return None, {**node, "why": f"corpus {corpus} changed since the run (sha256 {now[:12]}… "
                                         f"≠ run.json's {expected[:12]}…): cannot judge hits"}
    try:
        rows = [obj for _, obj in iter_jsonl(corpus)]
    except CorpusError as exc:
        return None, {**node, "why": f"{exc} Cannot judge hits."}
    truth = truth_from_rows([r for r in rows if isinstance(r, dict) and "id" in r])
    node["verified"] = bool(expected)
    if not expected:
        node["note"] = "run.json records no sha256: the corpus is assumed unchanged"
    node["near_miss_pairs"] = len(truth.near_miss_of)
    if not truth.near_miss_of:
        node["near_miss_note"] = ("the corpus marks no near_miss_of pairs (made before hard negatives, or "
                                  "without --hard-negative-ratio): false hits are not split by near misses")
    return truth, node


def _rows(frame: pd.DataFrame, served: np.ndarray) -> tuple[list[Row], np.ndarray]:
    """Successful requests with a verdict, as classifier rows, and their positions in ``frame``."""
    cache = frame["cache"].astype(object).to_numpy()
    keep = np.flatnonzero(frame["ok"].to_numpy(dtype=bool) & pd.notna(cache))
    ids, t0 = frame["id"].astype(str).to_numpy(), frame["t_start"].to_numpy(dtype=float)
    e2e = frame["e2e"].to_numpy(dtype=float, na_value=np.nan)
    rows = [Row(ids[i], str(cache[i]), float(t0[i]),
                float(t0[i] + e2e[i]) if math.isfinite(e2e[i]) else math.inf,
                served[i] if isinstance(served[i], str) else None) for i in keep]
    return rows, keep


def _no_served_why(rule: ServedRule, rec: Recorded | None, hits: int, carried: int) -> str | None:
    if not rule.key:
        return "the run read no served-key header (--served-key-header none)"
    if rec is not None and rule.key not in rec.allowlist:
        return f"header {rule.key!r} was not recorded by this run"
    if hits and not carried:
        return (f"no hit carried the served-key header {rule.key!r}: the target does not say which entry "
                f"it served (name its header with --served-key-header NAME)")
    return None


def _usd(frame: pd.DataFrame, positions: list[int],
         table: PriceTable | None) -> tuple[int, float | None, int]:
    """(tokens, USD at the price table, requests unpriced) of the frame rows at ``positions``."""
    prompt = frame["prompt_tokens"].to_numpy(dtype=float, na_value=np.nan)
    done = frame["completion_tokens"].to_numpy(dtype=float, na_value=np.nan)
    models = frame["model"].astype(str).to_numpy()
    tokens, usd, unpriced = 0, 0.0, 0
    for i in positions:
        if not (math.isfinite(prompt[i]) and math.isfinite(done[i])):
            unpriced += 1
            continue
        tokens += int(prompt[i] + done[i])
        found = table.lookup(models[i]) if table is not None else None
        if found is None:
            unpriced += 1
            continue
        usd += float(prompt[i] * found[1].input_per_1m + done[i] * found[1].output_per_1m) / 1e6
    return tokens, (usd if table is not None else None), unpriced


def savings(frame: pd.DataFrame, judged: Judged, keep: np.ndarray, table: PriceTable | None,
            table_why: str | None) -> dict[str, Any]:
    """What correct hits saved (tokens, USD as if the model had answered them) and what the false
    hits "saved" — money that bought a wrong answer; net = correct only."""
    at = {c: [int(keep[p]) for p in judged.positions[c]] for c in judged.positions}
    ok_tokens, ok_usd, ok_unpriced = _usd(frame, at["exact"] + at["paraphrase"], table)
    bad_tokens, bad_usd, bad_unpriced = _usd(frame, at["false"] + at["false_near_miss"], table)
    out: dict[str, Any] = {"tokens_saved_net": ok_tokens, "tokens_false": bad_tokens,
                           "tokens_saved_gross": ok_tokens + bad_tokens}
    if table is None:
        out["usd_why"] = table_why or "no price table"
        return out
    out.update({"usd_saved_net": ok_usd, "usd_false": bad_usd,
                "usd_saved_gross": (ok_usd or 0.0) + (bad_usd or 0.0), "unit": "USD", "as_of": table.as_of,
                "unpriced_hits": ok_unpriced + bad_unpriced})
    return out


def _similarity(values: np.ndarray, judged: Judged) -> dict[str, Any]:
    """min / median / max similarity per hit class, where the target reported one."""
    out: dict[str, Any] = {}
    for cls in ("exact", "paraphrase", "false", "false_near_miss"):
        sims = [v for v in (_float(values[p]) for p in judged.positions[cls]) if v is not None]
        if sims:
            out[cls] = {"n": len(sims), "min": min(sims), "median": float(np.median(sims)), "max": max(sims)}
    return out


def _float(raw: Any) -> float | None:
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def semantic_section(run: LoadedRun, corpus: Path | None, override: ServedRule | None = None,
                     table: PriceTable | None = None, table_why: str | None = None) -> dict[str, Any] | None:
    """The ``semantic`` block (module docstring), or None for a run that recorded no served-key rule."""
    rule, rec = served_of(run, override)
    if rule is None:
        return None
    if table is None and table_why is None:
        table, table_why = price_table_or_why()
    frame = run.requests
    names = [n for n in rule.names if rec is not None and n in rec.allowlist]
    columns = header_columns(run, names) if names and len(frame) else {}
    nulls = np.full(len(frame), None, dtype=object)
    served = columns[rule.key].to_numpy(zero_copy_only=False) if rule.key in columns else nulls
    sims = columns[rule.similarity].to_numpy(zero_copy_only=False) if rule.similarity in columns else nulls
    rows, keep = _rows(frame, served)
    hits = sum(r.cache == "hit" for r in rows)
    block: dict[str, Any] = {"served_key_header": rule.key or None,
                             "similarity_header": rule.similarity or None,
                             "requests": len(rows), "hits": hits, **_hit_ratio(hits, len(rows))}
    truth, block["corpus"] = read_truth(run, corpus)
    carried = sum(1 for r in rows if r.cache == "hit" and r.served)
    no_served = _no_served_why(rule, rec, hits, carried)
    if truth is None:
        block["cannot_judge"] = [{"figure": f, "why": block["corpus"]["why"]}
                                 for f in (*JUDGED, "opportunities")]
        return block
    judged = classify(rows, truth, served_known=no_served is None)
    block["opportunities"] = dict(judged.opportunities)
    if no_served is not None:
        block["cannot_judge"] = [{"figure": f, "why": no_served} for f in JUDGED]
        return block
    block.update(_judged(judged, hits))
    block["savings"] = savings(frame, judged, keep, table, table_why)
    similarity = _similarity(sims[keep] if len(keep) else sims[:0], judged)
    if similarity:
        block["similarity"] = similarity
    return block


def _hit_ratio(hits: int, n: int) -> dict[str, Any]:
    return {"hit_ratio": proportion(hits, n, "no successful request carried a cache verdict")}


def _judged(judged: Judged, hits: int) -> dict[str, Any]:
    c = judged.counts
    judged_hits = c["exact"] + c["paraphrase"] + c["false"]
    semantic = c["paraphrase"] + c["false"]
    opp = judged.opportunities
    out: dict[str, Any] = {
        "hits_by_class": dict(c),
        "false_hit_ratio": proportion(c["false"], judged_hits, "no hit could be judged"),
        "precision": proportion(c["paraphrase"], semantic, "no semantic hit (every judged hit was exact)"),
        "recall": proportion(opp["paraphrase_hit_on_opportunity"], opp["paraphrase"],
                             "no semantic opportunity (no request had only a paraphrase answered before it)"),
    }
    if c["unjudged"] or c["unattributed"]:
        out["note"] = (f"{c['unjudged']} hits carried no served key and {c['unattributed']} named an entry "
                       f"of no corpus request: neither is in the ratios above")
    return out
