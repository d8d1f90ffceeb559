"""The report's one cache table: counts, hit and miss latency, and each speedup once, with its
bootstrap CI (the terminal and the CSV keep their own column sets in ``rows``)."""

from __future__ import annotations

from suite.analyze.outputs.facts import SPEEDUP_CI_COLUMNS
from suite.analyze.outputs.rows import CACHE_COLUMNS, CACHE_DETAIL_COLUMNS, Column
from suite.analyze.schema import Outcome

_POOL = {c.csv: c for c in (*CACHE_COLUMNS, *CACHE_DETAIL_COLUMNS, *SPEEDUP_CI_COLUMNS)}

CACHE_TABLE_COLUMNS: tuple[Column[Outcome], ...] = tuple(_POOL[name] for name in (
    "cache_hits", "cache_misses", "cache_failed", "cache_hit_ratio",
    "hit_e2e_p50_s", "miss_e2e_p50_s", "hit_e2e_p95_s", "miss_e2e_p95_s",
    "speedup_e2e_p50_ci", "speedup_e2e_p95_ci",
    "hit_ttft_p50_s", "miss_ttft_p50_s", "speedup_ttft_p50_ci", "speedup_ttft_p95_ci"))
