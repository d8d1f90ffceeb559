"""The A/B bar chart: per latency metric, p50/p95/p99 of every run over its population (all requests
or cache misses), each bar with its own bootstrap CI as a whisker. Drawn from compare.json values
only, written through ``suite.analyze.outputs.savefig`` (Agg backend, figure always closed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from suite.analyze.outputs.savefig import closing, plt, save_figure
from suite.compare.read.samples import LATENCY_METRICS
from suite.compare.summarize.population import describe_population

TITLES = {"ttft": "TTFT", "tpot": "TPOT", "itl_mean": "ITL (per-request mean)", "e2e": "E2E"}
STATS = ("p50", "p95", "p99")
DPI = 100


def bars(result: dict[str, Any], metric: str) -> list[tuple[str, list[float | None], list[Any]]]:
    """``(run label, [value per stat], [ci per stat])`` for the all-requests group of every run."""
    out: list[tuple[str, list[float | None], list[Any]]] = []
    for i, cmp in enumerate(result["comparisons"]):
        rows = {r["stat"]: r for r in cmp["groups"][0]["metrics"] if r["metric"] == metric}
        sides = (("a", "b") if i == 0 else ("b",))
        for side in sides:
            out.append((cmp[side], [rows[s][side] if s in rows else None for s in STATS],
                        [rows[s].get(f"{side}_ci") if s in rows else None for s in STATS]))
    return out


def _draw(ax: Any, metric: str, series: list[tuple[str, list[float | None], list[Any]]]) -> bool:
    width = 0.8 / max(1, len(series))
    x = np.arange(len(STATS))
    drawn = False
    for k, (label, values, cis) in enumerate(series):
        ms = np.array([np.nan if v is None else v * 1000 for v in values])
        err = np.array([[0.0, 0.0] if c is None or v is None else [v - c[0], c[1] - v]
                        for v, c in zip(values, cis, strict=True)]).T * 1000
        ax.bar(x + (k - (len(series) - 1) / 2) * width, ms, width, yerr=np.clip(err, 0, None), capsize=3,
               label=label)
        drawn = drawn or bool(np.isfinite(ms).any())
    ax.set_xticks(x, STATS)
    ax.set_title(TITLES[metric])
    ax.set_ylabel("ms")
    return drawn


def plot_ab(result: dict[str, Any], path: Path) -> Path | None:
    """Write the chart; None when no run has any latency value (nothing to draw)."""
    fig, axes = plt.subplots(1, len(LATENCY_METRICS), figsize=(4 * len(LATENCY_METRICS), 3.8))
    with closing(fig):
        drawn = [_draw(ax, m, bars(result, m)) for ax, m in zip(axes, LATENCY_METRICS, strict=True)]
        if not any(drawn):
            return None
        axes[0].legend(fontsize="small")
        conf = result["bootstrap"]["conf"]
        which = describe_population(result.get("population"))
        fig.suptitle(f"{which[0].upper()}{which[1:]}: latency per run (whiskers: {conf:.0%} bootstrap CI)")
        return save_figure(fig, path, DPI)
