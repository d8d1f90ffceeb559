"""Prometheus metrics for one app instance, in its own CollectorRegistry (never the global one,
so two apps in one process — tests, benchmarks — never share or collide).

These are for live views; reports come from the driver's per-request records (STYLE.md §10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0,
                   3.0, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass
class CacheCounts:
    """Plain counters the /admin/cache/stats endpoint reports (mirrored in Prometheus)."""

    hits: int = 0
    misses: int = 0
    errors: int = 0


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    counts: CacheCounts = field(default_factory=CacheCounts)

    def __post_init__(self) -> None:
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        r = self.registry
        self.requests = Counter("mock_requests", "Chat requests answered",
                                ["model", "status", "cache"], registry=r)
        self.ttft = Histogram("mock_ttft_seconds", "Server-side time to first content chunk "
                              "(streaming)", ["model", "cache"], buckets=LATENCY_BUCKETS, registry=r)
        self.e2e = Histogram("mock_e2e_seconds", "Server-side time from request to last byte",
                             ["model", "cache"], buckets=LATENCY_BUCKETS, registry=r)
        self.prompt_tokens = Counter("mock_prompt_tokens", "Prompt tokens of answered requests",
                                     ["model"], registry=r)
        self.completion_tokens = Counter("mock_completion_tokens",
                                         "Completion tokens of answered requests", ["model"],
                                         registry=r)
        self.in_flight = Gauge("mock_in_flight_requests", "Chat requests being answered",
                               registry=r)
        self.cache_hits = Counter("mock_cache_hits", "Response-cache hits", registry=r)
        self.cache_misses = Counter("mock_cache_misses", "Response-cache misses", registry=r)
        self.cache_errors = Counter("mock_cache_errors", "Response-cache backend failures "
                                    "(served as misses: fail open)", registry=r)

    def cache_hit(self) -> None:
        self.counts.hits += 1
        self.cache_hits.inc()

    def cache_miss(self) -> None:
        self.counts.misses += 1
        self.cache_misses.inc()

    def cache_error(self) -> None:
        self.counts.errors += 1
        self.cache_errors.inc()

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(...)`` memoized: prometheus_client validates labels on every call."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def answered(self, model: str, status: int, cache: str) -> None:
        self._child(self.requests, model, str(status), cache).inc()

    def served(self, model: str, cache: str, e2e_s: float, prompt_tokens: int,
               completion_tokens: int) -> None:
        """One successful chat answer: its latency and token counts."""
        self._child(self.e2e, model, cache).observe(e2e_s)
        self._child(self.prompt_tokens, model).inc(prompt_tokens)
        self._child(self.completion_tokens, model).inc(completion_tokens)

    def first_token(self, model: str, cache: str, ttft_s: float) -> None:
        self._child(self.ttft, model, cache).observe(ttft_s)

    def render(self) -> bytes:
        return generate_latest(self.registry)
