"""Rich terminal tables of a comparison (rendered from the compare dict only)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from suite.analyze.fmt import number, percent, seconds, times
from suite.compare.cells import cell_ratio, cell_signed, cell_value, metric_name

TERMINAL_METRICS = {("ttft", "p50"), ("ttft", "p95"), ("tpot", "p50"), ("itl_mean", "p50"), ("e2e", "p50"),
                    ("e2e", "p95"), ("e2e", "p99"), ("error_ratio", None), ("hit_ratio", None),
                    ("output_tokens_per_s", None)}


def comparison_table(cmp: dict[str, Any], conf: float) -> Table:
    """The all-requests group: the metrics people read first; the rest is in compare.csv/html."""
    title = f"{cmp['b']} vs {cmp['a']} (all requests; {conf:.0%} bootstrap CI)"
    table = Table(title=title, title_justify="left")
    for name, justify in (("metric", "left"), (cmp["a"], "right"), (cmp["b"], "right"),
                          ("B − A (CI)", "right"), ("B / A (CI)", "right"), ("sig.", "center")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in cmp["groups"][0]["metrics"]:
        if (r["metric"], r["stat"]) not in TERMINAL_METRICS:
            continue
        flag = "[bold]yes[/]" if r["significant"] else ("no" if r["significant"] is False else "—")
        table.add_row(metric_name(r), cell_value(r, "a"), cell_value(r, "b"), cell_signed(r), cell_ratio(r),
                      flag)
    return table


def paired_table(cmp: dict[str, Any]) -> Table | None:
    paired = cmp["paired"]
    if not paired.get("paired"):
        return None
    group = paired["groups"][0]
    table = Table(title=f"paired by request id: {group['group']} ({paired['matched']} matched)",
                  title_justify="left")
    for name in ("metric", "pairs", "median Δ B − A (CI)", "faster in B"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    for r in group["metrics"]:
        faster = "—" if "share_faster_in_b" not in r else f"{r['share_faster_in_b']:.1%}"
        delta = cell_signed({"delta": r.get("median_delta"), "delta_ci": r.get("median_delta_ci"),
                             "unit": "s"})
        table.add_row(r["metric"], str(r["n_pairs"]), delta, faster)
    return table


def cache_sweep_table(result: dict[str, Any]) -> Table:
    """One row per ratio: theoretical and observed hit ratio, measured gain, its bound, per-hit speedup."""
    table = Table(title="cache sweep", title_justify="left")
    for name in ("ratio", "theoretical hit", "observed hit", "E2E gain (CI)", "bound 1/(1−h)",
                 "per-hit speedup"):
        table.add_column(name, justify="right")
    for s in result["steps"]:
        gain, ci = s["e2e_gain"]["value"], s["e2e_gain"]["ci"]
        gain_text = times(gain) + ("" if ci is None else f" ({ci[0]:.2f}–{ci[1]:.2f})")
        table.add_row(f"{s['repeat_ratio']:g}", percent(s["theoretical_hit_ratio"]),
                      percent(s["hit_ratio"]["value"]), gain_text, times(s["gain_bound_observed"]),
                      times(s["per_hit_speedup"]["value"]))
    return table


def load_sweep_table(result: dict[str, Any]) -> Table:
    """One row per load level: latency, throughput, errors and the SLO verdict; the knee flagged."""
    key, knee = result["level_key"], result["knee"]["level"]
    table = Table(title=f"load sweep ({'closed loop' if key == 'users' else 'open loop, requests/s'})",
                  title_justify="left")
    for name in (key, "E2E p50", "E2E p95", "TTFT p95", "requests/s", "tokens/s", "errors", "SLO"):
        table.add_column(name, justify="right")
    for s in result["steps"]:
        verdict = "—" if s.get("slo") is None else ("pass" if s["slo"]["passed"] else "[bold red]FAIL[/]")
        mark = " ◀ knee" if knee is not None and s[key] == knee else ""
        table.add_row(f"{s[key]:g}{mark}", seconds(s["e2e_p50"]), seconds(s["e2e_p95"]),
                      seconds(s["ttft_p95"]), number(s["requests_per_s"]), number(s["output_tokens_per_s"]),
                      percent(s["error_ratio"]), verdict)
    return table
