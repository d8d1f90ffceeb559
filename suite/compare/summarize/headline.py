"""Plain-words sentences of a comparison, each written only from measured values and their CIs.

A difference whose CI includes 0 is called "no significant difference", never a win.
"""

from __future__ import annotations

from typing import Any

from suite.analyze.outputs.fmt import percent, seconds, times
from suite.compare.schema import Comparison, MetricRow

VERBS = {"ttft": ("reaches the first token", "p50 TTFT"), "e2e": ("completes requests", "p50 E2E")}


def _find(rows: list[MetricRow], metric: str, stat: str | None) -> MetricRow | None:
    return next((r for r in rows if r["metric"] == metric and r["stat"] == stat), None)


def _range(ci: list[float] | None, fmt: Any) -> str:
    return "" if ci is None else f"{fmt(ci[0])} to {fmt(ci[1])}"


def latency_sentence(a: str, b: str, rows: list[MetricRow], conf: float) -> str | None:
    """Who is faster at p50 (TTFT when streamed, else E2E), by how many times, with the CI."""
    for metric in ("ttft", "e2e"):
        r = _find(rows, metric, "p50")
        if r is None or r["a"] is None or r["b"] is None:
            continue
        verb, label = VERBS[metric]
        level = f"{conf:.0%}"
        if not r["significant"]:
            return (f"no significant difference in {label} between {b} and {a} ({seconds(r['b'])} vs "
                    f"{seconds(r['a'])}; {level} CI of the difference {_signed_range(r['delta_ci'])})")
        fast, slow = (b, a) if r["b"] < r["a"] else (a, b)
        v_fast, v_slow = min(r["a"], r["b"]), max(r["a"], r["b"])
        factor = v_slow / v_fast if v_fast > 0 else None
        ci = r["ratio_ci"]
        ci_text = ""
        if ci is not None and ci[0] > 0:
            lo, hi = (ci if fast == a else (1 / ci[1], 1 / ci[0]))
            ci_text = f"; {level} CI {times(lo)}–{times(hi)}"
        how = f"{times(factor)} sooner" if factor else "sooner"
        return f"{fast} {verb} {how} than {slow} ({label} {seconds(v_fast)} vs {seconds(v_slow)}{ci_text})"
    return None


def _signed_range(ci: list[float] | None) -> str:
    if ci is None:
        return "unknown"
    return f"{_signed(ci[0])} to {_signed(ci[1])}"


def _signed(v: float) -> str:
    return ("+" if v >= 0 else "−") + seconds(abs(v))


def paired_sentence(a: str, b: str, paired: dict[str, Any], conf: float) -> str | None:
    """On the same requests: share faster in B and the median paired delta with its CI."""
    if not paired.get("paired") or not paired.get("groups"):
        return None
    rows = paired["groups"][0]["metrics"]
    r = next((x for x in rows if x["metric"] == "ttft" and "median_delta" in x), None) or \
        next((x for x in rows if x["metric"] == "e2e" and "median_delta" in x), None)
    if r is None:
        return None
    name = "TTFT" if r["metric"] == "ttft" else "E2E"
    verdict = "" if r["significant"] else " — not significant"
    return (f"on the same {r['n_pairs']} requests, {b} was faster than {a} for "
            f"{percent(r['share_faster_in_b'])} of them (median paired Δ{name} "
            f"{_signed(r['median_delta'])}, {conf:.0%} CI "
            f"{_signed_range(r['median_delta_ci'])}{verdict})")


def error_sentence(a: str, b: str, rows: list[MetricRow]) -> str | None:
    r = _find(rows, "error_ratio", None)
    if r is None or r["a"] is None or r["b"] is None or (r["a"] == 0 and r["b"] == 0):
        return None if r is None or r["a"] is None else "no request failed in either run"
    flag = "significant" if r["significant"] else "not significant"
    return f"error ratio {percent(r['b'])} in {b} vs {percent(r['a'])} in {a} ({flag})"


def hit_sentence(a: str, b: str, rows: list[MetricRow]) -> str | None:
    r = _find(rows, "hit_ratio", None)
    if r is None or r["a"] is None or r["b"] is None:
        return None
    return f"cache hit ratio {percent(r['b'])} in {b} vs {percent(r['a'])} in {a}"


def comparison_headlines(cmp: Comparison, conf: float) -> list[str]:
    a, b = cmp["a"], cmp["b"]
    rows = cmp["groups"][0]["metrics"] if cmp["groups"] else []
    found = [latency_sentence(a, b, rows, conf), paired_sentence(a, b, cmp["paired"], conf),
             error_sentence(a, b, rows), hit_sentence(a, b, rows)]
    return [s for s in found if s]
