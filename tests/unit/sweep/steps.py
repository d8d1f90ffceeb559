"""Hand-made sweep steps (cache steps with known hit ratios, SLO verdicts) shared by the sweep tests."""

from __future__ import annotations

import numpy as np

from suite.compare import Boot
from suite.sweep.rows import add_gains, cache_cells, latency_cells
from tests.unit.compare.fakes import samples

BOOT = Boot(n_boot=300)


def cache_step(label: str, n_hits: int, n: int = 100):
    """Misses take 1 s, hits 10 ms: with h = n_hits / n, mean E2E = 1 − 0.99 h."""
    e2e = np.r_[np.full(n_hits, 0.01), np.full(n - n_hits, 1.0)]
    hit = np.r_[np.ones(n_hits), np.zeros(n - n_hits)]
    return samples(label, e2e, hit=hit)


def rows_for(hits: list[int]) -> tuple[list[dict], dict]:
    steps = [cache_step(f"ratio-{h}", h) for h in hits]
    manifests = [{"repeat_ratio": {"achieved": h / 100}, "theoretical_hit_ratio": h / 100} for h in hits]
    rows = [{"repeat_ratio": h / 100, **cache_cells(s, m, BOOT), **latency_cells(s)}
            for h, s, m in zip(hits, steps, manifests, strict=True)]
    return rows, add_gains(rows, steps, BOOT)


def verdict(passed: bool) -> dict:
    return {"passed": passed, "checks": [{"metric": "e2e", "stat": "p95", "passed": passed,
                                         "why": "2.1 breaks < 2" if not passed else "ok"}]}
