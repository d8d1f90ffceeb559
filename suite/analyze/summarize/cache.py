"""The cache section: observed hit ratio beside the corpus's repeat ratio and theoretical hit ratio,
hit vs miss latency with bootstrap CIs on the speedup, per-hit speedup beside the end-to-end bound
``1/(1-h)`` — always published together, so no figure is read without its bound.

Two splits of the same requests: by the target's signal (hit / miss) and, for targets that signal
nothing, by the corpus's ground truth (first-seen / repeat). Cold (first tenth of the window) and
steady state (the rest) are reported apart, since compulsory misses crowd the start.

Hits and misses are counted over successful requests only: a failed request was not served by the
cache nor by the model, and a rule such as ``present:NAME`` (absence = miss) would otherwise turn
every HTTP 400 into a miss. Failures get their own counts beside them.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from suite.analyze.schema import ByRepeat, CacheSection, Outcome, Phases, Theoretical, Value, Why
from suite.analyze.summarize.bootstrap import bootstrap_ratio_ci
from suite.analyze.summarize.metrics import column, dist, equals, flags, value
from suite.analyze.summarize.modelcompare import model_comparison
from suite.analyze.summarize.stats import gain_bound, ratio, share, speedup

NO_SIGNAL = "no successful request carried a cache signal (the target reported neither hit nor miss)"
NO_REPEAT = "no record carries the corpus's repeat flag (the driver writes it from the corpus)"
BOOT = {"n_boot": 500, "max_points": 2000, "seed": 0, "conf": 0.95}
NO_CI = ("bootstrap CIs of first-seen vs repeat are computed only for targets without a cache signal "
         "(the hit/miss speedups carry them otherwise)")
COLD_SHARE = 0.1  # the cold window: the first tenth of the measured window
LABELS = {"hit": "cache hits", "miss": "cache misses", "repeat": "repeats",
          "first_seen": "first-seen requests"}


def latency_of(frame: pd.DataFrame, picked: np.ndarray, label: str) -> dict[str, np.ndarray | str]:
    """E2E and TTFT of the successful requests in ``picked`` (arrays) and why either may be empty."""
    ok = picked & frame["ok"].to_numpy()
    return {"e2e": column(frame, "e2e")[ok], "ttft": column(frame, "ttft")[ok & flags(frame, "stream")],
            "e2e_why": f"no successful {label} in this run",
            "ttft_why": f"no successful streaming {label} in this run"}


def speedup_ci(slow: np.ndarray, fast: np.ndarray, stat: str, why: str) -> dict[str, Any]:
    """``stat(slow) / stat(fast)`` with a bootstrap CI, or null with why."""
    got = bootstrap_ratio_ci(slow, fast, "median" if stat == "p50" else stat, n_boot=BOOT["n_boot"],
                             conf=BOOT["conf"], seed=BOOT["seed"], max_points=BOOT["max_points"])
    if got is None:
        return {"value": None, "why": why, "unit": "x"}
    return {"value": got[0], "ci": [got[1], got[2]], "unit": "x"}


def compare_block(frame: pd.DataFrame, fast_mask: np.ndarray, slow_mask: np.ndarray,
                  names: tuple[str, str], with_ci: bool = True) -> dict[str, Any]:
    """Latency of the fast side (hits / repeats) and slow side (misses / first-seen), and speedups
    (with bootstrap CIs unless ``with_ci`` is False: then the point estimate and why no CI)."""
    fast_name, slow_name = names
    fast = latency_of(frame, fast_mask, LABELS[fast_name])
    slow = latency_of(frame, slow_mask, LABELS[slow_name])
    # the masked arrays are this function's own: dist may reorder them (selection), and the
    # bootstrap of a quantile is order-free
    out: dict[str, Any] = {
        fast_name: {m: dist(fast[m], str(fast[f"{m}_why"]), scratch=True) for m in ("e2e", "ttft")},
        slow_name: {m: dist(slow[m], str(slow[f"{m}_why"]), scratch=True) for m in ("e2e", "ttft")},
        "speedup": {},
    }
    for metric in ("e2e", "ttft"):
        for q in ("p50", "p95"):
            why = (out[fast_name][metric].get("why") or out[slow_name][metric].get("why")
                   or f"{metric} {q} of {fast_name} is 0")
            if with_ci:
                out["speedup"][f"{metric}_{q}"] = speedup_ci(slow[metric], fast[metric], q, why)
            else:
                ratio_ = speedup(out[slow_name][metric][q], out[fast_name][metric][q])
                out["speedup"][f"{metric}_{q}"] = {**value(ratio_, why, "x"), "ci_why": NO_CI}
    return out


def signals(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the successful hits and successful misses (a failure is neither)."""
    ok = frame["ok"].to_numpy()
    return ok & equals(frame, "cache", "hit"), ok & equals(frame, "cache", "miss")


def outcome_block(frame: pd.DataFrame) -> Outcome:
    """Hit ratio over successful requests, failures apart, hit and miss latency and speedups (with
    CIs) for one group of requests."""
    hit, miss = signals(frame)
    hits, misses = int(hit.sum()), int(miss.sum())
    failed = ~frame["ok"].to_numpy()
    with_signal = failed & (equals(frame, "cache", "hit") | equals(frame, "cache", "miss"))
    block = compare_block(frame, hit, miss, ("hit", "miss"))
    return cast("Outcome", {"requests_with_signal": hits + misses, "hits": hits, "misses": misses,
                            "failed": int(failed.sum()), "failed_with_signal": int(with_signal.sum()),
                            "hit_ratio": value(ratio(hits, hits + misses), NO_SIGNAL), **block})


