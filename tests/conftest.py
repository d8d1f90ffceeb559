"""Shared fixtures. Integration fixtures start real servers on ports the OS chooses and stop them
by PID; unit tests never touch them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from suite.services import RedisServer, find_redis_server, start_redis


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private, real redis-server on a free loopback port (never the machine's shared one)."""
    if find_redis_server() is None:
        pytest.fail("redis-server is required for integration tests: apt-get install -y redis-server")
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The private Redis, flushed before each test so tests do not see each other's keys."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url
