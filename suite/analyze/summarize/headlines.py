"""Executive-summary sentences in plain words, each computed from the summary's own numbers.

A sentence is written only from measured values; when the numbers behind it are missing, the
sentence says what is missing instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from suite.analyze.outputs.fmt import percent, seconds, times
from suite.analyze.schema import (
    CacheSection,
    GroupBlock,
    RunSection,
    SloVerdict,
    Summary,
    Tokens,
    Totals,
    Why,
)
from suite.analyze.summarize.coverage import truncated
from suite.analyze.summarize.prefix import prefix_sentence

ON = {"miss": "on cache misses", "first_seen": "on first-seen requests (the target signals no cache hits)",
      "all": "on all successful requests (no cache signal or repeat flag sets hits apart)"}
VERB = {"ttft": ("reaches the first token", "p50 TTFT"), "e2e": ("completes requests", "p50 E2E")}


def _x(v: float) -> str:
    """A ratio near 1 needs two decimals: 0.96× and 1.04× must not both read 1.0×."""
    return f"{v:.2f}×" if v < 10 else times(v)


def _ci_text(node: Mapping[str, Any]) -> str:
    return f"95 % CI {_x(node['ci'][0])}–{_x(node['ci'][1])}" if "ci" in node else ""


def model_sentence(models: Mapping[str, GroupBlock],
                   comparison: Mapping[str, Any] | None = None) -> str | None:
    """Fastest against slowest model on like-for-like requests (``cache.model_comparison``); a CI
    that includes 1 reads "no significant difference"."""
    if len(models) == 1:
        name, block = next(iter(models.items()))
        if not block["e2e"]["n"]:
            return f"{name}: no successful requests, so no latency to report"
        return (f"{name}: p50 E2E {seconds(block['e2e']['p50'])}, p95 E2E {seconds(block['e2e']['p95'])} "
                f"over {block['e2e']['n']} successful requests")
    if not comparison or "why" in comparison:
        return None
    c = comparison
    verb, label = VERB[c["metric"]]
    fast, slow, r = c["fast"], c["slow"], c["ratio"]
    both = f"{seconds(c['fast_p50'])} vs {seconds(c['slow_p50'])}"
    if r["significant"] is None:
        return (f"{ON[c['population']]}, {fast}'s {label} is {seconds(c['fast_p50'])} and {slow}'s "
                f"{seconds(c['slow_p50'])}: too few requests to call a difference ({r['ci_why']})")
    if not r["significant"]:
        return (f"{ON[c['population']]}, no significant difference between {fast} and {slow} in {label} "
                f"({both}, ratio {_x(r['value'])}, {_ci_text(r)})")
    return (f"{ON[c['population']]}, {fast} {verb} {_x(r['value'])} sooner than {slow} "
            f"({label} {both}, {_ci_text(r)})")


def miss_text(explained: Mapping[str, Any]) -> str:
    """Why repeats missed, and what coalescing in-flight duplicates would add (when any were)."""
    n = explained.get("repeat_misses")
    if not n:
        return ""
    gap = explained["gap"]
    parts = [f"{explained[k]['count']} {label}" for k, label in
             (("in_flight", "sent while their first copy was in flight"),
              ("first_copy_failed", "after only failed copies"),
              ("after_finish", "after a copy had finished"), ("expired", "past the cache TTL"))
             if explained[k]["count"]]
    text = f"; {n} repeats missed ({', '.join(parts)})"
    if gap["theoretical_in_run"]["value"] is not None:
        text += (f"; {percent(gap['theoretical_in_run']['value'])} could have hit in this run's order, "
                 f"{percent(gap['observed']['value'])} did")
    if explained["in_flight"]["count"]:
        text += (f"; coalescing identical in-flight requests would add "
                 f"{explained['coalescing_would_add']['value']:.1f} points")
    return text


def cache_sentence(cache: CacheSection) -> str:
    """Per-hit speedup (or no significant difference), observed hit ratio of successful requests
    against the corpus's repeats, the end-to-end bound, and why repeats missed."""
    h, repeats = cache["hit_ratio"]["value"], cache["corpus_repeat_ratio"]["value"]
    if h is None:
        return repeat_sentence(cache.get("by_repeat", {})) or \
            f"cache gains cannot be measured in this run: {cache['hit_ratio']['why']}"
    versus = f" vs {percent(repeats)} repeats in the corpus" if repeats is not None else ""
    failed = f" ({cache['failed']} failed requests counted apart)" if cache.get("failed") else ""
    ratio_text = f"observed hit ratio {percent(h)}{versus}{failed}"
    why_missed = miss_text(cache.get("repeat_misses", {}))
    speed = cache["speedup"]["e2e_p50"]
    if speed["value"] is None:
        return f"{ratio_text}; no hit/miss latency comparison ({speed['why']}){why_missed}"
    hit, miss = cache["hit"]["e2e"]["p50"], cache["miss"]["e2e"]["p50"]
    bound = cache["gain_bound"]["value"]
    bound_text = f"; at this hit ratio the end-to-end gain is at most {times(bound)}" if bound else ""
    ci = speed.get("ci")
    if ci and ci[0] <= 1 <= ci[1]:
        return (f"no significant difference between cache hits and misses (median E2E {seconds(hit)} vs "
                f"{seconds(miss)}, ratio {_x(speed['value'])}, {_ci_text(speed)}); {ratio_text}{why_missed}")
    ci_text = f", 95 % CI {times(ci[0])}–{times(ci[1])}" if ci else ""
    return (f"cache hits answered {times(speed['value'])} faster than misses (median E2E {seconds(hit)} vs "
            f"{seconds(miss)}{ci_text}); {ratio_text}{bound_text}{why_missed}")


