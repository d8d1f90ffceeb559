"""The A/B charts, one per question, each sized for half of a 1,400 px page (680 × 400 px):

- latency (``compare_ab.png``): p50/p95/p99 of TTFT and E2E of every run over its population (all
  requests or cache misses), each bar with its own bootstrap CI as a whisker;
- throughput (``compare_throughput.png``): output tokens/s of every run (one figure per run window, no
  whisker: there is nothing to resample) beside TPOT p50/p95/p99 with their CIs.

Drawn from compare.json values only, written through ``suite.analyze.outputs.savefig`` (Agg backend,
figure always closed). Runs keep the page's order: the baseline A first, then each B."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from suite.analyze.outputs.savefig import closing, plt, save_figure
from suite.compare.summarize.population import describe_population

TITLES = {"ttft": "TTFT", "tpot": "TPOT (time per output token)", "itl_mean": "ITL (per-request mean)",
          "e2e": "E2E"}
STATS = ("p50", "p95", "p99")
DPI = 100
SIZE_IN = (6.8, 4.0)  # at DPI: 680 × 400 px, one column of the page's chart grid


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


def totals(result: dict[str, Any], metric: str) -> list[tuple[str, float | None]]:
    """``(run label, value)`` of a run-level metric (no statistic: throughput) for every run."""
    out: list[tuple[str, float | None]] = []
    for i, cmp in enumerate(result["comparisons"]):
        r = next((r for r in cmp["groups"][0]["metrics"] if r["metric"] == metric), None)
        for side in (("a", "b") if i == 0 else ("b",)):
            out.append((cmp[side], None if r is None else r[side]))
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
               label=label, color=f"C{k}")
        drawn = drawn or bool(np.isfinite(ms).any())
    ax.set_xticks(x, STATS)
    ax.set_title(TITLES[metric], fontsize="medium")
    ax.set_ylabel("ms")
    if not drawn:
        ax.text(0.5, 0.5, f"no {TITLES[metric]} measured", ha="center", va="center", transform=ax.transAxes)
    return drawn


def _draw_totals(ax: Any, series: list[tuple[str, float | None]]) -> bool:
    values = [np.nan if v is None else v for _, v in series]
    ax.bar(range(len(series)), values, 0.6, color=[f"C{k}" for k in range(len(series))])
    ax.set_xticks(range(len(series)), [label for label, _ in series])
    ax.set_title("Output tokens/s (whole run)", fontsize="medium")
    ax.set_ylabel("tokens/s")
    drawn = bool(np.isfinite(values).any())
    if not drawn:
        ax.text(0.5, 0.5, "no output tokens/s measured", ha="center", va="center", transform=ax.transAxes)
    return drawn


def _legend(ax: Any, series: list[tuple[str, Any, Any]]) -> None:
    """One legend naming every run by its colour (the colours are the same on every panel)."""
    handles = [plt.Rectangle((0, 0), 1, 1, color=f"C{k}") for k in range(len(series))]
    ax.legend(handles, [label for label, *_ in series], fontsize="small", loc="upper left")


def plot_ab(result: dict[str, Any], path: Path) -> Path | None:
    """The latency chart; None when no run has any latency value (nothing to draw)."""
    fig, axes = plt.subplots(1, 2, figsize=SIZE_IN)
    with closing(fig):
        series = {m: bars(result, m) for m in ("ttft", "e2e")}
        drawn = [_draw(ax, m, series[m]) for ax, m in zip(axes, series, strict=True)]
        if not any(drawn):
            return None
        _legend(axes[0], series["e2e"])
        conf = result["bootstrap"]["conf"]
        which = describe_population(result.get("population"))
        fig.suptitle(f"Latency, {which} (whiskers: {conf:.0%} bootstrap CI)", fontsize="medium")
        return save_figure(fig, path, DPI)


def plot_throughput(result: dict[str, Any], path: Path) -> Path | None:
    """The throughput chart; None when no run has output tokens/s nor TPOT (nothing to draw)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=SIZE_IN)
    with closing(fig):
        series = bars(result, "tpot")
        drawn = [_draw_totals(ax1, totals(result, "output_tokens_per_s")), _draw(ax2, "tpot", series)]
        if not any(drawn):
            return None
        _legend(ax2, series)
        fig.suptitle("Throughput and time per output token", fontsize="medium")
        return save_figure(fig, path, DPI)
