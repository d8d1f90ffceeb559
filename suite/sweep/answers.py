"""The answers of a sweep in plain words, from sweep.json only (the page opens with them).

Cache sweep: per step, the observed hit ratio against what its corpus allows, the end-to-end gain
against the baseline step beside its bound ``1/(1−h)``; the per-hit speedup; what coalescing
identical in-flight requests would add, or why that is not known. Load sweep: the level where the
SLO breaks (the knee) and what broke, or the highest level it held at; how latency and throughput
moved from the lowest to the highest level. A figure a step lacks is said to be missing, with why.
"""

from __future__ import annotations

from typing import Any

from suite.analyze.outputs.fmt import number, percent, seconds


def fx(v: float | None) -> str:
    """A factor: ``1.62×``, ``230×`` (three significant digits at most)."""
    if v is None:
        return "—"
    return f"{v:.0f}×" if v >= 100 else f"{v:.1f}×" if v >= 10 else f"{v:.2f}×"


def _ci_times(block: dict[str, Any], conf: str) -> str:
    ci = block.get("ci")
    return "" if not ci else f"; {conf} CI {fx(ci[0])}–{fx(ci[1])}"


def _conf(result: dict[str, Any]) -> str:
    return f"{(result.get('bootstrap') or {}).get('conf', 0.95):.0%}"


def _base(result: dict[str, Any]) -> float | None:
    return (result.get("baseline") or {}).get("repeat_ratio")


def cache_step_sentence(step: dict[str, Any], result: dict[str, Any]) -> str:
    """"ratio 0.5: hit ratio 42.5 % (95% CI 32.5–53.8 %) of a theoretical 50.0 %; 1.62× faster end to
    end than ratio 0 (95% CI 1.30×–2.19×), of at most 1.74× at that hit ratio"."""
    conf, hit = _conf(result), step["hit_ratio"]
    ci = hit.get("ci")
    shown_ci = ci and ci[0] != ci[1]
    hit_text = (f"hit ratio {percent(hit['value'])}" + (f" ({conf} CI {percent(ci[0])}–{percent(ci[1])})"
                                                        if shown_ci else "")
                if hit.get("value") is not None else f"hit ratio not measured ({hit.get('why')})")
    theory = percent(step.get("theoretical_hit_ratio"))
    text = f"ratio {step['repeat_ratio']:g}: {hit_text} of a theoretical {theory}"
    gain = step.get("e2e_gain") or {}
    if step["repeat_ratio"] == _base(result):
        return f"{text} (the baseline step)"
    if gain.get("value") is None:
        return f"{text}; end-to-end gain not measured ({gain.get('why')})"
    return (f"{text}; {fx(gain['value'])} faster end to end than ratio {_base(result):g} "
            f"({_ci_times(gain, conf)[2:] or 'no CI'}), of at most {fx(step.get('gain_bound_observed'))} at "
            f"that hit ratio ({fx(step.get('gain_bound_theoretical'))} at the theoretical one)")


def speedup_sentence(result: dict[str, Any]) -> str:
    """The per-hit speedup of the highest-ratio step that measured one."""
    measured = [s for s in result["steps"] if (s.get("per_hit_speedup") or {}).get("value") is not None]
    if not measured:
        whys = {str((s.get("per_hit_speedup") or {}).get("why")) for s in result["steps"]}
        return f"per-hit speedup not measured: {'; '.join(sorted(whys))}"
    s = max(measured, key=lambda x: x["repeat_ratio"])
    block = s["per_hit_speedup"]
    return (f"a cache hit answers {fx(block['value'])} faster than a miss (median E2E "
            f"{seconds(s.get('hit_e2e_p50'))} vs {seconds(s.get('miss_e2e_p50'))} at ratio "
            f"{s['repeat_ratio']:g}{_ci_times(block, _conf(result))})")


