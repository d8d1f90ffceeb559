"""The analyze stage's public entry points: load → summarize → write files.

``analyze_run`` is pure but for reading the run directory; ``write_reports`` is the only writer.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import orjson
import pandas as pd

from suite.analyze.outputs.facts import COMPAT_COLUMNS, OPEN_LOOP_COLUMNS, SPREAD_COLUMNS
from suite.analyze.outputs.report import CHARTS, render_html
from suite.analyze.outputs.requests_csv import write_requests_csv
from suite.analyze.outputs.rows import csv_rows
from suite.analyze.read.load import LoadedRun, load_run
from suite.analyze.read.targetmetrics import TargetSeries, load_series, target_section
from suite.analyze.schema import SemanticSection, Summary
from suite.analyze.summarize.cachesignal import reattribute
from suite.analyze.summarize.semanticsection import semantic_section
from suite.analyze.summarize.slo import SloSpec
from suite.analyze.summarize.slowest import slowest_section
from suite.analyze.summarize.summary import summarize
from suite.cachesignal import ServedRule
from suite.records import csv_cell

SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"
MODELS_CSV = "per_model.csv"
REQUESTS_CSV = "requests.csv"


def summarize_run(run: LoadedRun, slo: SloSpec | None = None, cache_ttl_s: float | None = None,
                  served: ServedRule | None = None) -> tuple[Summary, TargetSeries | None]:
    """The summary with the target's monitored series (when the run has them) folded in;
    ``cache_ttl_s`` (the target cache's TTL, when known) splits expired repeat misses out;
    ``served`` (analyze --served-key-header) overrides the run's served-key rule."""
    summary = summarize(run, slo, cache_ttl_s=cache_ttl_s)
    series = load_series(run.run_dir)
    summary["target_metrics"] = target_section(series)
    summary["slowest"] = slowest_section(run.requests, corpus_path(run))
    semantic = semantic_section(run, corpus_path(run), served)  # hits judged against the corpus
    if semantic is not None:
        summary["semantic"] = cast("SemanticSection", semantic)
    return summary, series


def corpus_path(run: LoadedRun) -> Path | None:
    """The corpus run.json names (as written, else beside the run), or None."""
    if run.meta is None or not run.meta.corpus:
        return None
    given = Path(run.meta.corpus)
    beside = run.run_dir / given.name
    return given if given.exists() or not beside.exists() else beside


def load_for_analysis(run_dir: str | Path, files: Sequence[str | Path] | None = None,
                      cache_detect: str | None = None) -> LoadedRun:
    """The loaded run, its hits re-attributed from the recorded headers when ``cache_detect`` names
    a rule (suite.analyze.summarize.cachesignal)."""
    run = load_run(run_dir, files)
    return reattribute(run, cache_detect) if cache_detect else run


def analyze_run(run_dir: str | Path, slo: SloSpec | None = None,
                files: Sequence[str | Path] | None = None, cache_detect: str | None = None,
                cache_ttl_s: float | None = None, served: ServedRule | None = None) -> Summary:
    """The summary dict of the run's log shards (+ ``run.json`` and manifest when present)."""
    return summarize_run(load_for_analysis(run_dir, files, cache_detect), slo, cache_ttl_s, served)[0]


def analyze_and_write(run_dir: str | Path, slo: SloSpec | None = None,
                      files: Sequence[str | Path] | None = None,
                      cache_detect: str | None = None, cache_ttl_s: float | None = None,
                      served: ServedRule | None = None) -> tuple[Summary, list[Path]]:
    """Load once, summarize, write every output; returns the summary and the files written."""
    run = load_for_analysis(run_dir, files, cache_detect)
    summary, series = summarize_run(run, slo, cache_ttl_s, served)
    return summary, write_reports(run.run_dir, summary, run.requests, series)


def write_summary_json(path: Path, summary: Summary) -> Path:
    path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def write_models_csv(path: Path, summary: Summary) -> Path:
    """One row per model plus the whole run; an unmeasured value is an empty cell, never 0."""
    header, rows = csv_rows(summary, SPREAD_COLUMNS + COMPAT_COLUMNS + OPEN_LOOP_COLUMNS)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([csv_cell(h) for h in header])
        writer.writerows([["" if v is None else csv_cell(v) for v in row] for row in rows])
    return path


def write_charts(run_dir: Path, frame: pd.DataFrame, summary: Summary,
                 series: TargetSeries | None = None) -> dict[str, Path]:
    """Latency CDF, TTFT histogram and throughput always; cache and target charts when there is data.

    The chart modules are imported here, not at the top: matplotlib is slow to import, and
    ``analyze_run``, ``summarize`` and ``llmsuite compare`` (no charts of a run) should not pay for it."""
    from suite.analyze.outputs.charts import (
        cache_series,
        has_hits_and_misses,
        latency_series,
        plot_cache_latency,
        plot_latency_cdf,
        plot_open_loop,
        plot_speedup_ci,
        plot_ttft_histogram,
        speedup_bars,
    )
    from suite.analyze.outputs.charts_time import plot_target_metrics, plot_throughput
    from suite.analyze.outputs.prefix import CHART as PREFIX_CHART
    from suite.analyze.outputs.prefix import measured, plot_prefix_fit

    latency = latency_series(frame)
    paths = [plot_latency_cdf(latency, run_dir / "latency_cdf.png"),
             plot_ttft_histogram(latency, run_dir / "ttft_histogram.png")]
    if "timeline" in summary:
        paths.append(plot_throughput(summary["timeline"], run_dir / "throughput.png"))
    hits_misses = cache_series(frame)
    if has_hits_and_misses(hits_misses):
        paths.append(plot_cache_latency(hits_misses, run_dir / "cache_latency.png"))
    bars = speedup_bars(summary["cache"])
    if bars:
        paths.append(plot_speedup_ci(bars, run_dir / "cache_speedup.png"))
    if summary["run"].get("open_loop"):
        paths.append(plot_open_loop(frame, run_dir / "open_loop.png"))
    if series is not None and series.values:
        paths.append(plot_target_metrics(series, run_dir / "target_metrics.png"))
    prefix = measured(summary)
    if prefix is not None:
        paths.append(plot_prefix_fit(frame, prefix, run_dir / PREFIX_CHART))
    return {CHARTS[p.name]: p for p in paths}


def write_reports(run_dir: str | Path, summary: Summary, df: pd.DataFrame,
                  series: TargetSeries | None = None) -> list[Path]:
    """Write summary.json, per_model.csv, requests.csv, the PNG charts and report.html."""
    run_dir = Path(run_dir)
    charts = write_charts(run_dir, df, summary, series)
    report = run_dir / REPORT_FILE
    images = {caption: path.read_bytes() for caption, path in charts.items()}
    report.write_text(render_html(summary, images), encoding="utf-8")
    summary_path = write_summary_json(run_dir / SUMMARY_FILE, summary)
    tables = [write_models_csv(run_dir / MODELS_CSV, summary), write_requests_csv(run_dir / REQUESTS_CSV, df)]
    return [summary_path, *tables, *charts.values(), report]
