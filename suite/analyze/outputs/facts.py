"""More table layouts shared by report.html and the terminal: SLO verdicts, compatibility view,
open loop, tokens and cost, cache extras, target monitoring. Same rule as ``rows``: None shows as
the em dash with its reason, never as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any, cast

from suite.analyze.outputs.fmt import MISSING, number, percent, seconds, times
from suite.analyze.outputs.rows import Column, _dist
from suite.analyze.schema import (
    CacheSection,
    Cost,
    GroupBlock,
    Outcome,
    RunSection,
    SloCheck,
    SloVerdict,
    SlowestRow,
    Tokens,
    Why,
)
from suite.analyze.summarize.coverage import truncated

LATENCY_METRICS = {"ttft", "e2e", "tpot", "itl", "itl_mean", "e2e_from_scheduled", "lateness"}

COMPAT_COLUMNS: tuple[Column[GroupBlock], ...] = (
    Column("vLLM TPOT mean", "vllm_tpot_mean_s", lambda b: b["compat"]["vllm"]["tpot"]["mean"], seconds),
    Column("vLLM TPOT p50", "vllm_tpot_p50_s", lambda b: b["compat"]["vllm"]["tpot"]["p50"], seconds),
    Column("vLLM ITL mean", "vllm_itl_mean_s", lambda b: b["compat"]["vllm"]["itl"]["mean"], seconds),
    Column("vLLM ITL p50", "vllm_itl_p50_s", lambda b: b["compat"]["vllm"]["itl"]["p50"], seconds),
    Column("GuideLLM TPOT mean", "guidellm_tpot_mean_s",
           lambda b: b["compat"]["guidellm"]["tpot"]["mean"], seconds),
    Column("GuideLLM ITL mean", "guidellm_itl_mean_s",
           lambda b: b["compat"]["guidellm"]["itl"]["mean"], seconds),
)

SPREAD_COLUMNS: tuple[Column[GroupBlock], ...] = (
    *(Column(f"{label} {q}", f"{m}_{q}_s", _dist(m, q), seconds)
      for m, label in (("ttft", "TTFT"), ("e2e", "E2E")) for q in ("mean", "p90", "max")),
    Column("ITL/req p50", "itl_mean_p50_s", _dist("itl_mean", "p50"), seconds),
)

OPEN_LOOP_COLUMNS: tuple[Column[GroupBlock], ...] = (
    *(Column(f"lag {q}", f"lateness_{q}_s", _dist("lateness", q), seconds) for q in ("p50", "p95", "p99")),
    Column("E2E p95", "e2e_p95_s", _dist("e2e", "p95"), seconds),
    *(Column(f"E2E sched. {q}", f"e2e_from_scheduled_{q}_s", _dist("e2e_from_scheduled", q), seconds)
      for q in ("p50", "p95", "p99")),
)


def _threshold(check: SloCheck) -> str:
    v = check["threshold"]
    return seconds(v) if check["metric"] in LATENCY_METRICS else f"{v:g}"


def _shown(check: SloCheck) -> str:
    v = check["value"]
    if v is None:
        return MISSING
    if check["metric"] in LATENCY_METRICS:
        return seconds(v)
    return percent(v) if check["metric"] in ("error_ratio", "goodput_ratio") else number(v, 2)


def slo_rows(slo: SloVerdict) -> list[list[str]]:
    """One row per check: scope, check, measured value, PASS/FAIL, why."""
    rows = []
    for c in slo["checks"]:
        name = f"{c['metric']} {c['stat']}" if c["stat"] else c["metric"]
        rows.append([c["scope"], f"{name} {c['op']} {_threshold(c)}", _shown(c),
                     "PASS" if c["passed"] else "FAIL", c["why"]])
    return rows


SLO_HEADERS = ("scope", "check", "measured", "verdict", "why")


def slo_line(slo: SloVerdict | Why) -> str:
    if "why" in slo and "checks" not in slo:
        return slo["why"]
    failed = sum(not c["passed"] for c in slo["checks"])
    verdict = "PASSED" if slo["passed"] else f"FAILED ({failed} of {len(slo['checks'])} checks)"
    return f"SLO {slo['profile']}: {verdict}" + (f" — note: {slo['note']}" if slo.get("note") else "")


def _value(node: Mapping[str, Any], render: Any) -> str:
    return render(node["value"]) if node.get("value") is not None else f"{MISSING} ({node.get('why')})"


def _cached(node: Mapping[str, Any]) -> str:
    """The sum and how many requests reported it; "not reported" (never 0) when none did."""
    if node.get("value") is None:
        return f"{MISSING} not reported ({node.get('why')})"
    return f"{node['value']:,} (reported by {node['reported_by']:,} ok requests)"


def token_facts(tokens: Tokens) -> list[tuple[str, str]]:
    rows = [("prompt tokens (ok requests)", f"{tokens['prompt_tokens']:,}"),
            ("completion tokens (ok requests)", f"{tokens['completion_tokens']:,}"),
            ("cached prompt tokens reported", _cached(tokens["cached_tokens"])),
            ("token counts from",
             ", ".join(f"{k}: {v:,}" for k, v in tokens["tokens_source"].items()) or MISSING)]
    d = tokens["discrepancy"]
    if "why" in d:
        return [*rows, ("usage vs tiktoken", f"{MISSING} ({d['why']})")]
    return [*rows, ("usage vs tiktoken: pairs", f"{d['pairs']:,} ({percent(d['exact_share'])} identical)"),
            ("usage vs tiktoken: total difference", _value(d["total_relative"], percent)),
            ("usage vs tiktoken: per-request p50 / p95 (tokens)",
             f"{number(d['difference']['p50'], 1)} / {number(d['difference']['p95'], 1)}")]


def _usd(v: float | None) -> str:
    return MISSING if v is None else f"${v:,.4f}"


def cost_rows(cost: Cost) -> list[list[str]]:
    """Per model: priced as, prices, cost, saved by cache hits; or why unpriced."""
    rows = []
    for model, c in cost.get("models", {}).items():
        if c["value"] is None:
            rows.append([model, MISSING, MISSING, MISSING, MISSING, c["why"]])
            continue
        saved = c["saved_by_cache_hits"]
        rows.append([model, c["priced_as"], f"${c['input_per_1m']:g} / ${c['output_per_1m']:g}",
                     _usd(c["value"]), _usd(saved["value"]), c.get("note") or saved.get("why") or ""])
    return rows


COST_HEADERS = ("model", "priced as", "input / output per 1M", "cost", "saved by cache hits", "note")


def cost_line(cost: Cost) -> str:
    if "models" not in cost:
        return f"cost not computed: {cost['why']}"
    saved = _usd(cost["saved_by_cache_hits"]["value"])
    return (f"prices as of {cost['as_of']} from {cost['source']} ({PurePath(cost['table']).name}); total "
            f"{_usd(cost['total']['value'])}, saved by cache hits {saved}")


def cache_extra_facts(cache: CacheSection) -> list[tuple[str, str]]:
    """Theoretical ratio, cold vs steady state, and the corpus's first-seen vs repeat view."""
    theo = cache["theoretical"]
    rows = []
    if "why" in theo:
        rows.append(("theoretical hit ratio (corpus)", f"{MISSING} ({theo['why']})"))
    else:
        rows += [("theoretical hit ratio (whole corpus)", _value(theo["hit_ratio"], percent)),
                 ("corpus repeat ratio (manifest)", _value(theo["repeat_ratio"], percent))]
    ph = cache["phases"]
    for name in ("cold", "steady"):
        rows.append((f"{name} window: requests / hit ratio / E2E p50",
                     f"{ph[name]['requests']:,} / {_value(ph[name]['hit_ratio'], percent)} / "
                     f"{seconds(ph[name]['e2e']['p50'])}"))
    rep = cache["by_repeat"]
    if "why" in rep:
        rows.append(("first-seen vs repeat", f"{MISSING} ({rep['why']})"))
    else:
        rows.append(("first-seen vs repeat: E2E p50 speedup", _ci(rep["speedup"]["e2e_p50"])))
        rows.append(("first-seen vs repeat: TTFT p50 speedup", _ci(rep["speedup"]["ttft_p50"])))
    return rows



