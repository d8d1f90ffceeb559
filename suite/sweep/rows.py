"""Pure pieces of a sweep result: one row per step, computed from that step's per-request samples,
its corpus manifest and its summary; the cache gain against the baseline step; the SLO knee.

Cache sweep rows publish together (no gain is read without its bound): the corpus's repetition ratio, the
theoretical hit ratio of an unbounded exact cache (manifest), the observed hit ratio, the per-hit
speedup (median miss E2E / median hit E2E), the measured end-to-end gain against the baseline step
(mean E2E of the baseline / mean E2E of the step: mean, because total time is what a cache saves)
and the bound ``1/(1−h)`` at the observed and at the theoretical hit ratio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from suite.analyze.schema import Summary
from suite.analyze.summarize.bootstrap import bootstrap_ci, bootstrap_ratio_ci
from suite.analyze.summarize.coverage import truncated
from suite.analyze.summarize.stats import gain_bound
from suite.compare.read.samples import RunSamples
from suite.compare.summarize.deltas import Boot

if TYPE_CHECKING:
    from mock_server.config import Profile

SWEEP_SCHEMA = "llmsuite.sweep/1"


def _ci(got: tuple[float, float, float] | None) -> dict[str, Any]:
    return {"value": None, "ci": None} if got is None else {"value": got[0], "ci": [got[1], got[2]]}


def _with_why(block: dict[str, Any], why: str) -> dict[str, Any]:
    return block if block["value"] is not None else {**block, "why": why}


def _pct(values: np.ndarray, q: float) -> float | None:
    v = values[np.isfinite(values)]
    return float(np.percentile(v, q)) if v.size else None


def latency_cells(s: RunSamples) -> dict[str, Any]:
    """p50/p95/p99 of TTFT and E2E and the run's throughput (successful requests)."""
    out: dict[str, Any] = {f"{m}_{q}": _pct(s.values[m], int(q[1:])) for m in ("ttft", "e2e")
                           for q in ("p50", "p95", "p99")}
    tokens = s.completion_tokens[np.isfinite(s.completion_tokens)]
    out["requests"], out["ok"] = int(s.ids.size), int(s.ok.sum())
    out["error_ratio"] = float((~s.ok).mean()) if s.ids.size else None
    out["requests_per_s"] = s.ids.size / s.seconds if s.seconds > 0 else None
    out["output_tokens_per_s"] = float(tokens.sum()) / s.seconds if s.seconds > 0 and tokens.size else None
    return out


def scheduled_cells(summary: Summary) -> dict[str, Any]:
    """Open-loop honesty (no coordinated omission): p95 E2E measured from each request's scheduled
    send time, and p95 send lateness, as the step's own analysis computed them (None in closed loop)."""
    overall = summary.get("overall", {})
    return {"e2e_from_scheduled_p95": (overall.get("e2e_from_scheduled") or {}).get("p95"),
            "lateness_p95": (overall.get("lateness") or {}).get("p95")}


def cache_cells(s: RunSamples, manifest: dict[str, Any] | None, boot: Boot) -> dict[str, Any]:
    """Hit ratio (with CI), per-hit speedup (with CI) and the corpus's own figures."""
    hit = s.hit[np.isfinite(s.hit)]
    e2e = s.values["e2e"]
    hits, misses = e2e[(s.hit == 1) & np.isfinite(e2e)], e2e[(s.hit == 0) & np.isfinite(e2e)]
    speed = bootstrap_ratio_ci(misses, hits, "median", n_boot=boot.n_boot, conf=boot.conf,
                               seed=boot.seed_for(s.label, "speedup"))
    why = "no successful hits in this step" if hits.size == 0 else "no successful misses in this step"
    m = manifest or {}
    return {
        "corpus_repeat_ratio": (m.get("repeat_ratio") or {}).get("achieved"),
        "theoretical_hit_ratio": m.get("theoretical_hit_ratio"),
        "hit_ratio": _with_why(_ci(bootstrap_ci(hit, "mean", n_boot=boot.n_boot, conf=boot.conf,
                                                seed=boot.seed_for(s.label, "hit"))),
                               "no request carried a cache signal (hit or miss)"),
        "hits": int((hit == 1).sum()), "misses": int((hit == 0).sum()),
        "per_hit_speedup": _with_why(_ci(speed), why),
        "hit_e2e_p50": _pct(hits, 50), "miss_e2e_p50": _pct(misses, 50),
    }


def miss_cells(summary: Summary) -> dict[str, Any]:
    """Why the step's hit ratio falls short of its corpus's, from the step's own analysis
    (suite.analyze.summarize.misses): failures (never counted as misses), repeat misses sent while
    their first copy was in flight, and what coalescing identical in-flight requests would add."""
    cache = summary.get("cache", {})
    rm = cache.get("repeat_misses") or {}
    if "in_flight" not in rm:
        why = rm.get("why", "the step's analysis has no repeat-miss explanation")
        return {"failed": cache.get("failed"), "repeat_misses": None, "in_flight_misses": None,
                "in_flight_share": {"value": None, "why": why},
                "coalescing_would_add": {"value": None, "why": why}}
    successful = (cache.get("hits") or 0) + (cache.get("misses") or 0)
    in_flight = rm["in_flight"]["count"]
    return {"failed": cache.get("failed"), "repeat_misses": rm["repeat_misses"],
            "in_flight_misses": in_flight,
            # a share of the step's successful requests that carried a cache signal
            "in_flight_share": _with_why({"value": in_flight / successful if successful else None},
                                         "no successful request carried a cache signal"),
            "coalescing_would_add": dict(rm["coalescing_would_add"])}