def repeat_sentence(by_repeat: Mapping[str, Any]) -> str | None:
    """For a target without a cache signal: repeats against first-seen requests (corpus truth)."""
    node = by_repeat.get("speedup", {}).get("e2e_p50", {})
    if node.get("value") is None or "ci" not in node:
        return None
    rep, first = by_repeat["repeat"]["e2e"]["p50"], by_repeat["first_seen"]["e2e"]["p50"]
    return (f"the target reports no cache signal; repeated requests answered {times(node['value'])} faster "
            f"than first-seen ones (median E2E {seconds(rep)} vs {seconds(first)}, 95 % CI "
            f"{times(node['ci'][0])}–{times(node['ci'][1])})")


def error_sentence(totals: Totals) -> str:
    if not totals["failed"]:
        return f"all {totals['sent']} requests succeeded"
    top = totals["errors"][0]
    return (f"{totals['failed']} of {totals['sent']} requests failed ({percent(totals['error_ratio'])}), "
            f"most often {top['kind']} ({top['count']})")


def cost_sentence(tokens: Tokens) -> str | None:
    """Dollars at the dated prices, and what the cache kept; nothing when no model is priced."""
    cost = tokens.get("cost", {})
    total = cost.get("total", {}).get("value")
    if total is None:
        return None
    saved = cost["saved_by_cache_hits"]["value"]
    saved_text = f"; cache hits saved ${saved:,.4f}" if saved is not None else ""
    return f"the run's tokens cost ${total:,.4f} at {cost['as_of']} list prices{saved_text}"


def slo_sentence(slo: SloVerdict | Why) -> str | None:
    """The verdict and, on failure, the first failed check in words."""
    if "checks" not in slo:
        return None
    if slo["passed"]:
        return f"the run meets SLO {slo['profile']} ({len(slo['checks'])} checks passed)"
    failed = [c for c in slo["checks"] if not c["passed"]]
    first = failed[0]
    name = f"{first['metric']} {first['stat']}" if first["stat"] else first["metric"]
    return (f"the run FAILS SLO {slo['profile']}: {len(failed)} of {len(slo['checks'])} checks failed, "
            f"first {name} ({first['scope']}): {first['why']}")


def aborted_sentence(run: RunSection) -> str | None:
    aborted = run.get("aborted")
    if not aborted:
        return None
    return f"the run was ABORTED early ({aborted.get('reason')}); every figure covers only what ran"


def coverage_sentence(run: RunSection) -> str | None:
    """Only a run that left corpus requests unsent says so: its figures are not the corpus's."""
    node = run.get("coverage")
    if node is None or not truncated(node):
        return None
    lead = "the run was" if node["stopped_by"] else "the run sent only"
    return f"{lead} {node['note']}; every figure covers only the requests sent"


def headlines(summary: Summary) -> list[str]:
    comparison = summary["cache"].get("model_comparison")
    sentences = [coverage_sentence(summary["run"]), aborted_sentence(summary["run"]),
                 model_sentence(summary["models"], comparison),
                 cache_sentence(summary["cache"]),
                 prefix_sentence(cast("dict[str, Any] | None", summary.get("prefix_cache"))),
                 error_sentence(summary["totals"]),
                 cost_sentence(summary.get("tokens", {})), slo_sentence(summary.get("slo", {}))]
    return [s for s in sentences if s]