def coalescing_sentence(result: dict[str, Any]) -> str:
    blocks = [(s["repeat_ratio"], s.get("coalescing_would_add") or {}) for s in result["steps"]]
    known = [(r, b["value"]) for r, b in blocks if b.get("value") is not None]
    if known:
        r, v = max(known, key=lambda x: x[1])
        return (f"coalescing identical in-flight requests would add up to {v:.1f} points of hit ratio "
                f"(at ratio {r:g})")
    why = next((b.get("why") for _, b in blocks if b.get("why")), "no step explained its repeat misses")
    return f"what coalescing would add is not known: {why}"


def cache_answers(result: dict[str, Any]) -> list[str]:
    steps = sorted(result["steps"], key=lambda s: s["repeat_ratio"])
    return [*(cache_step_sentence(s, result) for s in steps), speedup_sentence(result),
            coalescing_sentence(result)]


def _level(result: dict[str, Any], value: Any) -> str:
    key = result.get("level_key", "users")
    return f"{value:g} users" if key == "users" else f"{value:g} requests/s offered"


def knee_sentence(result: dict[str, Any]) -> str:
    knee, key = result.get("knee") or {}, result.get("level_key", "users")
    profile = (result.get("settings") or {}).get("slo")
    slo = f"SLO {profile}" if profile else "the SLO"
    if knee.get("level") is None:
        return f"no knee: {knee.get('why', 'no SLO verdict')}"
    levels = [s[key] for s in result["steps"]]
    below = [v for v in levels if v < knee["level"]]
    held = (f"; it held at {_level(result, max(below))}" if below
            else "; it already fails at the lowest level tested")
    failed = "; ".join(_failed_checks(result, knee))
    return f"{slo} breaks at {_level(result, knee['level'])} ({failed}){held}"


_METRIC_NAMES = {"e2e": "E2E", "ttft": "TTFT", "tpot": "TPOT", "itl": "ITL"}


def _failed_checks(result: dict[str, Any], knee: dict[str, Any]) -> list[str]:
    """"E2E p95 1.33 s, limit < 500 ms" for each failed check of the knee step (the verdict's own
    formatted ``why`` carries value and limit); the knee's bare reasons when the step has none."""
    key = result.get("level_key", "users")
    step = next((s for s in result["steps"] if s.get(key) == knee["level"]), {})
    checks = [c for c in ((step.get("slo") or {}).get("checks") or []) if not c.get("passed")]
    if not checks:
        return list(knee.get("failed_checks") or [])
    out = []
    for c in checks:
        metric = _METRIC_NAMES.get(c.get("metric"), str(c.get("metric") or "check").replace("_", " "))
        name = f"{metric} {c['stat']}" if c.get("stat") else metric
        value, _, limit = str(c.get("why", "")).partition(" breaks ")
        out.append(f"{name} {value}, limit {limit}" if limit else f"{name}: {c.get('why')}")
    return out


def load_answers(result: dict[str, Any]) -> list[str]:
    key = result.get("level_key", "users")
    steps = sorted(result["steps"], key=lambda s: s[key])
    out = [knee_sentence(result)]
    if len(steps) >= 2:
        lo, hi = steps[0], steps[-1]
        out.append(f"from {_level(result, lo[key])} to {_level(result, hi[key])}: p95 E2E "
                   f"{seconds(lo.get('e2e_p95'))} → {seconds(hi.get('e2e_p95'))}, throughput "
                   f"{number(lo.get('requests_per_s'), 2)} → {number(hi.get('requests_per_s'), 2)} "
                   "requests/s "
                   f"({number(lo.get('output_tokens_per_s'))} → {number(hi.get('output_tokens_per_s'))} "
                   "output tokens/s)")
    errors = [s for s in steps if s.get("error_ratio")]
    if errors:
        worst = max(errors, key=lambda s: s["error_ratio"])
        out.append(f"errors reach {percent(worst['error_ratio'])} at {_level(result, worst[key])}")
    return out


def sweep_answers(result: dict[str, Any]) -> list[str]:
    if result["kind"] == "semantic":
        from suite.sweep.semanticfiles import semantic_answers

        return semantic_answers(result)
    return cache_answers(result) if result["kind"] == "cache" else load_answers(result)
