"""The cache section: observed hit ratio beside the corpus's repeat ratio, hit vs miss latency,
per-hit speedup and the end-to-end bound ``1/(1-h)`` — always published together."""

from __future__ import annotations

from typing import Any

import pandas as pd

from suite.analyze.metrics import column, dist, flags, value
from suite.analyze.stats import gain_bound, ratio, share, speedup

NO_SIGNAL = "no request carried a cache signal (the target reported neither hit nor miss)"


def latency_by_outcome(frame: pd.DataFrame, outcome: str) -> dict[str, Any]:
    """E2E and TTFT distributions of the successful requests the target reported as ``outcome``."""
    picked = frame["ok"].to_numpy() & (column(frame, "cache") == outcome)
    streamed = picked & flags(frame, "stream")
    plural = "hits" if outcome == "hit" else "misses"
    return {
        "e2e": dist(column(frame, "e2e")[picked], f"no successful cache {plural} in this run"),
        "ttft": dist(column(frame, "ttft")[streamed], f"no successful streaming cache {plural} in this run"),
    }


def speedups(hit: dict[str, Any], miss: dict[str, Any]) -> dict[str, Any]:
    """``miss / hit`` for E2E and TTFT at p50 and p95; a missing side is named in the why."""
    out: dict[str, Any] = {}
    for metric in ("e2e", "ttft"):
        for q in ("p50", "p95"):
            why = hit[metric].get("why") or miss[metric].get("why") or f"{metric} {q} of hits is 0"
            out[f"{metric}_{q}"] = value(speedup(miss[metric][q], hit[metric][q]), why, "x")
    return out


def outcome_block(frame: pd.DataFrame) -> dict[str, Any]:
    """Hit ratio, hit and miss latency and speedups for one group of requests."""
    cache = column(frame, "cache")
    hits, misses = int((cache == "hit").sum()), int((cache == "miss").sum())
    hit, miss = latency_by_outcome(frame, "hit"), latency_by_outcome(frame, "miss")
    return {
        "requests_with_signal": hits + misses,
        "hits": hits,
        "misses": misses,
        "hit_ratio": value(ratio(hits, hits + misses), NO_SIGNAL),
        "hit": hit,
        "miss": miss,
        "speedup": speedups(hit, miss),
    }


def repeat_ratio(frame: pd.DataFrame) -> dict[str, Any]:
    known = ~frame["repeat"].isna().to_numpy()
    why = "no record carries the corpus's repeat flag (the driver writes it from the corpus)"
    return value(share(flags(frame, "repeat")[known]), why)


def confusion(frame: pd.DataFrame) -> dict[str, Any]:
    """Corpus truth (repeat or fresh) against what the target reported (hit or miss), as counts."""
    cache = column(frame, "cache")
    known = ~frame["repeat"].isna().to_numpy()
    repeat = flags(frame, "repeat")
    if not (known & ((cache == "hit") | (cache == "miss"))).any():
        return {"why": "needs both the corpus repeat flag and a cache signal on the same requests"}
    hit, miss, fresh = cache == "hit", cache == "miss", known & ~repeat
    cells = {"repeat_hit": repeat & hit, "repeat_miss": repeat & miss,
             "fresh_hit": fresh & hit, "fresh_miss": fresh & miss}
    return {name: int(mask.sum()) for name, mask in cells.items()}


def cache_section(frame: pd.DataFrame) -> dict[str, Any]:
    overall = outcome_block(frame)
    return {
        **overall,
        "signal_coverage": ratio(overall["requests_with_signal"], len(frame)),
        "corpus_repeat_ratio": repeat_ratio(frame),
        "gain_bound": value(gain_bound(overall["hit_ratio"]["value"]),
                            _bound_why(overall["hit_ratio"]), "x"),
        "confusion": confusion(frame),
        "models": {str(m): outcome_block(g) for m, g in frame.groupby("model", sort=True)},
    }


def _bound_why(hit_ratio: dict[str, Any]) -> str:
    if hit_ratio["value"] is None:
        return hit_ratio["why"]
    return "every request was a hit (h = 1): the bound 1/(1-h) is unbounded"
