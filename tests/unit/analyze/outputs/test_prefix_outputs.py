"""The prefix-cache section on the page and in the terminal: shown only when tokens were cached, with
the measured share, the fitted rate and its CI, and the saving; the chart is drawn from the rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from suite.analyze.outputs.prefix import (
    HEADERS,
    SHORT_HEADERS,
    answer_line,
    plot_prefix_fit,
    prefix_fold,
    prefix_rows,
)
from suite.analyze.summarize.prefix import prefix_section
from suite.models import Price, PriceTable

TABLE = PriceTable({"gpt-4o": Price(2.5, 10.0, 1.25)}, "2025-08-15", "test", "prices.yaml")


def records() -> pd.DataFrame:
    prompt = np.tile([800.0, 1200.0, 1600.0, 2000.0], 10)
    cached = np.tile([0.0, 512.0], 20)
    return pd.DataFrame({"ok": True, "cache": "miss", "model": "gpt-4o", "stream": True,
                         "ttft": 0.03 + 0.00025 * (prompt - cached), "prompt_tokens": prompt,
                         "cached_tokens": cached})


def test_fold_and_rows_show_share_rate_and_saving(tmp_path: Path) -> None:
    block = prefix_section(records(), TABLE, manifest={"prefix_cache": {
        "block_tokens": 16, "expected_cached_share": 0.4}})
    line = answer_line(block)
    assert "cached" in line and "the corpus expects 40.0 %" in line and "$0.0128" in line
    (row,) = prefix_rows(block)
    assert len(row) == len(HEADERS) and row[5] == "0.250" and row[-1] == "$0.0128"
    assert len(prefix_rows(block, short=True)[0]) == len(SHORT_HEADERS)
    fold = prefix_fold({"prefix_cache": block}, {})
    assert fold is not None and "0.250" in fold.body
    assert prefix_fold({"prefix_cache": {"why": "not measured"}}, {}) is None
    png = plot_prefix_fit(records(), block, tmp_path / "prefix_ttft.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
