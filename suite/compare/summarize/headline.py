"""Plain-words sentences of a comparison, each written only from measured values and their CIs.

The first sentence is the primary metric's (the one tested without correction), over the chosen
population, and says which population it is ("on cache misses: ..."). A difference is called
significant only after the correction (``significance``); otherwise "no significant difference",
never a win. A factor that rounds to 1.0× is given as a difference in time and percent instead.
The last sentence states the method: primary metric, population, how many metrics were corrected.
"""

from __future__ import annotations

from typing import Any

from suite.analyze.outputs.fmt import percent, seconds, times
from suite.compare.schema import Comparison, MetricRow
from suite.compare.summarize.population import describe_population
from suite.compare.summarize.significance import DEFAULT_PRIMARY, parse_primary

VERBS = {"ttft": "reaches the first token", "e2e": "completes requests"}
NAMES = {"ttft": "TTFT", "e2e": "E2E", "tpot": "TPOT", "itl_mean": "mean ITL"}


def _find(rows: list[MetricRow], metric: str, stat: str | None) -> MetricRow | None:
    return next((r for r in rows if r["metric"] == metric and r["stat"] == stat), None)


def _signed_range(ci: list[float] | None) -> str:
    if ci is None:
        return "unknown"
    return f"{_signed(ci[0])} to {_signed(ci[1])}"


def _signed(v: float) -> str:
    return ("+" if v >= 0 else "−") + seconds(abs(v))


def _p(r: MetricRow | dict[str, Any]) -> str:
    if r.get("p_holm") is not None:
        return f"Holm-adjusted p {r['p_holm']:.2g}"
    return "" if r.get("p") is None else f"p {r['p']:.2g}"


def _how_much(r: MetricRow, v_fast: float, v_slow: float, fast_is_a: bool, level: str) -> tuple[str, str]:
    """``("2.0×", "; 95% CI 1.6×–2.4×")`` or, when the factor would read 1.0×, the difference in time
    and percent with the CI of the difference."""
    factor = v_slow / v_fast if v_fast > 0 else None
    if factor is not None and f"{factor:.1f}" != "1.0":
        ci, ci_text = r["ratio_ci"], ""
        if ci is not None and ci[0] > 0:
            lo, hi = (ci if fast_is_a else (1 / ci[1], 1 / ci[0]))
            fmt = times if times(lo) != times(hi) else _times2  # never "1.5×–1.5×"
            return times(factor), f"; {level} CI {fmt(lo)}–{fmt(hi)}"
        return times(factor), ci_text
    share = f" ({percent((v_slow - v_fast) / v_slow)})" if v_slow > 0 else ""
    return (f"{seconds(v_slow - v_fast)}{share}",
            f"; {level} CI of the difference {_signed_range(r['delta_ci'])}")


def _times2(v: float) -> str:
    return f"{v:.2f}×"


def latency_sentence(a: str, b: str, rows: list[MetricRow], conf: float, metric: str = "e2e",
                     stat: str = "p50") -> str | None:
    """Who is faster at this metric and statistic, by how much, with the CI and the p-value."""
    r = _find(rows, metric, stat)
    if r is None or r["a"] is None or r["b"] is None:
        return None
    label, level, p = f"{stat} {NAMES[metric]}", f"{conf:.0%}", _p(r)
    p_text = f"; {p}" if p else ""
    if not r["significant"]:
        ci = r["delta_ci"]
        if r.get("p_holm") is not None and ci is not None and (ci[0] > 0 or ci[1] < 0):
            # the CI alone excludes 0, the family-wise correction does not: say which, never both
            return (f"{label}: {b} {seconds(r['b'])} vs {a} {seconds(r['a'])} — a difference on its own "
                    f"({level} CI {_signed_range(ci)}), not significant after the Holm correction ({p})")
        return (f"no significant difference in {label} between {b} and {a} ({seconds(r['b'])} vs "
                f"{seconds(r['a'])}; {level} CI of the difference {_signed_range(ci)}{p_text})")
    fast, slow = (b, a) if r["b"] < r["a"] else (a, b)
    v_fast, v_slow = min(r["a"], r["b"]), max(r["a"], r["b"])
    amount, ci_text = _how_much(r, v_fast, v_slow, fast == a, level)
    if metric in VERBS:
        lead = f"{fast} {VERBS[metric]} {amount} sooner than {slow}"
    else:
        lead = f"{fast} has a {amount} lower {label} than {slow}"
    return f"{lead} ({label} {seconds(v_fast)} vs {seconds(v_slow)}{ci_text}{p_text})"


