"""The prompt-prefix (KV) cache block: how much of the prompts the target served from its prefix cache
(``usage.prompt_tokens_details.cached_tokens``), what that did to TTFT, and what it saved at the
provider's cached-input price.

Basis: successful requests that report ``cached_tokens`` and were not answered by a response cache
(a response-cache hit reports its whole prompt as cached but prefilled nothing: it is the cache
section's, and would make the prefix share look better than any prefix cache can be).

The prefill rate is the least-squares slope of TTFT (streamed requests) over *uncached* prompt tokens
(prompt − cached), per model, with a percentile bootstrap CI of the slope (pairs resampled, fixed
seed). The intercept absorbs everything that does not grow with the prompt: network, queueing, the
server's fixed work. Figures come from per-request records only; a target that reports no
``cached_tokens`` gets one ``why`` and nothing else.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from suite.analyze.summarize.metrics import column, equals, flags, value
from suite.models import PriceTable

NOT_MEASURED = ("not measured: the target reports no usage.prompt_tokens_details.cached_tokens on any "
                "successful request that was not a response-cache hit")
BASIS = ("successful requests that report usage.prompt_tokens_details.cached_tokens, response-cache "
         "hits excluded (they prefill nothing)")
FIT_BASIS = "streamed requests: TTFT = intercept + slope x (prompt_tokens - cached_tokens), least squares"
BOOT = {"n_boot": 500, "seed": 0, "conf": 0.95, "max_points": 4000}
MIN_FIT_POINTS = 3


def fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """(slope, intercept) of the least-squares line, or None when x does not vary."""
    dx = x - x.mean()
    sxx = float(dx @ dx)
    if x.size < 2 or sxx == 0:
        return None
    slope = float(dx @ (y - y.mean())) / sxx
    return slope, float(y.mean() - slope * x.mean())


def slope_ci(x: np.ndarray, y: np.ndarray, n_boot: int = BOOT["n_boot"], seed: int = BOOT["seed"],
             conf: float = BOOT["conf"]) -> tuple[float, float] | None:
    """Percentile bootstrap CI of the slope: pairs resampled with replacement (at most
    ``max_points`` pairs, an evenly spaced subsample beyond). None when too few resamples vary."""
    if x.size > BOOT["max_points"]:
        keep = np.linspace(0, x.size - 1, BOOT["max_points"]).astype(np.int64)
        x, y = x[keep], y[keep]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    xs, ys = x[idx], y[idx]
    dx = xs - xs.mean(axis=1, keepdims=True)
    sxx = (dx * dx).sum(axis=1)
    ok = sxx > 0
    if ok.sum() < n_boot // 2:
        return None
    slopes = (dx[ok] * (ys[ok] - ys[ok].mean(axis=1, keepdims=True))).sum(axis=1) / sxx[ok]
    tail = (1 - conf) / 2 * 100
    lo, hi = np.percentile(slopes, [tail, 100 - tail])
    return float(lo), float(hi)


def prefill_fit(uncached: np.ndarray, ttft: np.ndarray) -> dict[str, Any]:
    """The fitted prefill rate (s/token, with CI) and intercept (s), or why none."""
    keep = np.isfinite(uncached) & np.isfinite(ttft)
    x, y = uncached[keep].astype(float), ttft[keep].astype(float)
    if x.size < MIN_FIT_POINTS:
        return {"n": int(x.size), "why": f"fewer than {MIN_FIT_POINTS} streamed requests with TTFT "
                "and token counts (the fit needs TTFT, which only streamed requests have)"}
    line = fit_line(x, y)
    if line is None:
        return {"n": int(x.size), "why": "every request had the same uncached prompt length: no slope "
                "to fit"}
    slope, intercept = line
    out: dict[str, Any] = {"n": int(x.size), "basis": FIT_BASIS,
                           "slope": {"value": slope, "unit": "s/token"},
                           "intercept": {"value": intercept, "unit": "s"},
                           "uncached_tokens": {"min": float(x.min()), "max": float(x.max())}}
    ci = slope_ci(x, y)
    if ci is None:
        out["slope"]["ci_why"] = "too few resamples with varying uncached lengths"
    else:
        out["slope"]["ci"] = [ci[0], ci[1]]
    return out


def share_block(prompt: np.ndarray, cached: np.ndarray) -> dict[str, Any]:
    """Cached-token share (sum cached / sum prompt) and share of requests with any cached token."""
    total = float(prompt.sum())
    return {
        "requests": int(prompt.size), "prompt_tokens": int(prompt.sum()),
        "cached_tokens": int(cached.sum()),
        "cached_share": value(float(cached.sum()) / total if total else None,
                              "the requests reported 0 prompt tokens", "ratio"),
        "requests_with_cached": int((cached > 0).sum()),
        "requests_with_cached_share": float((cached > 0).mean()),
    }


def saving(model: str, cached: float, table: PriceTable | None, table_why: str | None) -> dict[str, Any]:
    """What the cached tokens saved: cached x (input - cached_input) price, or why not priced."""
    if table is None:
        return {"value": None, "why": table_why or "no price table"}
    found = table.lookup(model)
    if found is None:
        return {"value": None, "why": f"{model!r} is not in the price table {table.path}"}
    name, price = found
    if price.cached_input_per_1m is None:
        return {"value": None, "why": f"{name} has no cached_input_per_1m in {table.path} (the "
                "provider publishes no cached-input price)"}
    saved = cached * (price.input_per_1m - price.cached_input_per_1m) / 1e6
    return {"value": saved, "unit": "USD", "priced_as": name, "input_per_1m": price.input_per_1m,
            "cached_input_per_1m": price.cached_input_per_1m}


def expected_share(manifest: dict[str, Any] | None, why: str | None,
                   model: str | None = None) -> dict[str, Any]:
    """The corpus's expected cacheable share (manifest ``prefix_cache.expected_cached_share``, or
    its ``per_model.<model>`` one), with the block size it assumed."""
    if manifest is None:
        return value(None, why or "no corpus manifest")
    section = manifest.get("prefix_cache") or {}
    source = section if model is None else (section.get("per_model") or {}).get(model) or {}
    got = source.get("expected_cached_share")
    out = value(float(got) if isinstance(got, int | float) else None,
                "the corpus manifest has no prefix_cache.expected_cached_share"
                + ("" if model is None else f" for {model}"), "ratio")
    if out["value"] is not None and "block_tokens" in section:
        out["block_tokens"] = section["block_tokens"]  # the expectation's block size, not the target's
    return out


def basis_rows(frame: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Mask of the basis rows, and how many response-cache hits were left out."""
    ok = frame["ok"].to_numpy(dtype=bool)
    hits = ok & equals(frame, "cache", "hit")
    reported = np.isfinite(column(frame, "cached_tokens").astype(float))
    prompt = np.isfinite(column(frame, "prompt_tokens").astype(float))
    return ok & ~hits & reported & prompt, int((hits & reported).sum())


