"""Response caches: the in-process LRU (capacity, TTL), entries and the cache URL — pure, no
sockets (Redis itself is exercised in the integration tests)."""

from __future__ import annotations

import asyncio

import pytest

from mock_server.cache import Completion, MemoryCache, NullCache, RedisCache, decode_entry, encode_entry
from mock_server.config import DEFAULT_PROFILES_PATH, load_profiles
from mock_server.serve import build_cache
from suite.errors import CacheBackendError, SpecError

PROFILES = load_profiles(DEFAULT_PROFILES_PATH)


C1 = Completion((1, 2), ("Hi", " there"), "stop", 9)


def test_memory_cache_evicts_the_least_recently_used() -> None:
    async def scenario() -> list[str]:
        cache = MemoryCache(capacity=2)
        await cache.put("a", C1)
        await cache.put("b", C1)
        assert await cache.get("a") == C1  # a is now the most recently used
        await cache.put("c", C1)
        assert await cache.get("b") is None
        return cache.keys()

    assert asyncio.run(scenario()) == ["a", "c"]


def test_memory_cache_clear_and_size() -> None:
    async def scenario() -> tuple[int, int | None]:
        cache = MemoryCache(capacity=5)
        for key in "xyz":
            await cache.put(key, C1)
        return await cache.clear(), cache.size()

    assert asyncio.run(scenario()) == (3, 0)


def test_memory_cache_rejects_a_zero_capacity() -> None:
    with pytest.raises(CacheBackendError, match=r"memory cache capacity 0 is not valid \(must be "
                                                r">= 1\)\."):
        MemoryCache(0)


def test_entries_round_trip_and_corrupt_ones_are_backend_errors() -> None:
    assert decode_entry(encode_entry(C1)) == C1
    with pytest.raises(CacheBackendError, match="unreadable cache entry"):
        decode_entry(b'{"v": 99}')
    with pytest.raises(CacheBackendError, match="unreadable cache entry"):
        decode_entry(b"\x00garbage")


def test_build_cache_reads_the_url() -> None:
    assert isinstance(build_cache("memory"), MemoryCache)
    assert isinstance(build_cache("none"), NullCache)
    redis_cache = build_cache("redis://127.0.0.1:1/0", ttl_s=5)
    assert isinstance(redis_cache, RedisCache)
    assert redis_cache.ttl_ms == 5000
    asyncio.run(redis_cache.close())
    with pytest.raises(SpecError) as err:
        build_cache("memcached://x")
    assert str(err.value) == ("--cache: 'memcached://x' is not a cache; use memory, none, or a "
                              "Redis URL such as redis://127.0.0.1:6379/0.")


def test_memory_cache_entries_expire_after_the_ttl() -> None:
    now = [100.0]

    async def scenario() -> list[Completion | None]:
        cache = MemoryCache(capacity=5, ttl_s=2.0, clock=lambda: now[0])
        await cache.put("k", C1)
        seen = [await cache.get("k")]
        now[0] = 101.9
        seen.append(await cache.get("k"))
        now[0] = 102.0
        seen.append(await cache.get("k"))
        return seen

    assert asyncio.run(scenario()) == [C1, C1, None]
