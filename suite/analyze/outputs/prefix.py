"""The ``prefix_cache`` block on the page: one answer line, the TTFT-vs-uncached-tokens chart (points
and the fitted line per model) and a fold with the per-model figures. Only rendered when the target
reported cached prompt tokens: otherwise the block holds just its ``why`` (summary.json) and the
page says nothing (no empty section)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from suite.analyze.outputs.fmt import MISSING, number, percent
from suite.analyze.outputs.page import Fold, figure, paragraph, table
from suite.analyze.summarize.metrics import column, flags
from suite.analyze.summarize.prefix import basis_rows

CHART = "prefix_ttft.png"
CAPTION = "TTFT against uncached prompt tokens (prefix cache), with the fitted prefill rate"
TITLE = "Prompt-prefix cache"
DPI = 110


def measured(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    block = summary.get("prefix_cache")
    return block if isinstance(block, dict) and "models" in block else None


def rate_cells(fit: Mapping[str, Any]) -> list[str]:
    """Prefill rate, its 95 % CI, intercept and n; or the reason in the first cell."""
    if "slope" not in fit:
        return [f"{MISSING} ({fit.get('why', 'not fitted')})", MISSING, MISSING, f"{fit.get('n', 0):,}"]
    slope, ms = fit["slope"], 1000.0
    ci = (f"{slope['ci'][0] * ms:.3f}–{slope['ci'][1] * ms:.3f}" if "ci" in slope
          else f"{MISSING} ({slope.get('ci_why')})")
    return [f"{slope['value'] * ms:.3f}", ci, f"{fit['intercept']['value'] * ms:.0f} ms", f"{fit['n']:,}"]


def money(v: Mapping[str, Any]) -> str:
    return f"${number(v['value'], 4)}" if v.get("value") is not None else f"{MISSING} ({v.get('why')})"


def answer_line(block: Mapping[str, Any]) -> str:
    share, expected = block["cached_share"], block["expected_cached_share"]
    line = (f"Prefix cache: {percent(share['value'])} of prompt tokens were cached "
            f"({block['cached_tokens']:,} of {block['prompt_tokens']:,}; "
            f"{percent(block['requests_with_cached_share'])} of requests had some)")
    if expected.get("value") is not None:
        line += (f"; the corpus expects {percent(expected['value'])} (its manifest, "
                 f"{expected.get('block_tokens', '?')}-token blocks, unbounded cache)")
    return line + f"; saved {money(block['cost_saved'])} at cached-input prices."


HEADERS = ("model", "requests", "cached share", "corpus expects", "with cached", "prefill ms/token",
           "95 % CI", "intercept", "fit n", "saved")


SHORT = (0, 2, 4, 5, 6, 9)  # the terminal's columns of HEADERS (80 characters wide)
SHORT_HEADERS = tuple(HEADERS[i] for i in SHORT)


def prefix_rows(block: Mapping[str, Any], short: bool = False) -> list[list[str]]:
    """One row per model (HEADERS; ``short``: SHORT_HEADERS and no reasons), shared by
    report.html and the terminal table."""
    rows = []
    for model, m in block["models"].items():
        saved = m["cost_saved"]
        row = [model, f"{m['requests']:,}", percent(m["cached_share"]["value"]),
               percent(m["expected_cached_share"]["value"]),
               percent(m["requests_with_cached_share"]), *rate_cells(m["prefill_fit"]),
               MISSING if short and saved.get("value") is None else money(saved)]
        if short:
            row = [row[i] for i in SHORT]
            row[3] = row[3].split(" (")[0]
        rows.append(row)
    return rows


def prefix_fold(summary: Mapping[str, Any], images: Mapping[str, bytes]) -> Fold | None:
    block = measured(summary)
    if block is None:
        return None
    body = (paragraph(answer_line(block))
            + (figure(CAPTION, images[CAPTION]) if CAPTION in images else "")
            + table(HEADERS, prefix_rows(block))
            + paragraph(f"Basis: {block['basis']}; {block['response_cache_hits_excluded']:,} "
                        "response-cache hits left out. Prefill rate: least-squares slope of TTFT "
                        "(streamed requests) over uncached prompt tokens, with a 95 % bootstrap CI; "
                        "the intercept holds what does not grow with the prompt (network, queueing, "
                        "fixed server work). Saved: cached tokens × (input − cached-input price).",
                        "muted"))
    return Fold(TITLE, body)


def plot_prefix_fit(frame: pd.DataFrame, block: Mapping[str, Any], path: Path) -> Path:
    """Scatter of TTFT over uncached prompt tokens per model, with each model's fitted line."""
    from suite.analyze.outputs.savefig import plt, save_figure

    rows, _ = basis_rows(frame)
    rows &= flags(frame, "stream")
    x = column(frame, "prompt_tokens").astype(float) - column(frame, "cached_tokens").astype(float)
    y = column(frame, "ttft").astype(float)
    models = frame["model"].astype(str).to_numpy()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for i, (model, entry) in enumerate(block["models"].items()):
        mine = rows & (models == model) & np.isfinite(y)
        color = f"C{i % 10}"
        ax.scatter(x[mine], y[mine] * 1000, s=8, alpha=0.4, color=color, label=f"{model} (n={mine.sum()})")
        fit = entry["prefill_fit"]
        if "slope" in fit and mine.any():
            xs = np.array([x[mine].min(), x[mine].max()])
            ax.plot(xs, (fit["intercept"]["value"] + fit["slope"]["value"] * xs) * 1000, color=color,
                    label=f"{model} fit: {fit['slope']['value'] * 1000:.3f} ms/token")
    ax.set_xlabel("uncached prompt tokens (prompt − cached)")
    ax.set_ylabel("TTFT (ms)")
    ax.set_title("TTFT against uncached prompt tokens")
    ax.grid(True, alpha=0.3)
    if ax.has_data():
        ax.legend(loc="best", fontsize="small")
    return save_figure(fig, path, DPI)