def repeat_block(frame: pd.DataFrame, with_ci: bool) -> ByRepeat | Why:
    """First-seen vs repeat by the corpus's ground truth: the cache's effect seen from outside."""
    known = ~frame["repeat"].isna().to_numpy()
    if not known.any():
        return {"why": NO_REPEAT}
    repeat = flags(frame, "repeat")
    block = {"repeat_requests": int(repeat.sum()), "first_seen_requests": int((known & ~repeat).sum()),
             **compare_block(frame, repeat, known & ~repeat, ("repeat", "first_seen"), with_ci)}
    return cast("ByRepeat", block)


def repeat_ratio(frame: pd.DataFrame) -> Value:
    known = ~frame["repeat"].isna().to_numpy()
    return value(share(flags(frame, "repeat")[known]), NO_REPEAT)


def confusion(frame: pd.DataFrame) -> dict[str, Any]:
    """Corpus truth (repeat or fresh) against what the target reported (hit or miss), as counts of
    successful requests."""
    hit, miss = signals(frame)
    known = ~frame["repeat"].isna().to_numpy()
    repeat = flags(frame, "repeat")
    if not (known & (hit | miss)).any():
        return {"why": "needs both the corpus repeat flag and a cache signal on the same successful "
                       "requests"}
    fresh = known & ~repeat
    cells = {"repeat_hit": repeat & hit, "repeat_miss": repeat & miss,
             "fresh_hit": fresh & hit, "fresh_miss": fresh & miss}
    return {name: int(mask.sum()) for name, mask in cells.items()}


def phases(frame: pd.DataFrame, start: float, end: float) -> Phases:
    """Cold (first tenth of the window, by send time) against steady state: hit ratio (successful
    requests), failures and latency."""
    cut = start + COLD_SHARE * (end - start)
    sent = column(frame, "t_start")
    ok, e2e = frame["ok"].to_numpy(), column(frame, "e2e")
    hit, miss = signals(frame)
    known, repeat = ~frame["repeat"].isna().to_numpy(), flags(frame, "repeat")
    out: dict[str, Any] = {"cold_until": cut}  # + "cold", "steady" below
    for name, part in (("cold", sent < cut), ("steady", sent >= cut)):
        hits, misses = int((hit & part).sum()), int((miss & part).sum())
        out[name] = {"requests": int(part.sum()), "failed": int((part & ~ok).sum()),
                     "hit_ratio": value(ratio(hits, hits + misses), NO_SIGNAL),
                     "repeat_ratio": value(share(repeat[part & known]), NO_REPEAT),
                     "e2e": dist(e2e[part & ok], f"no successful requests in the {name} window",
                                 scratch=True)}
    return cast("Phases", out)


def theoretical(manifest: dict[str, Any] | None, why: str | None) -> Theoretical | Why:
    """What the corpus allows an exact-match cache at best (from its manifest)."""
    if manifest is None:
        return {"why": why or "no corpus manifest"}
    out: dict[str, Any] = {"hit_ratio": value(manifest.get("theoretical_hit_ratio"),
                              "the manifest has no theoretical_hit_ratio"),
           "repeat_ratio": value((manifest.get("repeat_ratio") or {}).get("achieved"),
                                 "the manifest has no achieved repeat_ratio"),
           "corpus_requests": manifest.get("n")}
    for key in ("theoretical_hit_ratio_lru", "theoretical_hit_ratio_ttl"):
        if key in manifest:
            out[key.removeprefix("theoretical_hit_ratio_")] = manifest[key]
    return cast("Theoretical", out)


def cache_section(frame: pd.DataFrame, parts: dict[str, pd.DataFrame], start: float, end: float,
                  manifest: dict[str, Any] | None, manifest_why: str | None,
                  run_misses: dict[str, Any]) -> CacheSection:
    """The cache section but its ``models``, left empty for the caller to fill with ``model_block``
    (the summary makes them on whichever thread is free); ``run_misses``: ``misses.repeat_misses``
    of the run (the summary makes it before the per-model slices exist: its sort of every keyed
    row is the summary's largest transient)."""
    overall = outcome_block(frame)
    blind = overall["requests_with_signal"] == 0  # the corpus view is then the cache's only measure
    return {
        **overall,
        "signal_coverage": ratio(overall["requests_with_signal"], int(frame["ok"].to_numpy().sum())),
        "corpus_repeat_ratio": repeat_ratio(frame),
        "theoretical": theoretical(manifest, manifest_why),
        "gain_bound": value(gain_bound(overall["hit_ratio"]["value"]), _bound_why(overall["hit_ratio"]), "x"),
        "confusion": confusion(frame),
        "by_repeat": repeat_block(frame, blind),
        "phases": phases(frame, start, end),
        "repeat_misses": run_misses,
        "model_comparison": model_comparison(frame, parts, BOOT),
        "bootstrap": dict(BOOT),
        "models": {},
    }


def blind_run(frame: pd.DataFrame) -> bool:
    """Whether no successful request carried a cache signal (then first-seen vs repeat, the corpus's
    view, carries the bootstrap CIs): ``cache_section``'s ``blind``, without the rest."""
    hit, miss = signals(frame)
    return not bool((hit | miss).any())


def model_block(part: pd.DataFrame, blind: bool, explained: dict[str, Any]) -> dict[str, Any]:
    """One model's entry of the cache section's ``models``."""
    return {**outcome_block(part), "by_repeat": repeat_block(part, blind), "repeat_misses": explained}


def _bound_why(hit_ratio: Value) -> str:
    if hit_ratio["value"] is None:
        return hit_ratio["why"]
    return "every request was a hit (h = 1): the bound 1/(1-h) is unbounded"
