"""Executive-summary sentences in plain words, each computed from the summary's own numbers.

A sentence is written only from measured values; when the numbers behind it are missing, the
sentence says what is missing instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def _ranked(models: Mapping[str, Mapping[str, Any]], metric: str) -> list[tuple[float, str]]:
    return sorted((block[metric]["p50"], name) for name, block in models.items()
                  if block[metric]["p50"] is not None)


def model_sentence(models: dict[str, GroupBlock]) -> str | None:
    """Fastest against slowest model, on TTFT when streamed, else on E2E."""
    for metric, verb, label in (("ttft", "reaches the first token", "p50"),
                                ("e2e", "completes requests", "p50 E2E")):
        ranked = _ranked(models, metric)
        if len(ranked) >= 2 and ranked[0][0] > 0:
            (fast, fast_name), (slow, slow_name) = ranked[0], ranked[-1]
            return (f"{fast_name} {verb} {times(slow / fast)} sooner than {slow_name} "
                    f"({label} {seconds(fast)} vs {seconds(slow)})")
    if len(models) == 1:
        name, block = next(iter(models.items()))
        if not block["e2e"]["n"]:
            return f"{name}: no successful requests, so no latency to report"
        return (f"{name}: p50 E2E {seconds(block['e2e']['p50'])}, p95 E2E {seconds(block['e2e']['p95'])} "
                f"over {block['e2e']['n']} successful requests")
    return None


def cache_sentence(cache: CacheSection) -> str:
    """Per-hit speedup, observed hit ratio against the corpus's repeats, and the end-to-end bound."""
    h, repeats = cache["hit_ratio"]["value"], cache["corpus_repeat_ratio"]["value"]
    if h is None:
        return repeat_sentence(cache.get("by_repeat", {})) or \
            f"cache gains cannot be measured in this run: {cache['hit_ratio']['why']}"
    versus = f" vs {percent(repeats)} repeats in the corpus" if repeats is not None else ""
    ratio_text = f"observed hit ratio {percent(h)}{versus}"
    speed = cache["speedup"]["e2e_p50"]["value"]
    if speed is None:
        return f"{ratio_text}; no hit/miss latency comparison ({cache['speedup']['e2e_p50']['why']})"
    hit, miss = cache["hit"]["e2e"]["p50"], cache["miss"]["e2e"]["p50"]
    bound = cache["gain_bound"]["value"]
    bound_text = f"; at this hit ratio the end-to-end gain is at most {times(bound)}" if bound else ""
    ci = cache["speedup"]["e2e_p50"].get("ci")
    ci_text = f", 95 % CI {times(ci[0])}–{times(ci[1])}" if ci else ""
    return (f"cache hits answered {times(speed)} faster than misses (median E2E {seconds(hit)} vs "
            f"{seconds(miss)}{ci_text}); {ratio_text}{bound_text}")


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


def headlines(summary: Summary) -> list[str]:
    sentences = [aborted_sentence(summary["run"]), model_sentence(summary["models"]),
                 cache_sentence(summary["cache"]), error_sentence(summary["totals"]),
                 cost_sentence(summary.get("tokens", {})), slo_sentence(summary.get("slo", {}))]
    return [s for s in sentences if s]
