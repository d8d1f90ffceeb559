"""Executive-summary sentences in plain words, each computed from the summary's own numbers.

A sentence is written only from measured values; when the numbers behind it are missing, the
sentence says what is missing instead of guessing.
"""

from __future__ import annotations

from typing import Any

from suite.analyze.fmt import percent, seconds, times


def _ranked(models: dict[str, Any], metric: str) -> list[tuple[float, str]]:
    return sorted((block[metric]["p50"], name) for name, block in models.items()
                  if block[metric]["p50"] is not None)


def model_sentence(models: dict[str, Any]) -> str | None:
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


def cache_sentence(cache: dict[str, Any]) -> str:
    """Per-hit speedup, observed hit ratio against the corpus's repeats, and the end-to-end bound."""
    h, repeats = cache["hit_ratio"]["value"], cache["corpus_repeat_ratio"]["value"]
    if h is None:
        return f"cache gains cannot be measured in this run: {cache['hit_ratio']['why']}"
    versus = f" vs {percent(repeats)} repeats in the corpus" if repeats is not None else ""
    ratio_text = f"observed hit ratio {percent(h)}{versus}"
    speed = cache["speedup"]["e2e_p50"]["value"]
    if speed is None:
        return f"{ratio_text}; no hit/miss latency comparison ({cache['speedup']['e2e_p50']['why']})"
    hit, miss = cache["hit"]["e2e"]["p50"], cache["miss"]["e2e"]["p50"]
    bound = cache["gain_bound"]["value"]
    bound_text = f"; at this hit ratio the end-to-end gain is at most {times(bound)}" if bound else ""
    return (f"cache hits answered {times(speed)} faster than misses (median E2E {seconds(hit)} vs "
            f"{seconds(miss)}); {ratio_text}{bound_text}")


def error_sentence(totals: dict[str, Any]) -> str:
    if not totals["failed"]:
        return f"all {totals['sent']} requests succeeded"
    top = totals["errors"][0]
    return (f"{totals['failed']} of {totals['sent']} requests failed ({percent(totals['error_ratio'])}), "
            f"most often {top['kind']} ({top['count']})")


def headlines(summary: dict[str, Any]) -> list[str]:
    sentences = [model_sentence(summary["models"]), cache_sentence(summary["cache"]),
                 error_sentence(summary["totals"])]
    return [s for s in sentences if s]
