"""sweep.html on the shared page skeleton (``suite.analyze.outputs.page``): the banner (target, cache
backend, seeds, salt, baseline, fresh-request probe), warnings as alerts, the answers
(``suite.sweep.answers``), the chart, a compact table with human column names and units, then every
column of sweep.csv in a fold that scrolls sideways. Step folders are named, never their paths
(those are in the metadata fold): a page is read on another machine than the one that ran it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from suite.analyze.outputs.fmt import MISSING, number, percent, seconds
from suite.analyze.outputs.page import Fact, Fold, figure, paragraph, render_page, table
from suite.sweep.answers import fx, sweep_answers

Cell = Callable[[dict[str, Any]], str]

SECONDS = {"ttft_p50", "ttft_p95", "ttft_p99", "e2e_p50", "e2e_p95", "e2e_p99", "hit_e2e_p50", "miss_e2e_p50",
           "e2e_from_scheduled_p95", "lateness_p95"}
PERCENT = {"theoretical_hit_ratio", "hit_ratio", "error_ratio", "in_flight_share", "false_hit_ratio",
           "precision", "recall"}
TIMES = {"per_hit_speedup", "e2e_gain", "gain_bound_observed", "gain_bound_theoretical"}
RATES = {"requests_per_s", "output_tokens_per_s"}
NAMES = {
    "repeat_ratio": "ratio", "users": "users", "rate": "offered rate (requests/s)", "run_dir": "step folder",
    "corpus_repeat_ratio": "corpus repeat ratio", "theoretical_hit_ratio": "theoretical hit",
    "hit_ratio": "observed hit (CI)", "hits": "hits", "misses": "misses",
    "per_hit_speedup": "per-hit speedup (CI)", "hit_e2e_p50": "hit E2E p50", "miss_e2e_p50": "miss E2E p50",
    "failed": "failed", "repeat_misses": "repeat misses", "in_flight_misses": "in-flight misses",
    "in_flight_share": "in-flight share", "coalescing_would_add": "coalescing would add",
    "ttft_p50": "TTFT p50", "ttft_p95": "TTFT p95", "ttft_p99": "TTFT p99", "e2e_p50": "E2E p50",
    "e2e_p95": "E2E p95", "e2e_p99": "E2E p99", "requests": "requests", "ok": "ok", "error_ratio": "errors",
    "requests_per_s": "requests/s", "output_tokens_per_s": "output tokens/s",
    "e2e_from_scheduled_p95": "E2E p95 from scheduled send", "lateness_p95": "send lateness p95",
    "slo": "SLO", "e2e_gain": "E2E gain vs baseline (CI)", "gain_bound_observed": "bound 1/(1−h), observed h",
    "gain_bound_theoretical": "bound 1/(1−h), theoretical h",
    "threshold": "threshold", "false_hit_ratio": "false-hit ratio (CI)", "precision": "precision (CI)",
    "recall": "recall (CI)", "exact_hits": "exact hits", "paraphrase_hits": "paraphrase hits",
    "false_hits": "false hits", "false_near_miss": "of which near misses",
    "missed_paraphrase": "missed paraphrases",
}
SHORT = {"e2e_gain": "E2E gain (CI)", "gain_bound_observed": "bound 1/(1−h)"}  # the main table's
CACHE_MAIN = ("repeat_ratio", "theoretical_hit_ratio", "hit_ratio", "hits", "misses", "failed",
              "per_hit_speedup", "hit_e2e_p50", "miss_e2e_p50", "e2e_gain", "gain_bound_observed", "slo")
OPTIONAL = {"failed", "ttft_p50", "ttft_p95", "e2e_from_scheduled_p95"}  # shown when a step has one
LOAD_MAIN = ("requests", "error_ratio", "ttft_p50", "ttft_p95", "e2e_p50", "e2e_p95", "e2e_p99",
             "requests_per_s", "output_tokens_per_s", "e2e_from_scheduled_p95", "slo")


def _plain(key: str, v: Any) -> str:
    """One value in its unit; ``None`` is the missing mark, never 0."""
    if v is None:
        return MISSING
    if key in SECONDS:
        return seconds(v)
    if key in PERCENT:
        return percent(v)
    if key in TIMES:
        return fx(v)
    if key in RATES:
        return number(v)
    if key == "coalescing_would_add":
        return f"{v:.1f} pt"
    if key == "run_dir":
        return Path(str(v)).name
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:g}" if key in ("repeat_ratio", "corpus_repeat_ratio", "rate", "users") else f"{v:.4g}"
    return str(v)


def cell(key: str, step: dict[str, Any], knee: Any = None) -> str:
    """A step's value of ``key``: a ``{"value", "ci"}`` block as "value (lo–hi)", the SLO as its verdict
    (the knee marked)."""
    v = step.get(key)
    if key == "slo":
        if v is None:
            return MISSING
        at_knee = knee is not None and not v.get("passed") and knee == step.get("_level")
        return ("pass" if v.get("passed") else "FAIL") + (" (knee)" if at_knee else "")
    if isinstance(v, dict) and "value" in v:
        ci = v.get("ci")
        if v["value"] is None or not ci or ci[0] == ci[1]:
            return _plain(key, v["value"])
        if key in PERCENT:
            return f"{percent(v['value'])} ({ci[0] * 100:.1f}–{ci[1] * 100:.1f} %)"
        return f"{_plain(key, v['value'])} ({_plain(key, ci[0])}–{_plain(key, ci[1])})"
    return _plain(key, v)


def level_key(result: dict[str, Any]) -> str:
    fixed = {"cache": "repeat_ratio", "semantic": "threshold"}.get(result["kind"])
    return fixed or result.get("level_key", "users")


def _rows(result: dict[str, Any], keys: list[str]) -> list[list[str]]:
    lk, knee = level_key(result), (result.get("knee") or {}).get("level")
    return [[cell(k, {**s, "_level": s.get(lk)}, knee) for k in keys] for s in result["steps"]]


def main_table(result: dict[str, Any]) -> str:
    lk = level_key(result)
    from suite.sweep.semanticfiles import MAIN

    keys = [lk, *{"cache": CACHE_MAIN[1:], "semantic": MAIN[1:]}.get(result["kind"], LOAD_MAIN)]
    keys = [k for k in keys if any(s.get(k) for s in result["steps"]) or k not in OPTIONAL]
    return table([SHORT.get(k) or NAMES.get(k, k) for k in keys], _rows(result, keys))


def full_table(result: dict[str, Any]) -> str:
    keys = list(dict.fromkeys(k for s in result["steps"] for k in s))
    return table([NAMES.get(k, k.replace("_", " ")) for k in keys], _rows(result, keys))


def missing_lines(result: dict[str, Any]) -> list[str]:
    """Why a figure of the main table is missing, once per (figure, reason)."""
    lk, seen, out = level_key(result), set(), []
    for s in result["steps"]:
        for key, v in s.items():
            why = v.get("why") if isinstance(v, dict) and v.get("value") is None else None
            if why and (key, why) not in seen:
                seen.add((key, v["why"]))
                out.append(f"{NAMES.get(key, key)} at {lk.replace('_', ' ')} {s.get(lk)}: {v['why']}")
    return out


def _short_paths(text: str, result: dict[str, Any]) -> str:
    corpus = result.get("corpus")
    return text.replace(str(corpus), Path(str(corpus)).name) if corpus else text


def provenance(result: dict[str, Any]) -> list[Fact]:
    settings = result.get("settings") or {}
    lk = level_key(result)
    levels = ", ".join(f"{s.get(lk):g}" for s in result["steps"] if s.get(lk) is not None)
    what = (f"repetition ratios {levels}" if result["kind"] == "cache" else
            f"similarity thresholds {levels}" if result["kind"] == "semantic" else
            f"{'users' if lk == 'users' else 'offered requests/s'} {levels} "
            f"({'closed loop' if lk == 'users' else 'open loop'})")
    facts = [Fact("sweep", what), Fact("target", str(result.get("target")))]
    if settings.get("cache"):
        facts.append(Fact("cache backend", str(settings["cache"])))
    if settings.get("scenario") or settings.get("n"):
        corpus = result.get("corpus")
        facts.append(Fact("corpus", Path(str(corpus)).name if corpus else
                          f"{settings.get('scenario')}, {settings.get('n')} requests per step"))
    if result["kind"] == "cache" and settings.get("users"):
        facts.append(Fact("users", str(settings["users"])))
    facts.append(Fact("seeds", _short_paths(str(result.get("seeds")), result)))
    if settings.get("slo"):
        facts.append(Fact("SLO", str(settings["slo"])))
    base = result.get("baseline")
    if base:
        facts.append(Fact("baseline", f"ratio {base['repeat_ratio']:g} (hit ratio "
                                      f"{percent(base.get('observed_hit_ratio'))})",
                          warn=bool(base.get("observed_hit_ratio"))))
    salt = result.get("salt")
    if salt:
        facts.append(Fact("salt", str(salt.get("value") or salt.get("why"))))
    probe = result.get("fresh_probe")
    if probe:
        facts.append(Fact("fresh-request probe", str(probe.get("cache") or probe.get("why") or "no verdict"),
                          warn=not probe.get("cache")))
    return facts


def metadata_rows(result: dict[str, Any]) -> list[list[str]]:
    lk = level_key(result)
    rows = [[f"step {s.get(lk)} folder", str(s["run_dir"])] for s in result["steps"] if s.get("run_dir")]
    if result.get("corpus"):
        rows.append(["corpus", str(result["corpus"])])
    settings = result.get("settings") or {}
    rows += [[f"setting: {k}", MISSING if v is None else str(v)] for k, v in settings.items()]
    if result.get("baseline"):
        rows.append(["baseline", str(result["baseline"].get("note"))])
    salt = result.get("salt") or {}
    if salt.get("reproduce"):
        rows.append(["reproduce the salt", str(salt["reproduce"])])
    boot = result.get("bootstrap") or {}
    if boot:
        rows.append(["bootstrap", f"{boot.get('conf', 0):.0%} CI, {boot.get('n_boot')} replicates, "
                                  f"seed {boot.get('seed')}"])
    return rows


def slo_rows(result: dict[str, Any]) -> list[list[str]]:
    lk = level_key(result)
    return [[f"{s.get(lk):g}", "pass" if c.get("passed") else "FAIL", str(c.get("why"))]
            for s in result["steps"] if s.get("slo") for c in s["slo"].get("checks", [])]


def render_html(result: dict[str, Any], png: bytes) -> str:
    kind = {"cache": "Cache", "semantic": "Semantic cache"}.get(result["kind"], "Load")
    caption = {"cache": "Hit ratio, end-to-end gain and per-hit speedup against the repetition ratio",
               "semantic": "Precision, false-hit ratio and hit ratio against the similarity threshold"
               }.get(result["kind"], "Latency and throughput against the load level")
    missing = missing_lines(result)
    body = ("<h2>Per step</h2>" + main_table(result)
            + (paragraph("Missing figures: " + "; ".join(missing) + ".", "muted") if missing else ""))
    folds = [Fold(f"Every column of sweep.csv ({len(result['steps'])} steps)", full_table(result))]
    slo = slo_rows(result)
    if slo:
        folds.append(Fold("SLO checks per step", table(["level", "verdict", "check"], slo)))
    folds.append(Fold("Sweep metadata (folders, settings)", table(["item", "value"], metadata_rows(result))))
    alerts = [str(w) for w in result.get("warnings") or []]
    return render_page(f"{kind} sweep", provenance=provenance(result), alerts=alerts,
                       answers=sweep_answers(result), charts=[figure(caption, png)], body=body, folds=folds,
                       footer=str(result.get("schema") or ""))
