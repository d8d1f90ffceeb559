"""The prefix_cache block on synthetic records: cached share (response-cache hits left out), the
fitted prefill rate against a known slope, cost saved at the cached-input price, and the ``why``
of a target that reports no cached_tokens."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from suite.analyze.summarize.prefix import NOT_MEASURED, fit_line, prefix_section, prefix_sentence, slope_ci
from suite.models import Price, PriceTable

TABLE = PriceTable({"gpt-4o": Price(2.5, 10.0, 1.25), "gpt-3.5-turbo": Price(0.5, 1.5)}, "2025-08-15",
                   "test", "prices.yaml")


def frame(n: int = 200, model: str = "gpt-4o", slope: float = 0.00025, noise: float = 0.002,
          cached: float | None = 512.0) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    prompt = rng.integers(600, 2000, n).astype(float)
    cached_col = np.full(n, np.nan if cached is None else cached)
    cached_col[::4] = 0.0 if cached is not None else np.nan  # every fourth request: a cold prefix
    uncached = prompt - np.nan_to_num(cached_col)
    ttft = 0.03 + slope * uncached + rng.normal(0, noise, n)
    return pd.DataFrame({"ok": True, "cache": "miss", "model": model, "stream": True, "ttft": ttft,
                         "prompt_tokens": prompt, "cached_tokens": cached_col})


def test_share_counts_cached_over_prompt_tokens_without_response_hits() -> None:
    f = frame()
    hit = pd.DataFrame({"ok": [True], "cache": ["hit"], "model": ["gpt-4o"], "stream": [True],
                        "ttft": [0.001], "prompt_tokens": [5000.0], "cached_tokens": [5000.0]})
    block = prefix_section(pd.concat([f, hit], ignore_index=True), TABLE)
    rows = f["cached_tokens"] > 0
    assert block["response_cache_hits_excluded"] == 1
    assert block["requests"] == 200
    assert block["cached_tokens"] == int(f["cached_tokens"].sum())
    share = f["cached_tokens"].sum() / f["prompt_tokens"].sum()
    assert block["cached_share"]["value"] == pytest.approx(share)
    assert block["requests_with_cached_share"] == pytest.approx(rows.mean())
    assert block["models"]["gpt-4o"]["requests"] == 200


def test_fit_recovers_a_known_slope_with_a_ci_around_it() -> None:
    fit = prefix_section(frame(slope=0.00025), TABLE)["models"]["gpt-4o"]["prefill_fit"]
    lo, hi = fit["slope"]["ci"]
    assert fit["slope"]["value"] == pytest.approx(0.00025, rel=0.02)
    assert lo < 0.00025 < hi and hi - lo < 0.00002
    assert fit["intercept"]["value"] == pytest.approx(0.03, abs=0.003)
    exact = np.arange(10.0)
    assert fit_line(exact, 2 + 3 * exact) == pytest.approx((3.0, 2.0))
    assert fit_line(np.ones(5), exact[:5]) is None
    assert slope_ci(np.ones(5), exact[:5]) is None


def test_cost_saved_is_cached_tokens_times_the_price_difference() -> None:
    f = frame()
    block = prefix_section(f, TABLE)
    want = f["cached_tokens"].sum() * (2.5 - 1.25) / 1e6
    assert block["models"]["gpt-4o"]["cost_saved"]["value"] == pytest.approx(want)
    assert block["cost_saved"]["value"] == pytest.approx(want)
    assert block["cost_saved"]["as_of"] == "2025-08-15"
    unpriced = prefix_section(frame(model="gpt-3.5-turbo"), TABLE)
    assert unpriced["cost_saved"]["value"] is None
    assert "no cached_input_per_1m" in unpriced["models"]["gpt-3.5-turbo"]["cost_saved"]["why"]


def test_missing_and_zero_cached_tokens_say_why() -> None:
    assert prefix_section(frame(cached=None), TABLE) == {"why": NOT_MEASURED}
    zero = prefix_section(frame(cached=0.0), TABLE)
    assert set(zero) == {"why", "requests"} and "cached_tokens = 0" in zero["why"]


def test_expected_share_comes_from_the_manifest() -> None:
    manifest = {"prefix_cache": {"block_tokens": 16, "expected_cached_share": 0.4,
                                 "per_model": {"gpt-4o": {"expected_cached_share": 0.5}}}}
    block = prefix_section(frame(), TABLE, manifest=manifest)
    assert block["expected_cached_share"] == {"value": 0.4, "unit": "ratio", "block_tokens": 16}
    assert block["models"]["gpt-4o"]["expected_cached_share"]["value"] == 0.5
    sentence = prefix_sentence(block)
    assert sentence is not None and "the corpus expects 40.0 %" in sentence and "saved" in sentence
    assert prefix_sentence({"why": NOT_MEASURED}) is None
    assert prefix_section(frame(), TABLE, manifest={})["expected_cached_share"]["value"] is None
