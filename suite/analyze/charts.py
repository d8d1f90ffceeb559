"""PNG charts drawn from per-request values (matplotlib, Agg backend: no display, no GUI toolkit).

Each function takes plain arrays, draws one figure, writes it, and closes it (figures left open
leak memory and trigger matplotlib warnings, which the test suite turns into errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot loads)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from suite.analyze.metrics import column, flags  # noqa: E402
from suite.analyze.stats import finite  # noqa: E402

Series = Mapping[str, np.ndarray]


def latency_series(frame: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """Per model: TTFT (successful streaming requests) and E2E (successful requests), in seconds."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for model, group in frame.groupby("model", sort=True):
        ok = group["ok"].to_numpy()
        streamed = ok & flags(group, "stream")
        out[str(model)] = {"ttft": finite(column(group, "ttft")[streamed]),
                           "e2e": finite(column(group, "e2e")[ok])}
    return out


def cache_series(frame: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """Per model: E2E of successful hits and of successful misses, in seconds."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for model, group in frame.groupby("model", sort=True):
        ok, cache = group["ok"].to_numpy(), column(group, "cache")
        e2e = column(group, "e2e")
        out[str(model)] = {outcome: finite(e2e[ok & (cache == outcome)]) for outcome in ("hit", "miss")}
    return out


def has_hits_and_misses(series: Mapping[str, Series]) -> bool:
    return any(s["hit"].size for s in series.values()) and any(s["miss"].size for s in series.values())


def _cdf(ax: Axes, values: np.ndarray, label: str, **style: object) -> None:
    ordered = np.sort(values)
    ax.step(ordered * 1000, np.arange(1, ordered.size + 1) / ordered.size, where="post", label=label, **style)


def _finish(ax: Axes, title: str) -> None:
    ax.set_title(title)
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction of requests ≤ x")
    ax.grid(True, alpha=0.3)
    if ax.has_data():
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "not measured in this run", ha="center", va="center", transform=ax.transAxes)


def _save(fig: plt.Figure, path: Path) -> Path:
    try:
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


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
    return _save(fig, path)


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
    return _save(fig, path)
