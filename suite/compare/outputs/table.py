"""Rich terminal tables of a comparison (rendered from the compare dict only)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from suite.compare.outputs.cells import (
    cell_p,
    cell_ratio,
    cell_signed,
    cell_value,
    metric_name,
    tests_caption,
)
from suite.compare.summarize.population import describe_population

TERMINAL_METRICS = {("ttft", "p50"), ("ttft", "p95"), ("tpot", "p50"), ("itl_mean", "p50"), ("e2e", "p50"),
                    ("e2e", "p95"), ("e2e", "p99"), ("error_ratio", None), ("hit_ratio", None),
                    ("output_tokens_per_s", None)}


def comparison_table(cmp: dict[str, Any], conf: float) -> Table:
    """The all-requests group: the metrics people read first (the primary one always); the rest is in
    compare.csv/html. The title names the population, the caption the correction."""
    population = describe_population(cmp.get("population"))
    title = f"{cmp['a']} vs {cmp['b']} ({population}; {conf:.0%} bootstrap CI)"  # A first, as compare.html
    caption = tests_caption({"population": cmp.get("population")}, cmp.get("tests"))
    table = Table(title=title, title_justify="left", caption=caption or None, caption_justify="left")
    for name, justify in (("metric", "left"), (cmp["a"], "right"), (cmp["b"], "right"),
                          ("B − A (CI)", "right"), ("B / A (CI)", "right"), ("p (Holm)", "right"),
                          ("sig.", "center")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in cmp["groups"][0]["metrics"]:
        if (r["metric"], r["stat"]) not in TERMINAL_METRICS and not r.get("primary"):
            continue
        flag = "[bold]yes[/]" if r["significant"] else ("no" if r["significant"] is False else "—")
        name = metric_name(r) + (" (primary)" if r.get("primary") else "")
        holm = f" ({cell_p(r['p_holm'])})" if r.get("p_holm") is not None else ""
        table.add_row(name, cell_value(r, "a"), cell_value(r, "b"), cell_signed(r), cell_ratio(r),
                      cell_p(r.get("p")) + holm, flag)
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