def base_point(base: np.ndarray) -> dict[str, Any]:
    """The baseline against itself: exactly 1 by definition, with no interval (resampling one sample
    twice would invent a spread)."""
    if not np.isfinite(base).any():
        return {"value": None, "ci": None, "why": "no successful requests in the baseline step"}
    return {"value": 1.0, "ci": None, "why": "the baseline step itself"}


def add_gains(rows: list[dict[str, Any]], samples: list[RunSamples], boot: Boot) -> dict[str, Any]:
    """End-to-end gain of every step against the lowest-ratio step (the baseline), and both bounds."""
    base_i = int(np.argmin([r["repeat_ratio"] for r in rows]))
    base = samples[base_i].values["e2e"]
    for i, (row, s) in enumerate(zip(rows, samples, strict=True)):
        if i == base_i:
            row["e2e_gain"] = base_point(base)
        else:
            got = bootstrap_ratio_ci(base, s.values["e2e"], "mean", n_boot=boot.n_boot, conf=boot.conf,
                                     seed=boot.seed_for(s.label, "gain"))
            row["e2e_gain"] = _with_why(_ci(got), "no successful requests in this step or the baseline")
        h = row["hit_ratio"]["value"]
        row["gain_bound_observed"] = gain_bound(h)
        row["gain_bound_theoretical"] = gain_bound(row["theoretical_hit_ratio"])
    base_row = rows[base_i]
    return {"step": base_i, "repeat_ratio": base_row["repeat_ratio"],
            "observed_hit_ratio": base_row["hit_ratio"]["value"],
            "note": "gains are mean E2E of this step relative to the baseline step; with a non-zero baseline "
                    "hit ratio they understate the gain over no cache at all"}


def knee(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The first load level whose SLO verdict fails (rows in increasing load order)."""
    judged = [r for r in rows if r.get("slo") is not None]
    if not judged:
        return {"level": None, "why": "no --slo given: no SLO to find the knee of"}
    for r in judged:
        if not r["slo"]["passed"]:
            failed = [c for c in r["slo"]["checks"] if not c["passed"]]
            return {"level": r[key], "failed_checks": [c["why"] for c in failed]}
    return {"level": None, "why": f"the SLO holds at every level up to {judged[-1][key]}"}


def coverage_warnings(steps: list[tuple[str, Summary]]) -> list[str]:
    """A line per step that left corpus requests unsent (its summary's ``run.coverage``): its row
    measures only the part of the corpus it sent, so steps may not compare like for like."""
    out = []
    for label, summary in steps:
        node = (summary.get("run") or {}).get("coverage")
        if node is not None and truncated(node):
            out.append(f"step '{label}' {node['note']}: its row covers only the requests sent. Raise -d "
                       "(a safety cap) or send fewer requests per step (--n).")
    return out


HIT_MARGIN = 0.02  # observed − theoretical hit ratio tolerated (a few mis-read signals), as a share


def excess_hits(rows: list[dict[str, Any]], margin: float = HIT_MARGIN) -> list[str]:
    """Loud lines for steps whose observed hit ratio exceeds what their corpus allows.

    The theoretical hit ratio is what an unbounded exact-match cache starting empty could reach on
    the step's corpus; a step above it was served hits for prompts it had not sent yet: the target
    kept an earlier run's cache (a re-run inside its TTL, unsalted), ignores the salt, or caches
    semantically. At the baseline (lowest ratio) step every gain of the sweep is understated."""
    out = []
    base = min(r["repeat_ratio"] for r in rows) if rows else None
    for row in rows:
        h, t = row["hit_ratio"]["value"], row["theoretical_hit_ratio"]
        if h is None or t is None or h <= t + margin:
            continue
        which = "the baseline step" if row["repeat_ratio"] == base else "the step"
        out.append(f"{which} (ratio {row['repeat_ratio']:g}) shows a {h:.1%} hit ratio where its corpus "
                   f"allows at most {t:.1%} (an exact cache starting empty): the target served hits for "
                   "prompts this step had not sent — it kept an earlier run's cache, ignores the salt, or "
                   "caches semantically; hit ratios are inflated and gains against the baseline understated.")
    return out


def flat_load_warnings(models: list[str], profiles: dict[str, Profile], where: str) -> list[str]:
    """A line per swept model whose bundled-mock profile has no batch (``load.max_batch``): every
    request of it is answered at once whatever the load, so a load sweep of it is flat by
    construction and its curve says nothing about capacity. Models absent from the profiles are
    left to the steps' own errors."""
    return [f"latency will not depend on load: profile {name} has no batch/queue model (no "
            f"load.max_batch in {where}), so every level answers as fast as the first; add one "
            "(docs/mock-server.md, Model profiles) or sweep a model that has one."
            for name in models if name in profiles
            and (profiles[name].load is None or profiles[name].load.max_batch is None)]
