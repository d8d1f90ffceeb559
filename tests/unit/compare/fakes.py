"""Hand-made ``RunSamples`` for compare and sweep tests (no run folder, no loader)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from suite.compare.read.samples import RunSamples


def samples(label: str, e2e, *, ttft=None, model: str = "gpt-4o", ok=None, hit=None,
            sha: str | None = "c0ffee", ids=None, tokens: float = 11.0, repeat=None,
            seconds: float = 10.0) -> RunSamples:
    e2e = np.asarray(e2e, dtype=float)
    n = e2e.size
    ttft = np.asarray(ttft if ttft is not None else e2e / 2, dtype=float)
    ok = np.ones(n, dtype=bool) if ok is None else np.asarray(ok, dtype=bool)
    values = {"e2e": np.where(ok, e2e, np.nan), "ttft": np.where(ok, ttft, np.nan),
              "tpot": np.where(ok, (e2e - ttft) / (tokens - 1), np.nan), "itl_mean": np.full(n, np.nan)}
    return RunSamples(label, Path(f"/runs/{label}"),
                      np.array(ids if ids is not None else [f"r{i:04d}" for i in range(n)], dtype=object),
                      np.full(n, model, dtype=object), ok, values,
                      np.full(n, np.nan) if hit is None else np.asarray(hit, dtype=float),
                      np.where(ok, tokens, np.nan), seconds, {"corpus_sha256": sha} if sha else {}, None,
                      np.empty(0) if repeat is None else np.asarray(repeat, dtype=float))
