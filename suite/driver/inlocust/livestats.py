"""LLM figures per model for the live web UI (``--web``): TTFT p50/p95, output tokens/s, hit ratio,
requests in flight.

They live apart from Locust's request statistics on purpose: fed into Locust's stats as fake
request entries, they inflated its RPS, its Aggregated row and its failure counts, and put tokens/s
under "(ms)" columns. Here they are kept per model and shown in their own tab (webtab.py), while
Locust's Statistics and Charts stay exactly Locust's.

For watching a run, not for reports (those come from the request log): every request is counted,
warm-up included. Percentiles use every TTFT observed (numpy's linear interpolation, as the
analyzer), never averages. A figure that cannot be computed yet is ``None`` with its reason in
``why``. Free of Locust and gevent so the arithmetic is unit-tested; a distributed run's workers
``drain`` what they saw since their last report and the master ``merge``s it (Locust's
report_to_master / worker_report events carry it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suite.driver.control.progress import percentile  # one linear percentile for both live views
from suite.records import RequestRecord

LOCAL = "local"  # the source name of requests this process sent itself


@dataclass
class ModelLive:
    """What one model's finished requests said so far (one process's, or merged)."""

    requests: int = 0
    ok: int = 0
    ttfts: list[float] = field(default_factory=list)
    completion_tokens: int = 0  # of successful requests
    hits: int = 0
    misses: int = 0
    first_send: float | None = None
    last_end: float | None = None

    def add(self, rec: RequestRecord) -> None:
        self.requests += 1
        end = rec.t_start + (rec.e2e or 0.0)
        self.first_send = rec.t_start if self.first_send is None else min(self.first_send, rec.t_start)
        self.last_end = end if self.last_end is None else max(self.last_end, end)
        if not rec.ok:
            return  # failures are counted apart: never a miss, never a TTFT
        self.ok += 1
        if rec.ttft is not None:
            self.ttfts.append(rec.ttft)
        self.completion_tokens += rec.completion_tokens or 0
        if rec.cache == "hit":
            self.hits += 1
        elif rec.cache == "miss":
            self.misses += 1

    def absorb(self, other: ModelLive) -> None:
        self.requests += other.requests
        self.ok += other.ok
        self.ttfts.extend(other.ttfts)
        self.completion_tokens += other.completion_tokens
        self.hits += other.hits
        self.misses += other.misses
        for attr, pick in (("first_send", min), ("last_end", max)):
            mine, theirs = getattr(self, attr), getattr(other, attr)
            setattr(self, attr, theirs if mine is None else mine if theirs is None else pick(mine, theirs))

    def to_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "ok": self.ok, "ttfts": self.ttfts,
                "completion_tokens": self.completion_tokens, "hits": self.hits, "misses": self.misses,
                "first_send": self.first_send, "last_end": self.last_end}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelLive:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def model_row(model: str, live: ModelLive, in_flight: int) -> dict[str, Any]:
    """One model's figures; each one that cannot be computed is None, its reason in ``why``."""
    why: dict[str, str] = {}
    p50 = p95 = tok_s = hit_ratio = None
    if live.ttfts:
        ordered = sorted(live.ttfts)
        p50, p95 = percentile(ordered, 0.5) * 1000, percentile(ordered, 0.95) * 1000
    else:
        why["ttft"] = ("no successful request yet" if not live.ok
                       else "no first token measured (requests not streamed)")
    window = (live.last_end or 0.0) - (live.first_send or 0.0)
    if live.ok and window > 0:
        tok_s = live.completion_tokens / window
    else:
        why["out_tok_s"] = "no successful request has finished yet"
    if live.hits + live.misses:
        hit_ratio = live.hits / (live.hits + live.misses)
    else:
        why["hit_ratio"] = ("no successful request yet" if not live.ok
                            else "the target sent no cache signal (hit/miss)")
    return {"model": model, "requests": live.requests, "ok": live.ok, "failed": live.requests - live.ok,
            "in_flight": in_flight, "ttft_p50_ms": p50, "ttft_p95_ms": p95, "out_tok_s": tok_s,
            "hit_ratio": hit_ratio, "why": why}


class LiveStats:
    """Per-model live figures of this process (``started``/``observe``) and, on a distributed run's
    master, of its workers (``merge``). ``drain`` hands a worker's news to its next report."""

    def __init__(self) -> None:
        self.models: dict[str, ModelLive] = {}
        self._pending: dict[str, ModelLive] = {}  # since the last drain (a worker's next report)
        self._in_flight: dict[str, dict[str, int]] = {}  # source -> model -> requests in flight

    def started(self, model: str) -> None:
        """Right before a request is sent; ``observe`` of its record ends it."""
        local = self._in_flight.setdefault(LOCAL, {})
        local[model] = local.get(model, 0) + 1

    def observe(self, rec: RequestRecord) -> None:
        local = self._in_flight.setdefault(LOCAL, {})
        local[rec.model] = max(0, local.get(rec.model, 0) - 1)
        self.models.setdefault(rec.model, ModelLive()).add(rec)
        self._pending.setdefault(rec.model, ModelLive()).add(rec)

    def drain(self) -> dict[str, Any]:
        """What this process saw since the last drain, and what it has in flight now (JSON-able)."""
        news = {model: live.to_json() for model, live in self._pending.items()}
        self._pending = {}
        return {"models": news, "in_flight": dict(self._in_flight.get(LOCAL, {}))}

    def merge(self, report: dict[str, Any], source: str) -> None:
        """A worker's ``drain``: its finished requests add up, its in-flight counts replace its last."""
        for model, data in (report.get("models") or {}).items():
            self.models.setdefault(model, ModelLive()).absorb(ModelLive.from_json(data))
        self._in_flight[source] = {m: int(n) for m, n in (report.get("in_flight") or {}).items()}

    def reset(self, **_: Any) -> None:
        """The web UI's Reset button (Locust's reset_stats): finished requests are forgotten, as
        Locust forgets its own; requests in flight are still in flight."""
        self.models = {}
        self._pending = {}

    def rows(self) -> list[dict[str, Any]]:
        flying: dict[str, int] = {}
        for counts in self._in_flight.values():
            for model, n in counts.items():
                flying[model] = flying.get(model, 0) + n
        names = sorted(set(self.models) | {m for m, n in flying.items() if n})
        return [model_row(m, self.models.get(m, ModelLive()), flying.get(m, 0)) for m in names]
