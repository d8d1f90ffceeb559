"""Rich terminal tables of a comparison (rendered from the compare dict only)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from suite.compare.outputs.cells import cell_ratio, cell_signed, cell_value, metric_name

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
