"""Batching, queueing and rate limits — what load does to one model (its profile's ``load``
mapping): a batch of at most ``max_batch`` generations, a FIFO queue beyond it, decode slowdown
with the batch size, and OpenAI-style RPM/TPM limits. Bookkeeping only; answer.py applies it.

    models.llama-3-70b.load: {max_batch: 64, load_factor: 3.0, queue_limit: 512,
                              rpm: 600, tpm: 300000}     (every field optional)

Rules:
* Only generated answers (misses) take a batch slot and count against the limits: a response-cache
  hit is answered by the cache in front of the model, as in a real gateway.
* A request waits in FIFO order for a slot; the wait is part of its TTFT (timing starts at
  admission). With ``queue_limit`` set, a request that finds the queue full is a 429 at once.
* Decode slows with the batch size seen at admission: every ITL is multiplied by
  ``1 + (load_factor - 1) * (batch - 1) / (max_batch - 1)`` — 1 alone, ``load_factor`` when the
  batch is full (llm-d-inference-sim's "load factor N at max-num-seqs").
* RPM/TPM are token buckets refilled continuously (capacity = the per-minute limit). A request
  costs 1 request and ``prompt_tokens + max_tokens`` tokens (OpenAI counts max_tokens up front);
  refused => 429 with ``Retry-After`` (whole seconds), ``retry-after-ms`` and ``x-ratelimit-*``.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoadModel:
    max_batch: int | None = None  # None: every request decodes at once, unslowed
    load_factor: float = 1.0
    queue_limit: int | None = None
    rpm: int | None = None
    tpm: int | None = None


def _count(v: Any, low: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


LOAD_FIELDS: dict[str, tuple[Any, str]] = {
    "max_batch": (lambda v: _count(v, 1), "an integer >= 1"),
    "load_factor": (lambda v: isinstance(v, int | float) and not isinstance(v, bool)
                    and 1 <= v < math.inf, "a number >= 1 (ITL multiplier at a full batch)"),
    "queue_limit": (lambda v: _count(v, 0), "an integer >= 0 (0: no queue, 429 when full)"),
    "rpm": (lambda v: _count(v, 1), "an integer >= 1 (requests per minute)"),
    "tpm": (lambda v: _count(v, 1), "an integer >= 1 (tokens per minute)"),
}


def load_model(raw: Any) -> LoadModel:
    """Validate a profile's ``load`` mapping; ValueError naming the field, value and rule."""
    if not isinstance(raw, dict):
        raise ValueError(f"{raw!r} is not valid (must be a mapping of {', '.join(LOAD_FIELDS)})")
    for name, value in raw.items():
        if name not in LOAD_FIELDS:
            raise ValueError(f"{name}: unknown field; known: {', '.join(LOAD_FIELDS)}")
        check, rule = LOAD_FIELDS[name]
        if not check(value):
            raise ValueError(f"{name}: {value!r} is not valid (must be {rule})")
    if ("load_factor" in raw or "queue_limit" in raw) and "max_batch" not in raw:
        raise ValueError("load_factor and queue_limit need max_batch")
    return LoadModel(**{**raw, "load_factor": float(raw.get("load_factor", 1.0))})


def itl_scale(load: LoadModel, batch: int) -> float:
    """ITL multiplier for a generation admitted into a batch of ``batch`` (itself included)."""
    if load.max_batch is None or load.max_batch <= 1:
        return 1.0
    return 1.0 + (load.load_factor - 1.0) * (batch - 1) / (load.max_batch - 1)


class QueueFull(Exception):
    """The batch is full and so is the queue in front of it."""


class Batch:
    """At most ``max_batch`` holders; FIFO waiters beyond, at most ``queue_limit`` of them."""

    def __init__(self, max_batch: int, queue_limit: int | None) -> None:
        self.max_batch = max_batch
        self.queue_limit = queue_limit
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def queued(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> int:
        """Wait for a slot; return the batch size at admission. Raises QueueFull."""
        if self.active < self.max_batch and not self._waiters:
            self.active += 1
            return self.active
        if self.queue_limit is not None and len(self._waiters) >= self.queue_limit:
            raise QueueFull
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut  # release() hands its slot over: active is unchanged
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # the slot was handed to us as we were cancelled: pass it on
            else:
                self._waiters.remove(fut)
            raise
        return self.active

    def release(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
        self.active -= 1


@dataclass
class Bucket:
    """A token bucket: ``capacity`` per minute, refilled continuously."""

    capacity: float
    level: float
    stamp: float

    @property
    def per_s(self) -> float:
        return self.capacity / 60.0

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.per_s)
        self.stamp = now

    def wait_s(self, n: float) -> float:
        """Seconds until ``n`` fit; inf when they never will (more than the capacity)."""
        if n > self.capacity:
            return math.inf
        return 0.0 if self.level >= n else (n - self.level) / self.per_s

    def reset_s(self) -> float:
        return (self.capacity - self.level) / self.per_s


def duration_text(seconds: float) -> str:
    """OpenAI's reset format: ``"1.5s"``, ``"6m0s"``."""
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s"


class RateLimiter:
    """RPM and TPM buckets of one model; ``check`` consumes only when both allow."""

    def __init__(self, rpm: int | None, tpm: int | None, now: float) -> None:
        self.buckets = {name: Bucket(float(limit), float(limit), now)
                        for name, limit in (("requests", rpm), ("tokens", tpm)) if limit}

    def check(self, now: float, tokens: int) -> tuple[float, dict[str, str]]:
        """(seconds to wait — 0 when admitted and charged, inf when the request is larger than a
        minute's budget — and the headers to send either way)."""
        cost = {"requests": 1.0, "tokens": float(tokens)}
        for bucket in self.buckets.values():
            bucket.refill(now)
        wait = max(b.wait_s(cost[name]) for name, b in self.buckets.items())
        if wait == 0:
            for name, bucket in self.buckets.items():
                bucket.level -= cost[name]
        return wait, self.headers()

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, b in self.buckets.items():
            out[f"x-ratelimit-limit-{name}"] = str(int(b.capacity))
            out[f"x-ratelimit-remaining-{name}"] = str(max(0, math.floor(b.level)))
            out[f"x-ratelimit-reset-{name}"] = duration_text(b.reset_s())
        return out


def retry_headers(wait_s: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(wait_s))), "retry-after-ms": str(math.ceil(wait_s * 1000))}