def paired_sentence(a: str, b: str, paired: dict[str, Any], conf: float, metric: str = "ttft",
                    population: str = "all requests") -> str | None:
    """On the same requests (of the population in both runs): share faster in B and the median
    paired delta with its CI."""
    if not paired.get("paired") or not paired.get("groups"):
        return None
    rows = paired["groups"][0]["metrics"]
    order = [metric] + [m for m in ("ttft", "e2e") if m != metric]
    r = next((x for m in order for x in rows if x["metric"] == m and "median_delta" in x), None)
    if r is None:
        return None
    verdict = "" if r["significant"] else " — not significant"
    p = _p(r)
    which = "" if population == "all requests" else f" ({population} in both runs)"
    return (f"on the same {r['n_pairs']} requests{which}, {b} was faster than {a} for "
            f"{percent(r['share_faster_in_b'])} of them (median paired Δ{NAMES[r['metric']]} "
            f"{_signed(r['median_delta'])}, {conf:.0%} CI "
            f"{_signed_range(r['median_delta_ci'])}{'; ' + p if p else ''}{verdict})")


def error_sentence(a: str, b: str, rows: list[MetricRow]) -> str | None:
    r = _find(rows, "error_ratio", None)
    if r is None or r["a"] is None or r["b"] is None or (r["a"] == 0 and r["b"] == 0):
        return None if r is None or r["a"] is None else "no request failed in either run"
    flag = "significant" if r["significant"] else "not significant"
    return f"error ratio {percent(r['b'])} in {b} vs {percent(r['a'])} in {a} ({flag} after correction)"


def hit_sentence(a: str, b: str, rows: list[MetricRow]) -> str | None:
    r = _find(rows, "hit_ratio", None)
    if r is None or r["a"] is None or r["b"] is None:
        return None
    flag = "" if r["significant"] is None else \
        f" ({'significant' if r['significant'] else 'not significant'} after correction)"
    return f"cache hit ratio {percent(r['b'])} in {b} vs {percent(r['a'])} in {a}{flag}"


def throughput_sentence(a: str, b: str, rows: list[MetricRow]) -> str | None:
    """Output tokens/s of each run: one figure per run window, so a factor without a CI or a test,
    and said so (never "significant")."""
    r = _find(rows, "output_tokens_per_s", None)
    if r is None or r["a"] is None or r["b"] is None:
        return None
    va, vb = r["a"], r["b"]
    (more, v_more), (less, v_less) = ((b, vb), (a, va)) if vb > va else ((a, va), (b, vb))
    if v_less <= 0 or f"{v_more / v_less:.1f}" == "1.0":
        lead = f"{more} and {less} generate about the same output tokens/s"
    else:
        lead = f"{more} generates {times(v_more / v_less)} the output tokens/s of {less}"
    return f"{lead} ({v_more:,.1f} vs {v_less:,.1f}; whole-run throughput: no CI, not tested)"


def method_sentence(tests: dict[str, Any] | None, population: str, conf: float) -> str | None:
    """"primary metric E2E p50 of cache misses (95 %); 13 other metrics Holm-corrected"."""
    if not tests:
        return None
    metric, stat = parse_primary(tests["primary"])
    n = tests["family"]
    text = (f"primary metric {NAMES[metric]} {stat} of {population}, tested at {conf:.0%}; {n} other "
            f"metric{'s' if n != 1 else ''} Holm-corrected")
    return text + (f" ({tests['note']})" if tests.get("note") else "")


def comparison_headlines(cmp: Comparison, conf: float) -> list[str]:
    """The primary metric first (prefixed with its population when not every request), then the
    other of p50 TTFT/E2E, paired deltas, output tokens/s, errors and hits (every request), and the
    method."""
    a, b = cmp["a"], cmp["b"]
    rows = cmp["groups"][0]["metrics"] if cmp["groups"] else []
    tests = cmp.get("tests")
    metric, stat = parse_primary(tests["primary"] if tests else DEFAULT_PRIMARY)
    population = describe_population(cmp.get("population"))
    prefix = "" if population == "all requests" else f"on {population}: "
    other = "ttft" if metric != "ttft" else "e2e"
    latency = [latency_sentence(a, b, rows, conf, metric, stat),
               latency_sentence(a, b, rows, conf, other, "p50")]
    found = [prefix + s for s in latency if s]
    found.append(paired_sentence(a, b, cmp["paired"], conf, metric, population) or "")
    found += [s + (" (all requests)" if prefix else "") for s in (throughput_sentence(a, b, rows),
                                                                error_sentence(a, b, rows),
                                                                hit_sentence(a, b, rows)) if s]
    found.append(method_sentence(tests, population, conf) or "")
    return [s for s in found if s]
