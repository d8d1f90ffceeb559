"""Token accounting and cost: what the target's ``usage`` said against a tiktoken count of the same
reply (where the driver counted both), and dollars per model from the dated price table.

Costs come from recorded token counts only; a request without counts adds nothing and is counted
as unpriced, and a model absent from the price table has no cost (null, with the reason).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from suite.analyze.schema import Tokens
from suite.analyze.summarize.metrics import column, dist, equals, value
from suite.models import PriceTable

NO_CACHED = "the target reported no usage.prompt_tokens_details.cached_tokens"
NO_PAIRS = ("no request carries both a usage count and a tiktoken count of its reply (the driver "
            "counts a sample with tiktoken beside usage)")


def discrepancy(frame: pd.DataFrame) -> dict[str, Any]:
    """``tiktoken − usage`` completion tokens on the requests where both were recorded."""
    usage = column(frame, "completion_tokens")
    tik = column(frame, "completion_tokens_tiktoken")
    from_usage = equals(frame, "tokens_source", "usage")
    both = frame["ok"].to_numpy() & np.isfinite(usage) & np.isfinite(tik) & from_usage
    if not both.any():
        return {"pairs": 0, "why": NO_PAIRS}
    diff = tik[both] - usage[both]
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(usage[both] > 0, diff / usage[both], np.nan)
    return {
        "pairs": int(both.sum()),
        "exact_share": float((diff == 0).mean()),
        "usage_tokens": int(usage[both].sum()), "tiktoken_tokens": int(tik[both].sum()),
        "total_relative": value(float(diff.sum() / usage[both].sum()) if usage[both].sum() else None,
                                "usage counted zero tokens on every paired request"),
        "difference": dist(diff, NO_PAIRS, unit="tokens", scratch=True),
        "relative_difference": dist(rel, "usage counted zero tokens on every paired request", unit="ratio",
                                    scratch=True),
    }


NOT_RECORDED = "(not recorded)"


def source_counts(col: pd.Series, rows: np.ndarray) -> dict[str, int]:
    """How many of the ``rows`` name each token source (``(not recorded)`` for none), by name. On
    a categorical column the codes are counted (no string per row)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()[rows]
        counts = np.bincount(codes.astype(np.int64) + 1, minlength=len(col.cat.categories) + 1)
        out: dict[str, int] = {}
        for name, n in zip([NOT_RECORDED, *map(str, col.cat.categories)], counts, strict=True):
            if n:
                out[name] = out.get(name, 0) + int(n)
        return dict(sorted(out.items()))
    source = col[rows].astype(object).fillna(NOT_RECORDED)
    return {str(k): int(v) for k, v in source.value_counts().sort_index().items()}


def cached_tokens(frame: pd.DataFrame, ok: np.ndarray) -> dict[str, Any]:
    """Cached prompt tokens over the successful requests that reported them: a target that reports
    none shows "not reported", never 0 (0 would claim its cache held nothing)."""
    cached = column(frame, "cached_tokens")[ok]
    reported = np.isfinite(cached)
    if not reported.any():
        return {"value": None, "why": NO_CACHED}
    return {"value": int(cached[reported].sum()), "unit": "tokens", "reported_by": int(reported.sum())}


def token_counts(frame: pd.DataFrame) -> dict[str, Any]:
    ok = frame["ok"].to_numpy()
    return {
        "prompt_tokens": int(np.nansum(column(frame, "prompt_tokens")[ok])),
        "completion_tokens": int(np.nansum(column(frame, "completion_tokens")[ok])),
        "cached_tokens": cached_tokens(frame, ok),
        "tokens_source": source_counts(frame["tokens_source"], ok),
    }


def _dollars(frame: pd.DataFrame, mask: np.ndarray, price: Any) -> tuple[float, float, int]:
    """Input and output cost of the rows in ``mask`` and how many of them had no token counts."""
    prompt, out = column(frame, "prompt_tokens")[mask], column(frame, "completion_tokens")[mask]
    priced = np.isfinite(prompt) & np.isfinite(out)
    cost_in = float(prompt[priced].sum()) * price.input_per_1m / 1e6
    cost_out = float(out[priced].sum()) * price.output_per_1m / 1e6
    return cost_in, cost_out, int((~priced).sum())


def model_cost(frame: pd.DataFrame, model: str, table: PriceTable) -> dict[str, Any]:
    """Cost of the successful requests of one model, and what its cache hits would have cost."""
    found = table.lookup(model)
    if found is None:
        return {"value": None, "why": f"{model!r} is not in the price table {table.path}; add it there"}
    name, price = found
    ok = frame["ok"].to_numpy()
    hits = ok & equals(frame, "cache", "hit")
    cost_in, cost_out, unpriced = _dollars(frame, ok, price)
    if unpriced == int(ok.sum()):
        return {"value": None, "why": f"no successful {model} request recorded prompt and completion tokens"}
    saved_in, saved_out, hits_unpriced = _dollars(frame, hits, price)
    out: dict[str, Any] = {
        "value": cost_in + cost_out, "unit": "USD", "priced_as": name,
        "input_per_1m": price.input_per_1m, "output_per_1m": price.output_per_1m,
        "input": cost_in, "output": cost_out, "unpriced_requests": unpriced,
        # a hit's own token counts priced as if the model had answered it: the money the cache kept
        "saved_by_cache_hits": value(saved_in + saved_out if hits.any() else None,
                                     "no successful cache hits", "USD"),
    }
    if hits_unpriced:
        out["note"] = f"{hits_unpriced} cache hits had no token counts and are not in saved_by_cache_hits"
    return out


def accounting_section(frame: pd.DataFrame, parts: dict[str, pd.DataFrame], table: PriceTable | None,
                       table_why: str | None) -> Tokens:
    section: dict[str, Any] = {**token_counts(frame), "discrepancy": discrepancy(frame)}
    if table is None:
        section["cost"] = {"why": table_why or "no price table"}
        return cast("Tokens", section)
    models = {m: model_cost(g, m, table) for m, g in parts.items()}
    priced = [c for c in models.values() if c["value"] is not None]
    saved = [c["saved_by_cache_hits"]["value"] for c in priced
             if c["saved_by_cache_hits"]["value"] is not None]
    section["cost"] = {
        "as_of": table.as_of, "source": table.source, "table": table.path, "models": models,
        "total": value(sum(c["value"] for c in priced) if priced else None, "no model of this run is priced",
                       "USD"),
        "saved_by_cache_hits": value(sum(saved) if saved else None, "no priced cache hits", "USD"),
    }
    if priced and len(priced) < len(models):
        section["cost"]["note"] = "total covers priced models only: " + ", ".join(
            m for m, c in models.items() if c["value"] is not None)
    return cast("Tokens", section)
