"""Throughput over time: requests completed, successful, failed and output tokens per 1 s and 10 s
bucket of the measured window, by completion time (``t_start + e2e``)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from suite.analyze.schema import Timeline
from suite.analyze.summarize.metrics import column

BUCKETS_S = (1, 10)
MAX_BUCKETS = 20_000  # a 5.5 h run at 1 s; longer runs keep only the coarser series


def bucket_index(t: np.ndarray, start: float, width: float, n: int) -> np.ndarray:
    """Bucket of each (finite) time: ``(t - start) // width`` clipped to ``[0, n - 1]``. For a whole
    number of seconds it is computed as ``floor(x / width)``, stepped down where the division rounded
    up onto an integer (then ``idx · width > x``, a product that is exact for whole widths): the same
    floor of the exact quotient, at about half the cost of ``//``. Other widths use ``//``."""
    x = t - start
    if not float(width).is_integer():
        idx = x // width
    else:
        idx = np.floor(x / width)
        idx -= idx * width > x
    return np.clip(idx.astype(np.int64), 0, n - 1)


def bucket_counts(t: np.ndarray, start: float, width: float, n: int,
                  weights: np.ndarray | None = None) -> list:
    """Counts (or sums of ``weights``) of the finite times per bucket ``[start + k·width, …)``."""
    keep = np.isfinite(t) if weights is None else np.isfinite(t) & np.isfinite(weights)
    return _tally(bucket_index(t[keep], start, width, n), n, None if weights is None else weights[keep])


def _tally(idx: np.ndarray, n: int, weights: np.ndarray | None = None) -> list:
    counts = np.bincount(idx, weights=weights, minlength=n)
    return [int(c) for c in counts] if weights is None else [float(c) for c in counts]


def series(t_start: np.ndarray, e2e: np.ndarray, ok: np.ndarray, tokens: np.ndarray, start: float, end: float,
           width: float) -> dict[str, Any]:
    """One width's series. Each completion time is bucketed once; the ok / failed / token series
    tally subsets of those buckets (in row order, so sums add up exactly as per series)."""
    n = max(1, int(np.ceil((end - start) / width)))
    if n > MAX_BUCKETS:
        return {"width_s": width, "why": f"{n} buckets of {width:g} s exceed the cap of {MAX_BUCKETS}"}
    done = t_start + e2e
    measured = np.isfinite(done)
    idx = bucket_index(done[measured], start, width, n)
    ok_m = ok[measured]
    counted = ok_m & np.isfinite(tokens[measured])
    return {
        "width_s": width, "start": start, "buckets": n,
        "completed": _tally(idx, n),
        "ok": _tally(idx[ok_m], n),
        "failed": _tally(idx[~ok_m], n),
        "sent": bucket_counts(t_start, start, width, n),
        "output_tokens": _tally(idx[counted], n, tokens[measured][counted]),
    }


def timeline_of(t_start: np.ndarray, e2e: np.ndarray, ok: np.ndarray, tokens: np.ndarray, start: float,
                end: float) -> Timeline:
    """Per-bucket series from per-request arrays (numpy only: it may run beside pandas work);
    requests without a measured e2e count in ``sent`` only."""
    widths = {f"{w}s": series(t_start, e2e, ok, tokens, start, end, float(w)) for w in BUCKETS_S}
    return cast("Timeline", widths)


def timeline_columns(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arrays ``timeline_of`` reads: send times, e2e, ok and completion tokens."""
    return (column(frame, "t_start"), column(frame, "e2e"), frame["ok"].to_numpy(),
            column(frame, "completion_tokens"))
