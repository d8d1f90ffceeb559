"""Prometheus metrics for one app instance, in its own CollectorRegistry (never the global one,
so two apps in one process — tests, benchmarks — never share or collide).

The hot path only bumps plain ints (prometheus_client's labelled children take locks and validate
labels on every call — a measurable share of a zero-latency request); the registry turns them
into metric families when /metrics is scraped. These numbers are for live views; reports come
from the driver's per-request records (docs/design.md).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0,
                   3.0, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass
class CacheCounts:
    """Cache outcomes, reported by /admin/cache/stats and /metrics alike."""

    hits: int = 0
    misses: int = 0
    errors: int = 0


@dataclass
class Histogram:
    """Bucket counts (non-cumulative; the last bucket is +Inf) and the sum of observations."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(LATENCY_BUCKETS, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, float]]:
        bounds = [*(repr(b) for b in LATENCY_BUCKETS), "+Inf"]
        running, out = 0, []
        for bound, n in zip(bounds, self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out


class Metrics:
    """Counters of one app; ``render()`` is the /metrics body."""

    def __init__(self) -> None:
        self.counts = CacheCounts()
        self.in_flight = 0
        self.requests: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self.prompt_tokens: defaultdict[str, int] = defaultdict(int)
        self.completion_tokens: defaultdict[str, int] = defaultdict(int)
        self.ttft: defaultdict[tuple[str, str], Histogram] = defaultdict(Histogram)
        self.e2e: defaultdict[tuple[str, str], Histogram] = defaultdict(Histogram)
        self.faults: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.batches: dict[str, Any] = {}  # model -> Batch (has .active, .queued); set by the app
        self.registry = CollectorRegistry()
        self.registry.register(self)
        # process_cpu_seconds_total / process_resident_memory_bytes, read from /proc at scrape time
        # only (no hot-path cost): what the suite's target monitor charts as CPU and RSS.
        ProcessCollector(registry=self.registry)

    def cache_error(self) -> None:
        self.counts.errors += 1

    def answered(self, model: str, status: int | str, cache: str) -> None:
        self.requests[(model, str(status), cache)] += 1

    def fault(self, model: str, kind: str) -> None:
        self.faults[(model, kind)] += 1

    def served(self, model: str, cache: str, e2e_s: float, prompt_tokens: int,
               completion_tokens: int) -> None:
        """One successful chat answer: its latency and token counts."""
        self.e2e[(model, cache)].observe(e2e_s)
        self.prompt_tokens[model] += prompt_tokens
        self.completion_tokens[model] += completion_tokens

    def first_token(self, model: str, cache: str, ttft_s: float) -> None:
        self.ttft[(model, cache)].observe(ttft_s)

    def collect(self) -> Iterator[Metric]:
        """prometheus_client collector protocol: called by the registry at scrape time."""
        yield _counter("mock_requests", "Chat requests answered, by model, HTTP status and cache "
                       "outcome", ["model", "status", "cache"], self.requests)
        yield _histogram("mock_ttft_seconds", "Server-side time to the first content chunk "
                         "(streaming)", self.ttft)
        yield _histogram("mock_e2e_seconds", "Server-side time from request to last byte",
                         self.e2e)
        yield _counter("mock_prompt_tokens", "Prompt tokens of answered requests", ["model"],
                       {(k,): v for k, v in self.prompt_tokens.items()})
        yield _counter("mock_completion_tokens", "Completion tokens of answered requests",
                       ["model"], {(k,): v for k, v in self.completion_tokens.items()})
        yield GaugeMetricFamily("mock_in_flight_requests", "Chat requests being answered",
                                value=self.in_flight)
        yield _counter("mock_faults", "Injected faults, by model and kind", ["model", "kind"],
                       self.faults)
        yield _gauge("mock_batch_active", "Generations in the model's batch (load model)",
                     {m: b.active for m, b in self.batches.items()})
        yield _gauge("mock_queue_depth", "Requests waiting for a batch slot (load model)",
                     {m: b.queued for m, b in self.batches.items()})
        for name, value in (("hits", self.counts.hits), ("misses", self.counts.misses),
                            ("errors", self.counts.errors)):
            help_text = f"Response-cache {name}" + (" (served as misses: fail open)"
                                                    if name == "errors" else "")
            yield CounterMetricFamily(f"mock_cache_{name}", help_text, value=value)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _counter(name: str, help_text: str, labels: list[str],
             values: dict[tuple[str, ...], int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, help_text, labels=labels)
    for label_values, value in sorted(values.items()):
        family.add_metric(list(label_values), value)
    return family


def _gauge(name: str, help_text: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=["model"])
    for model, value in sorted(values.items()):
        family.add_metric([model], value)
    return family


def _histogram(name: str, help_text: str,
               data: dict[tuple[str, str], Histogram]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, help_text, labels=["model", "cache"])
    for labels, hist in sorted(data.items()):
        family.add_metric(list(labels), hist.cumulative(), hist.total)
    return family
