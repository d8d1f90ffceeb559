"""Write a comparison: compare.json (the machine interface), compare.csv, the A/B chart and
compare.html. The dict is the only input; nothing is recomputed here."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson

from suite.records import csv_cell

COMPARE_JSON = "compare.json"
COMPARE_CSV = "compare.csv"
COMPARE_PNG = "compare_ab.png"  # latency
COMPARE_THROUGHPUT_PNG = "compare_throughput.png"
COMPARE_HTML = "compare.html"
CSV_HEADER = ("a", "b", "kind", "group", "metric", "stat", "unit", "value_a", "value_b", "n_a", "n_b",
              "delta", "delta_lo", "delta_hi", "ratio", "ratio_lo", "ratio_hi", "significant",
              "share_faster_in_b", "why", "p", "p_holm")


def write_json(path: Path, obj: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n")
    return path


def _lo_hi(ci: list[float] | None) -> list[Any]:
    return [None, None] if ci is None else list(ci)


def unpaired_rows(cmp: dict[str, Any]) -> list[list[Any]]:
    out = []
    for group in cmp["groups"]:
        for r in group["metrics"]:
            out.append([cmp["a"], cmp["b"], "unpaired", group["group"], r["metric"], r["stat"], r["unit"],
                        r["a"], r["b"], r["n_a"], r["n_b"], r["delta"], *_lo_hi(r["delta_ci"]), r["ratio"],
                        *_lo_hi(r["ratio_ci"]), r["significant"], None, r.get("why"), r.get("p"),
                        r.get("p_holm")])
    return out


def paired_rows(cmp: dict[str, Any]) -> list[list[Any]]:
    out = []
    for group in cmp["paired"].get("groups", []):
        for r in group["metrics"]:
            out.append([cmp["a"], cmp["b"], "paired", group["group"], r["metric"], "median_delta", "s",
                        None, None,
                        r["n_pairs"], r["n_pairs"], r.get("median_delta"), *_lo_hi(r.get("median_delta_ci")),
                        None, None, None, r.get("significant"), r.get("share_faster_in_b"), r.get("why"),
                        r.get("p"), r.get("p_holm")])
    return out


def write_csv(path: Path, result: dict[str, Any]) -> Path:
    """One row per (comparison, group, metric, statistic); an unmeasured value is an empty cell."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_HEADER)
        for cmp in result["comparisons"]:
            for row in unpaired_rows(cmp) + paired_rows(cmp):
                writer.writerow(["" if v is None else csv_cell(v) for v in row])
    return path


def write_all(out_dir: Path, result: dict[str, Any]) -> list[Path]:
    """Every output of a comparison in ``out_dir``; returns the files written."""
    from suite.compare.outputs.chart import plot_ab, plot_throughput
    from suite.compare.outputs.html import render_compare_html

    out_dir.mkdir(parents=True, exist_ok=True)
    files = [write_json(out_dir / COMPARE_JSON, result), write_csv(out_dir / COMPARE_CSV, result)]
    charts = [(caption, plot(result, out_dir / name)) for caption, plot, name in (
        ("Latency per run: TTFT and E2E p50/p95/p99", plot_ab, COMPARE_PNG),
        ("Throughput per run: output tokens/s and TPOT", plot_throughput, COMPARE_THROUGHPUT_PNG))]
    drawn = [(caption, path) for caption, path in charts if path is not None]
    files += [path for _, path in drawn]
    html_path = out_dir / COMPARE_HTML
    page = render_compare_html(result, [(caption, path.read_bytes()) for caption, path in drawn])
    html_path.write_text(page, encoding="utf-8")
    return [*files, html_path]
