"""Exact-match response caches: the planned ``Completion`` stored under the request's cache key.

Backends share one small async interface (``get``/``put``/``clear``/``ping``/``close``).
``RedisCache`` raises ``CacheBackendError`` on any backend failure; the caller (the app) decides
to fail open. A short circuit breaker keeps an unreachable Redis from adding a connect timeout
to every request: after a failure, calls fail fast for ``retry_after_s``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple, Protocol

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from suite.errors import CacheBackendError

KEY_PREFIX = "llmsuite:mock:"
ENTRY_VERSION = 1


class Completion(NamedTuple):
    """What a cache stores: everything needed to answer again byte-identically (a NamedTuple:
    one is built per MISS, and a frozen dataclass costs twice as much to create). Planned by
    answer.py; defined here, with its stored form, so the cache depends on no planner."""

    tokens: tuple[int, ...]
    chunks: tuple[str, ...]
    finish_reason: str  # "stop" (natural end or stop sequence) | "length" (clipped to max_tokens)
    prompt_tokens: int
    cached_tokens: int = 0  # the miss's prompt-prefix cache hit (prefixcache.py); never encoded,
    # and a response-cache hit reports its whole prompt as cached instead

    @property
    def text(self) -> str:
        return "".join(self.chunks)


class ResponseCache(Protocol):
    name: str

    async def get(self, key: str) -> Completion | None: ...
    async def put(self, key: str, completion: Completion) -> None: ...
    async def clear(self) -> int: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...
    def size(self) -> int | None: ...


def encode_entry(completion: Completion) -> bytes:
    return orjson.dumps({"v": ENTRY_VERSION, "tokens": completion.tokens,
                         "chunks": completion.chunks, "finish_reason": completion.finish_reason,
                         "prompt_tokens": completion.prompt_tokens})


def decode_entry(raw: bytes) -> Completion:
    """Inverse of encode_entry; a foreign or corrupt value is a CacheBackendError, not a crash."""
    try:
        obj = orjson.loads(raw)
        if obj["v"] != ENTRY_VERSION:
            raise ValueError(f"entry version {obj['v']}")
        return Completion(tuple(obj["tokens"]), tuple(obj["chunks"]), obj["finish_reason"],
                          int(obj["prompt_tokens"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CacheBackendError(f"unreadable cache entry ({exc})") from None


class NullCache:
    """No caching at all (``--cache none``): every request is generated; no X-Cache header."""

    name = "none"

    async def get(self, key: str) -> Completion | None:
        return None

    async def put(self, key: str, completion: Completion) -> None:
        return None

    async def clear(self) -> int:
        return 0

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def size(self) -> int | None:
        return 0


class MemoryCache:
    """In-process LRU with a fixed entry capacity; entries also expire ``ttl_s`` after they were
    written (None: never), like Redis's PX — checked on read, so nothing runs in the background."""

    name = "memory"

    def __init__(self, capacity: int = 10_000, ttl_s: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1:
            raise CacheBackendError(f"memory cache capacity {capacity} is not valid (must be >= 1).")
        self.capacity = capacity
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Completion]] = OrderedDict()

    def get_now(self, key: str) -> Completion | None:
        """``get`` without a coroutine: the answer planner calls this directly (capacity path)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put_now(self, key: str, completion: Completion) -> None:
        expires = math.inf if self.ttl_s is None else self._clock() + self.ttl_s
        self._entries[key] = (expires, completion)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    async def get(self, key: str) -> Completion | None:
        return self.get_now(key)

    async def put(self, key: str, completion: Completion) -> None:
        self.put_now(key, completion)

    async def clear(self) -> int:
        n = len(self._entries)
        self._entries.clear()
        return n

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def size(self) -> int | None:
        return len(self._entries)  # expired entries not yet read still count until evicted

    def keys(self) -> list[str]:
        """Keys from least to most recently used (for tests and the stats endpoint)."""
        return list(self._entries)


class RedisCache:
    """Redis via redis.asyncio; entries expire after ``ttl_s`` (set on write, not refreshed)."""

    name = "redis"

    def __init__(self, url: str, ttl_s: float = 3600.0, *, timeout_s: float = 0.5,
                 retry_after_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._down_until = 0.0
        self._client = aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0), health_check_interval=0)

    @property
    def client(self) -> aioredis.Redis:
        """The connection pool, shared with the semantic cache's entry log (semstore.py)."""
        return self._client

    def _check_breaker(self) -> None:
        if self._clock() < self._down_until:
            raise CacheBackendError(f"redis {self.url} failed less than {self.retry_after_s:g}s "
                                    "ago; not retrying yet")

    def _trip(self, exc: BaseException) -> CacheBackendError:
        self._down_until = self._clock() + self.retry_after_s
        return CacheBackendError(f"redis {self.url}: {exc.__class__.__name__}: {exc}")

    async def get(self, key: str) -> Completion | None:
        self._check_breaker()
        try:
            raw = await self._client.get(KEY_PREFIX + key)
        except (RedisError, OSError) as exc:
            raise self._trip(exc) from None
        return None if raw is None else decode_entry(raw)

    async def put(self, key: str, completion: Completion) -> None:
        self._check_breaker()
        try:
            await self._client.set(KEY_PREFIX + key, encode_entry(completion), px=self.ttl_ms)
        except (RedisError, OSError) as exc:
            raise self._trip(exc) from None

    async def clear(self) -> int:
        """Delete this cache's keys only (by prefix), never the whole database."""
        try:
            keys = [k async for k in self._client.scan_iter(match=KEY_PREFIX + "*", count=1000)]
            return int(await self._client.delete(*keys)) if keys else 0
        except (RedisError, OSError) as exc:
            raise self._trip(exc) from None

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            raise self._trip(exc) from None

    async def close(self) -> None:
        await self._client.aclose()

    def size(self) -> int | None:
        return None  # would need a SCAN: see count()

    async def count(self) -> int:
        """This cache's keys (SCAN by prefix): for /admin/cache/stats, never the hot path."""
        try:
            return sum([1 async for _ in self._client.scan_iter(match=KEY_PREFIX + "*", count=1000)])
        except (RedisError, OSError) as exc:
            raise self._trip(exc) from None
