"""The analyze stage's public entry points: load → summarize → write files.

``analyze_run`` is pure but for reading the run directory; ``write_reports`` is the only writer.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from suite.analyze.charts import (
    cache_series,
    has_hits_and_misses,
    latency_series,
    plot_cache_latency,
    plot_latency_cdf,
)
from suite.analyze.load import load_run
from suite.analyze.report import render_html
from suite.analyze.rows import csv_rows
from suite.analyze.summary import summarize

SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"
LATENCY_CHART = "latency_cdf.png"
CACHE_CHART = "cache_latency.png"
MODELS_CSV = "per_model.csv"
LATENCY_TITLE = "Latency CDF per model (TTFT, E2E)"
CACHE_TITLE = "End-to-end latency of cache hits vs misses"


def analyze_run(run_dir: str | Path) -> dict[str, Any]:
    """The summary dict of ``<run_dir>/requests.jsonl`` (+ ``run.json`` when present)."""
    return summarize(load_run(run_dir))


def analyze_and_write(run_dir: str | Path) -> tuple[dict[str, Any], list[Path]]:
    """Load once, summarize, write every output; returns the summary and the files written."""
    run = load_run(run_dir)
    summary = summarize(run)
    return summary, write_reports(run.run_dir, summary, run.requests)


def write_summary_json(path: Path, summary: dict[str, Any]) -> Path:
    path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def write_models_csv(path: Path, summary: dict[str, Any]) -> Path:
    """One row per model plus the whole run; an unmeasured value is an empty cell, never 0."""
    header, rows = csv_rows(summary)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def write_charts(run_dir: Path, frame: pd.DataFrame) -> dict[str, Path]:
    """The latency CDF always; the hit-vs-miss chart only when both hits and misses exist."""
    charts = {LATENCY_TITLE: plot_latency_cdf(latency_series(frame), run_dir / LATENCY_CHART)}
    series = cache_series(frame)
    if has_hits_and_misses(series):
        charts[CACHE_TITLE] = plot_cache_latency(series, run_dir / CACHE_CHART)
    return charts


def write_reports(run_dir: str | Path, summary: dict[str, Any], df: pd.DataFrame) -> list[Path]:
    """Write summary.json, per_model.csv, the PNG charts and report.html into ``run_dir``."""
    run_dir = Path(run_dir)
    charts = write_charts(run_dir, df)
    report = run_dir / REPORT_FILE
    images = {caption: path.read_bytes() for caption, path in charts.items()}
    report.write_text(render_html(summary, images), encoding="utf-8")
    summary_path = write_summary_json(run_dir / SUMMARY_FILE, summary)
    return [summary_path, write_models_csv(run_dir / MODELS_CSV, summary), *charts.values(), report]
