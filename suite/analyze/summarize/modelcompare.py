"""Fastest against slowest model within one run, on like-for-like requests, with a bootstrap CI.

Why: comparing models over all their requests mixes cache hits (answered in milliseconds) with
misses, so two models a backend serves identically look many times apart when only their hit
ratios differ. The comparison therefore uses cache misses when the target signals hits; without a
signal, the corpus's first-seen requests (which no exact-match cache can have seen); with neither,
every successful request, and says so. A CI of the ratio that includes 1 is "no significant
difference", never "1.0× sooner".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from suite.analyze.summarize.bootstrap import bootstrap_ratio_ci, excludes_one
from suite.analyze.summarize.metrics import column, equals, flags

MIN_PER_MODEL = 5  # below this many requests per side a bootstrap interval says nothing
POPULATIONS = {"miss": "cache misses", "first_seen": "first-seen requests (no cache signal)",
               "all": "all successful requests (neither a cache signal nor the corpus's repeat flag "
                      "was recorded, so hits may be mixed in)"}
METRICS = (("ttft", "reaches the first token", "p50 TTFT"), ("e2e", "completes requests", "p50 E2E"))


def population(frame: pd.DataFrame) -> str:
    """Which requests compare models fairly in this run (see the module docstring)."""
    ok = frame["ok"].to_numpy()
    if (ok & (equals(frame, "cache", "hit") | equals(frame, "cache", "miss"))).any():
        return "miss"
    return "first_seen" if (ok & ~frame["repeat"].isna().to_numpy()).any() else "all"


def _picked(part: pd.DataFrame, which: str, metric: str) -> np.ndarray:
    """The finite values of ``metric`` over one model's successful requests in the population."""
    mask = part["ok"].to_numpy().copy()
    if which == "miss":
        mask &= equals(part, "cache", "miss")
    elif which == "first_seen":
        mask &= ~part["repeat"].isna().to_numpy() & ~flags(part, "repeat")
    if metric == "ttft":
        mask &= flags(part, "stream")
    values = column(part, metric)[mask]
    return values[np.isfinite(values)]


def _ratio(slow: np.ndarray, fast: np.ndarray, boot: dict[str, Any]) -> dict[str, Any]:
    """``median(slow) / median(fast)`` with its CI and significance, or why there is no CI."""
    point = float(np.median(slow) / np.median(fast))
    if min(slow.size, fast.size) < MIN_PER_MODEL:
        return {"value": point, "unit": "x", "significant": None,
                "ci_why": f"fewer than {MIN_PER_MODEL} requests on one side: too few for an interval"}
    got = bootstrap_ratio_ci(slow, fast, "median", n_boot=int(boot["n_boot"]), conf=float(boot["conf"]),
                             seed=int(boot["seed"]), max_points=int(boot["max_points"]))
    if got is None:
        return {"value": point, "unit": "x", "significant": None,
                "ci_why": "a resampled median of the faster model was 0"}
    return {"value": got[0], "unit": "x", "ci": [got[1], got[2]], "significant": bool(excludes_one(got))}


def model_comparison(frame: pd.DataFrame, parts: dict[str, pd.DataFrame],
                     boot: dict[str, Any]) -> dict[str, Any]:
    """The fastest and slowest model by p50 (TTFT when streamed, else E2E) in the fair population,
    and the ratio slow/fast with a bootstrap CI; ``{"why"}`` when fewer than two models qualify."""
    if len(parts) < 2:
        return {"why": "one model in this run: nothing to compare"}
    which = population(frame)
    for metric, _, _ in METRICS:
        values = {name: _picked(part, which, metric) for name, part in parts.items()}
        ranked = sorted((float(np.median(v)), name) for name, v in values.items() if v.size)
        if len(ranked) < 2 or ranked[0][0] <= 0:
            continue
        (fast_p50, fast), (slow_p50, slow) = ranked[0], ranked[-1]
        return {"population": which, "population_text": POPULATIONS[which], "metric": metric,
                "fast": fast, "slow": slow, "fast_p50": fast_p50, "slow_p50": slow_p50,
                "fast_n": int(values[fast].size), "slow_n": int(values[slow].size),
                "ratio": _ratio(values[slow], values[fast], boot)}
    return {"why": f"fewer than two models have successful {POPULATIONS[which].split(' (')[0]} "
                   "with a latency above 0"}
