"""Summary building blocks: a number with its unit, a latency distribution, or a stated absence.

Rule: a metric that cannot be computed is ``{"value": null, "why": "..."}`` (or a distribution with
``"n": 0`` and a ``why``) — never a default. ``collect_missing`` lists every such ``why`` so reports
can say what was not measured.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from suite.analyze.schema import Dist, Value
from suite.analyze.summarize.stats import LATENCY_PERCENTILES, describe, finite


def value(number: float | None, why: str, unit: str | None = None) -> Value:
    """A scalar metric: ``{"value": x, "unit": u}``, or ``{"value": None, "why": why}``."""
    out: Value = {"value": number} if number is not None else {"value": None, "why": why}
    if unit:
        out["unit"] = unit
    return out


def dist(values: Any, why: str, unit: str = "s", *, scratch: bool = False) -> Dist:
    """A distribution: sample size, mean, p50/p90/p95/p99 and max of every finite value, or ``n: 0``
    with every statistic null and the reason. ``scratch=True``: ``values`` is the caller's temporary
    (e.g. a masked copy of a column) and may be left sorted."""
    arr = finite(values)
    points = describe(arr, scratch=scratch or (arr is not values and isinstance(values, np.ndarray)
                                               and not np.may_share_memory(arr, values)))
    return dist_block(arr.size, points, why, unit)


def dist_block(n: int, points: dict[str, float] | None, why: str, unit: str = "s") -> Dist:
    """The distribution dict of ``n`` finite values and their ``describe`` points (None: no value)."""
    if points is None:
        empty = {name: None for name in ("mean", *(f"p{q}" for q in LATENCY_PERCENTILES), "max")}
        return cast("Dist", {"n": 0, **empty, "unit": unit, "why": why})
    return cast("Dist", {"n": int(n), **points, "unit": unit})


def flags(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A nullable boolean column as a plain mask (unknown counts as False)."""
    return frame[name].to_numpy(dtype=bool, na_value=False)


def equals(frame: pd.DataFrame, name: str, wanted: str) -> np.ndarray:
    """Mask of rows whose text column equals ``wanted`` (on category codes: no strings per row)."""
    col = frame[name]
    if isinstance(col.dtype, pd.CategoricalDtype):
        categories = list(col.cat.categories)
        if wanted not in categories:
            return np.zeros(len(col), dtype=bool)
        return col.cat.codes.to_numpy() == categories.index(wanted)
    return col.to_numpy(dtype=object) == wanted


def column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy()


def collect_missing(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every ``why`` in the summary tree, with its dotted path (``models.gpt-4o.ttft``)."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        if path and isinstance(node.get("why"), str):
            found.append((path, node["why"]))
        for key, child in node.items():
            found += collect_missing(child, f"{path}.{key}" if path else str(key))
    return found
