"""Live driver metrics for Prometheus (``--prometheus-port``): requests, TTFT/E2E, tokens, cache,
in flight, open-loop schedule lag.

For watching a run, not for reports: histograms bucket the values, too coarsely for TTFT/ITL;
every figure in a report comes from the per-request records. Metrics live in a private registry
(nothing global), served on 127.0.0.1 unless told otherwise. Label children are cached per model
so a request costs a few dict lookups.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from suite.records import RequestRecord

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


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

    def serve(self, port: int, addr: str = "127.0.0.1") -> Any:
        """Start the /metrics HTTP server (a background thread, a greenlet under gevent)."""
        return start_http_server(port, addr=addr, registry=self.registry)
