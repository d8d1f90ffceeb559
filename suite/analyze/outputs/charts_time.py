"""Charts over time: throughput per bucket (from the summary's timeline) and the target's own
/metrics series (gaps in monitoring are drawn as gaps, with failed scrapes marked)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from suite.analyze.outputs.charts import DPI
from suite.analyze.outputs.savefig import plt, save_figure
from suite.analyze.read.targetmetrics import SELECTED, TargetSeries
from suite.analyze.schema import Timeline


def plot_throughput(timeline: Timeline, path: Path) -> Path:
    """Requests completed (ok / failed) and output tokens per second, over the run."""
    series = timeline["1s"] if "why" not in timeline["1s"] and timeline["1s"]["buckets"] <= 600 \
        else timeline["10s"]
    width = series["width_s"]
    t = np.arange(series["buckets"]) * width
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True)
    top.step(t, np.array(series["ok"]) / width, where="post", label="ok requests/s")
    top.step(t, np.array(series["failed"]) / width, where="post", label="failed requests/s", color="C3")
    top.set_ylabel("requests/s")
    top.legend(loc="best", fontsize="small")
    bottom.step(t, np.array(series["output_tokens"]) / width, where="post", color="C2")
    bottom.set_ylabel("output tokens/s")
    bottom.set_xlabel(f"seconds since the first request ({width:g} s buckets, by completion time)")
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
    top.set_title("Throughput over time")
    return save_figure(fig, path, DPI)


def plot_target_metrics(series: TargetSeries, path: Path) -> Path:
    """One panel per selected series; failed scrapes as red ticks on the time axis."""
    labels = list(series.values)
    fig, axes = plt.subplots(len(labels), 1, figsize=(10, 1.9 * len(labels) + 0.6), sharex=True,
                             squeeze=False)
    failed = series.t[~series.ok]
    for ax, label in zip(axes[:, 0], labels, strict=True):
        ax.plot(series.t, series.values[label], marker=".", markersize=3, linewidth=1)
        ax.set_ylabel(label, fontsize="small")
        ax.grid(True, alpha=0.3)
        if failed.size:
            ax.plot(failed, np.zeros(failed.size), "|", color="C3", markersize=10,
                    label="scrape failed (no data)")
            ax.legend(loc="upper right", fontsize="x-small")
    absent = [label for label, _, _ in SELECTED if label not in series.values]
    note = f" — not exposed by the target: {', '.join(absent)}" if absent else ""
    axes[-1, 0].set_xlabel(f"seconds since the first scrape{note}")
    axes[0, 0].set_title("Target's own /metrics during the run (gaps = not measured)")
    return save_figure(fig, path, DPI)