def prefix_section(frame: pd.DataFrame, table: PriceTable | None = None, table_why: str | None = None,
                   manifest: dict[str, Any] | None = None,
                   manifest_why: str | None = None) -> dict[str, Any]:
    """The ``prefix_cache`` block of summary.json (docs/summary-schema.md)."""
    rows, hits_left_out = basis_rows(frame)
    if not rows.any():
        return {"why": NOT_MEASURED}
    prompt = column(frame, "prompt_tokens").astype(float)
    cached = column(frame, "cached_tokens").astype(float)
    if not (cached[rows] > 0).any():
        return {"why": f"no prompt-prefix caching seen: all {int(rows.sum())} requests reported "
                "cached_tokens = 0", "requests": int(rows.sum())}
    ttft = np.where(flags(frame, "stream"), column(frame, "ttft").astype(float), np.nan)
    models = frame["model"].astype(str).to_numpy()
    out: dict[str, Any] = {"basis": BASIS, "response_cache_hits_excluded": hits_left_out,
                           **share_block(prompt[rows], cached[rows]),
                           "expected_cached_share": expected_share(manifest, manifest_why),
                           "models": {}}
    saved: list[float] = []
    for model in sorted(set(models[rows])):
        mine = rows & (models == model)
        entry = share_block(prompt[mine], cached[mine])
        entry["expected_cached_share"] = expected_share(manifest, manifest_why, model)
        entry["prefill_fit"] = prefill_fit(prompt[mine] - cached[mine], ttft[mine])
        entry["cost_saved"] = saving(model, float(cached[mine].sum()), table, table_why)
        if entry["cost_saved"]["value"] is not None:
            saved.append(entry["cost_saved"]["value"])
        out["models"][model] = entry
    out["cost_saved"] = value(sum(saved) if saved else None, "no model of this run has a cached-input "
                              "price", "USD")
    if table is not None:
        out["cost_saved"].update({"as_of": table.as_of, "source": table.source})
    return out


def prefix_sentence(block: dict[str, Any] | None) -> str | None:
    """The headline: cached share (beside the corpus's expectation) and the saving; None when no
    token was cached (the block's ``why`` says why)."""
    if not block or "models" not in block:
        return None
    text = (f"the prompt-prefix cache served {block['cached_share']['value'] * 100:.1f} % of prompt "
            f"tokens ({block['requests_with_cached_share'] * 100:.1f} % of requests had some)")
    expected = block["expected_cached_share"].get("value")
    if expected is not None:
        text += f"; the corpus expects {expected * 100:.1f} %"
    saved = block["cost_saved"].get("value")
    return text + (f"; ${saved:.4f} saved at cached-input prices" if saved is not None else "")