def _ci(node: Mapping[str, Any]) -> str:
    if node["value"] is None:
        return f"{MISSING} ({node['why']})"
    if "ci" not in node:
        return times(node["value"])
    return f"{times(node['value'])} ({node['ci'][0]:.1f}–{times(node['ci'][1])})"


def _speedup(key: str) -> Callable[[Outcome], Mapping[str, Any]]:
    """Reader of ``block["speedup"][key]`` (a key chosen at run time)."""
    return lambda block: cast("Mapping[str, Any]", block["speedup"])[key]


SPEEDUP_CI_COLUMNS: tuple[Column[Outcome], ...] = tuple(
    Column[Outcome](f"{label} speedup (95 % CI)", f"speedup_{key}_ci", _speedup(key), _ci)
    for key, label in (("e2e_p50", "E2E p50"), ("e2e_p95", "E2E p95"),
                       ("ttft_p50", "TTFT p50"), ("ttft_p95", "TTFT p95")))


def monitor_facts(target: Mapping[str, Any]) -> list[tuple[str, str]]:
    if "why" in target:
        return [("target /metrics", f"{MISSING} ({target['why']})")]
    rows = [("scrapes (failed)", f"{target['scrapes']} ({target['failed']})"),
            ("span", seconds(target["span_s"]))]
    for label, s in target["series"].items():
        text = f"{MISSING} ({s['why']})" if "why" in s else \
            f"min {number(s['min'], 2)}, max {number(s['max'], 2)}, last {number(s['last'], 2)}"
        rows.append((label, text))
    return rows


def run_notes(run: RunSection) -> list[str]:
    """Facts a reader must see before any number: a run that left corpus requests unsent, a partial or
    aborted run, excluded warm-up, shards."""
    notes = []
    coverage = run.get("coverage")
    if coverage is not None and truncated(coverage):
        notes.append(f"TRUNCATED run: {coverage['note']}. Every figure covers only the requests sent, "
                     "not the whole corpus.")
    if run.get("partial"):
        notes.append(f"PARTIAL run: {run['partial'].get('reason')}. Every figure covers only what "
                     "was recorded.")
    if run.get("aborted"):
        a = run["aborted"]
        notes.append(f"run ABORTED early: {a.get('reason')} (at {a.get('at')})")
    if run.get("warmup_excluded"):
        notes.append(f"{run['warmup_excluded']:,} warm-up records excluded from every statistic")
    if len(run.get("files", [])) > 1:
        notes.append(f"{len(run['files'])} log shards merged")
    return notes


SLOWEST_HEADERS = ("id", "model", "E2E", "cache", "outcome", "prompt (last user message)")


def slowest_rows(slowest: list[SlowestRow]) -> list[list[str]]:
    return [[r["id"], r["model"], seconds(r["e2e"]), r["cache"] or MISSING,
             "ok" if r["ok"] else (r["error"] or "failed"),
             r["prompt"] if r["prompt"] is not None else f"{MISSING} ({r.get('prompt_why')})"]
            for r in slowest]
