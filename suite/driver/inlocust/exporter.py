"""Live driver metrics for Prometheus (``--prometheus-port``): requests, TTFT/E2E, tokens, cache,
in flight, open-loop schedule lag.

For watching a run, not for reports: histograms bucket the values, too coarsely for TTFT/ITL;
every figure in a report comes from the per-request records. Metrics live in a private registry
(nothing global), served on 127.0.0.1 unless told otherwise. Label children are cached per model
so a request costs a few dict lookups.

A process's last values would be lost to a scraper whose next scrape falls after the process has
gone (a run ends the moment its last answer is recorded), so ``serve`` keeps /metrics up at exit
until one scrape has read the final values, for at most ``LINGER_S``. Prometheus sums over
workers therefore equal the run's records when its scrape interval is below ``LINGER_S``.
"""

from __future__ import annotations

import atexit
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import Metric

from suite.records import RequestRecord

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
# Well below Locust's 3 s grace for --processes workers at exit (then it sends them SIGINT), which
# must also cover closing the request log after it; a scraper at a 1 s interval
# (corpora/monitoring/prometheus.yml) reads the final values within it.
LINGER_S = 1.5


class DriverMetrics:
    """The metric families of one driver process, and how one record updates them."""

    def __init__(self, worker: str) -> None:
        self.registry = CollectorRegistry()
        reg, w = self.registry, ["worker"]
        self.requests = Counter("llmsuite_requests", "Requests recorded", [*w, "model", "outcome"],
                                registry=reg)
        self.ttft = Histogram("llmsuite_ttft_seconds", "Time to first token", [*w, "model"],
                              buckets=LATENCY_BUCKETS, registry=reg)
        self.e2e = Histogram("llmsuite_e2e_seconds", "Send to end of response", [*w, "model"],
                             buckets=LATENCY_BUCKETS, registry=reg)
        self.tokens = Counter("llmsuite_tokens", "Tokens sent and received", [*w, "model", "kind"],
                              registry=reg)
        self.cache = Counter("llmsuite_cache", "Cache status reported by the target",
                             [*w, "model", "status"], registry=reg)
        self.in_flight = Gauge("llmsuite_in_flight", "Requests sent and not yet answered", w, registry=reg)
        self.lag = Histogram("llmsuite_schedule_lag_seconds", "Open loop: t_start - scheduled", w,
                             buckets=LAG_BUCKETS, registry=reg)
        self.worker = worker
        self._children: dict[tuple[str, ...], Any] = {}
        self._in_flight = self.in_flight.labels(worker)
        self._lag = self.lag.labels(worker)
        self.scrapes = _ScrapeCount()
        reg.register(self.scrapes)

    def _child(self, family: Any, *labels: str) -> Any:
        key = (family._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = family.labels(self.worker, *labels)
        return child

    def observe(self, rec: RequestRecord) -> None:
        model = rec.model
        kind = "ok" if rec.ok else (rec.error or {}).get("kind", "error")
        self._child(self.requests, model, kind).inc()
        if rec.ttft is not None:
            self._child(self.ttft, model).observe(rec.ttft)
        if rec.e2e is not None:
            self._child(self.e2e, model).observe(rec.e2e)
        if rec.completion_tokens:
            self._child(self.tokens, model, "completion").inc(rec.completion_tokens)
        if rec.prompt_tokens:
            self._child(self.tokens, model, "prompt").inc(rec.prompt_tokens)
        self._child(self.cache, model, rec.cache or "unknown").inc()
        if rec.scheduled is not None:
            self._lag.observe(max(0.0, rec.t_start - rec.scheduled))

    def set_in_flight(self, n: int) -> None:
        self._in_flight.set(n)

    def serve(self, port: int, addr: str = "127.0.0.1", linger_s: float = LINGER_S) -> Any:
        """Start the /metrics HTTP server (a background thread, a greenlet under gevent); at
        process exit, hold it up until the final values have been scraped once (see above)."""
        served = start_http_server(port, addr=addr, registry=self.registry)
        if linger_s > 0:
            atexit.register(self.linger, linger_s)
        return served

    def linger(self, limit_s: float, poll_s: float = 0.05) -> bool:
        """Wait until a scrape begun from now on has been served, or ``limit_s`` has passed;
        True when one was (time.sleep yields to the server's greenlet under gevent)."""
        seen, deadline = self.scrapes.count, time.monotonic() + limit_s
        while self.scrapes.count == seen and time.monotonic() < deadline:
            time.sleep(poll_s)
        if self.scrapes.count == seen:
            return False
        time.sleep(poll_s)  # counted as the body was built: let the response leave before exit
        return True


class _ScrapeCount:
    """A collector that yields nothing and counts how often the registry was collected (once per
    scrape): how ``linger`` knows the final values were read."""

    def __init__(self) -> None:
        self.count = 0

    def describe(self) -> list[Metric]:
        return []  # registering must not count as a scrape

    def collect(self) -> Iterator[Metric]:
        self.count += 1
        return iter(())
