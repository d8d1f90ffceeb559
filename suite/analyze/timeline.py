"""Throughput over time: requests completed, successful, failed and output tokens per 1 s and 10 s
bucket of the measured window, by completion time (``t_start + e2e``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from suite.analyze.metrics import column

BUCKETS_S = (1, 10)
MAX_BUCKETS = 20_000  # a 5.5 h run at 1 s; longer runs keep only the coarser series


def bucket_counts(t: np.ndarray, start: float, width: float, n: int,
                  weights: np.ndarray | None = None) -> list:
    """Counts (or sums of ``weights``) of the finite times per bucket ``[start + k·width, …)``."""
    keep = np.isfinite(t) if weights is None else np.isfinite(t) & np.isfinite(weights)
    idx = np.clip(((t[keep] - start) // width).astype(np.int64), 0, n - 1)
    w = None if weights is None else weights[keep]
    counts = np.bincount(idx, weights=w, minlength=n)
    return [int(c) for c in counts] if weights is None else [float(c) for c in counts]


def series(frame: pd.DataFrame, start: float, end: float, width: float) -> dict[str, Any]:
    n = max(1, int(np.ceil((end - start) / width)))
    if n > MAX_BUCKETS:
        return {"width_s": width, "why": f"{n} buckets of {width:g} s exceed the cap of {MAX_BUCKETS}"}
    done = column(frame, "t_start") + column(frame, "e2e")
    ok = frame["ok"].to_numpy()
    tokens = np.where(ok, column(frame, "completion_tokens"), np.nan)
    return {
        "width_s": width, "start": start, "buckets": n,
        "completed": bucket_counts(done, start, width, n),
        "ok": bucket_counts(done[ok], start, width, n),
        "failed": bucket_counts(done[~ok], start, width, n),
        "sent": bucket_counts(column(frame, "t_start"), start, width, n),
        "output_tokens": bucket_counts(done, start, width, n, tokens),
    }


def timeline_section(frame: pd.DataFrame, start: float, end: float) -> dict[str, Any]:
    """Per-bucket series for the run; requests without a measured e2e count in ``sent`` only."""
    return {f"{w}s": series(frame, start, end, float(w)) for w in BUCKETS_S}
