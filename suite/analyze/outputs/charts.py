"""PNG charts of one run drawn from per-request values: latency CDFs, TTFT histogram, cache hits
vs misses, cache speedup CIs, open-loop lag.

Each function takes plain arrays, draws one figure and writes it through ``savefig.save_figure``
(Agg backend, figure always closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from suite.analyze.outputs.savefig import plt, save_figure
from suite.analyze.schema import CacheSection
from suite.analyze.summarize.metrics import column, equals, flags
from suite.analyze.summarize.stats import finite

Series = Mapping[str, np.ndarray]
DPI = 110  # every chart of a run's report


def latency_series(frame: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """Per model: TTFT (successful streaming requests) and E2E (successful requests), in seconds."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for model, group in sorted(frame.groupby("model", observed=True), key=lambda mg: str(mg[0])):
        ok = group["ok"].to_numpy()
        streamed = ok & flags(group, "stream")
        out[str(model)] = {"ttft": finite(column(group, "ttft")[streamed]),
                           "e2e": finite(column(group, "e2e")[ok])}
    return out


def cache_series(frame: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """Per model: E2E of successful hits and of successful misses, in seconds."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for model, group in sorted(frame.groupby("model", observed=True), key=lambda mg: str(mg[0])):
        ok, e2e = group["ok"].to_numpy(), column(group, "e2e")
        out[str(model)] = {outcome: finite(e2e[ok & equals(group, "cache", outcome)])
                           for outcome in ("hit", "miss")}
    return out


def has_hits_and_misses(series: Mapping[str, Series]) -> bool:
    return any(s["hit"].size for s in series.values()) and any(s["miss"].size for s in series.values())


CDF_POINTS = 4000  # a step drawn through this many order statistics is indistinguishable from all n


def _cdf(ax: Axes, values: np.ndarray, label: str, **style: object) -> None:
    ordered = np.sort(values)
    idx = np.unique(np.linspace(0, ordered.size - 1, min(ordered.size, CDF_POINTS)).astype(np.int64))
    ax.step(ordered[idx] * 1000, (idx + 1) / ordered.size, where="post", label=label, **style)


def _finish(ax: Axes, title: str) -> None:
    ax.set_title(title)
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction of requests ≤ x")
    ax.grid(True, alpha=0.3)
    if ax.has_data():
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "not measured in this run", ha="center", va="center", transform=ax.transAxes)


def plot_latency_cdf(series: Mapping[str, Series], path: Path) -> Path:
    """Two panels: TTFT and E2E empirical CDFs, one line per model."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for model, values in series.items():
        if values["ttft"].size:
            _cdf(left, values["ttft"], f"{model} (n={values['ttft'].size})")
        if values["e2e"].size:
            _cdf(right, values["e2e"], f"{model} (n={values['e2e'].size})")
    _finish(left, "Time to first token (CDF)")
    _finish(right, "End-to-end latency (CDF)")
    return save_figure(fig, path, DPI)


def plot_cache_latency(series: Mapping[str, Series], path: Path) -> Path:
    """E2E CDF of cache hits (solid) against misses (dashed) per model, on a log latency axis."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for i, (model, values) in enumerate(series.items()):
        color = f"C{i % 10}"
        for outcome, plural, style in (("hit", "hits", "-"), ("miss", "misses", "--")):
            if values[outcome].size:
                label = f"{model} {plural} (n={values[outcome].size})"
                _cdf(ax, values[outcome], label, color=color, linestyle=style)
    _finish(ax, "End-to-end latency: cache hits vs misses (CDF)")
    if ax.has_data():
        ax.set_xscale("log")
    return save_figure(fig, path, DPI)


def plot_ttft_histogram(series: Mapping[str, Series], path: Path) -> Path:
    """TTFT histogram per model (shared log-spaced bins, so models compare bar for bar)."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    values = [v["ttft"] for v in series.values() if v["ttft"].size]
    positive = np.concatenate(values)[np.concatenate(values) > 0] if values else np.empty(0)
    if positive.size:
        lo, hi = positive.min() * 1000, positive.max() * 1000
        bins = np.geomspace(lo, hi * 1.0001, 40) if hi > lo else 10
        for model, v in series.items():
            if v["ttft"].size:
                ax.hist(v["ttft"] * 1000, bins=bins, histtype="step", linewidth=1.5,
                        label=f"{model} (n={v['ttft'].size})")
        if hi > lo:
            ax.set_xscale("log")
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "not measured in this run (no streaming requests)", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_title("Time to first token (histogram)")
    ax.set_xlabel("TTFT (ms)")
    ax.set_ylabel("requests")
    ax.grid(True, alpha=0.3)
    return save_figure(fig, path, DPI)


def speedup_bars(cache: CacheSection) -> list[tuple[str, str, float, float, float]]:
    """(model, metric label, value, lo, hi) for every speedup with a CI in a summary's cache section."""
    out = []
    for model, block in cache["models"].items():
        for key, label in (("e2e_p50", "E2E p50"), ("e2e_p95", "E2E p95"),
                           ("ttft_p50", "TTFT p50"), ("ttft_p95", "TTFT p95")):
            speedups: Mapping[str, Any] = block["speedup"]
            node = speedups[key]
            if node["value"] is not None:
                out.append((model, label, node["value"], node["ci"][0], node["ci"][1]))
    return out


def plot_speedup_ci(bars: list[tuple[str, str, float, float, float]], path: Path) -> Path:
    """Cache speedup (miss / hit) per model and metric, with bootstrap 95 % CIs as error bars."""
    fig, ax = plt.subplots(figsize=(9, 4.2))
    labels = [f"{model}\n{metric}" for model, metric, *_ in bars]
    values = np.array([b[2] for b in bars])
    err = np.array([[b[2] - b[3] for b in bars], [b[4] - b[2] for b in bars]])
    ax.bar(range(len(bars)), values, yerr=err, capsize=4, color=[f"C{i // 4}" for i in range(len(bars))])
    ax.set_xticks(range(len(bars)), labels, fontsize="small")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_ylabel("speedup (miss / hit), ×")
    ax.set_title("Cache speedup per hit, with 95 % bootstrap CIs")
    ax.grid(True, axis="y", alpha=0.3)
    return save_figure(fig, path, DPI)


def plot_open_loop(frame: pd.DataFrame, path: Path) -> Path:
    """Open loop: schedule lag CDF, and E2E as sent against E2E from the scheduled time (successful)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    lag = finite(column(frame, "t_start") - column(frame, "scheduled"))
    if lag.size:
        _cdf(left, lag, f"all requests (n={lag.size})")
    ok = frame["ok"].to_numpy()
    sent = finite(column(frame, "e2e")[ok])
    scheduled = finite((column(frame, "t_start") - column(frame, "scheduled") + column(frame, "e2e"))[ok])
    if sent.size:
        _cdf(right, sent, f"from send (n={sent.size})")
    if scheduled.size:
        _cdf(right, scheduled, f"from schedule (n={scheduled.size})", linestyle="--")
    _finish(left, "Schedule lag: t_start − scheduled (CDF)")
    _finish(right, "E2E from send vs from the scheduled time")
    return save_figure(fig, path, DPI)
