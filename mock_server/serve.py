"""Run the mock server: ``build_cache(url)`` and ``serve(config, host, port, cache_url)``.

``workers > 1`` pre-forks: the parent binds one listening socket, forks N worker processes that
each run the whole app on it (the kernel spreads connections among them), prints the readiness
line once every worker is serving, forwards SIGTERM/SIGINT and waits for them. Each worker has
its own state: with ``--cache memory`` every worker has its own cache (a repeat that lands on
another worker is a MISS, so the hit ratio drops — use ``--cache redis://…`` to share one), and
metrics, cache stats, batches, rate limits and fault draws are per worker (``/metrics`` shows the
worker that answered the scrape). Generated content stays identical: it depends on the seed only.

The CLI (``llmsuite mock``) and ``python -m mock_server`` both end here. Readiness is one line on
stdout, ``mock_server listening on http://HOST:PORT`` (flushed), printed only once the socket is
bound, so a parent that started us with ``--port 0`` reads the real port from it. SIGTERM/SIGINT
stop the server gracefully (in-flight answers get ``SHUTDOWN_TIMEOUT_S``) and ``serve`` returns;
a ``timing_log`` (``--timing-log PATH``) is flushed then. Workers append to the same file, a batch
of whole lines per write (timing_log.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from aiohttp import web

from mock_server.answer import warm_tokenizers
from mock_server.app import create_app
from mock_server.cache import MemoryCache, NullCache, RedisCache, ResponseCache
from mock_server.config import MockConfig
from mock_server.embedclient import check_embeddings_url
from mock_server.handlers.admin import health_body
from mock_server.protocol import GuardedRunner
from mock_server.state import STATE
from mock_server.timing_log import TimingLog
from suite.errors import SpecError, TargetError
from suite.runtime import settle_heap

READY_PREFIX = "mock_server listening on "
SHUTDOWN_TIMEOUT_S = 1.0
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def build_cache(url: str, *, ttl_s: float = 3600.0, capacity: int = 10_000) -> ResponseCache:
    """``memory`` (in-process LRU), ``none`` (no cache) or a Redis URL. Create it inside the
    event loop that will use it (redis.asyncio connections belong to one loop)."""
    if url == "memory":
        return MemoryCache(capacity, ttl_s)
    if url in ("none", "off"):
        return NullCache()
    if url.startswith(REDIS_SCHEMES):
        return RedisCache(url, ttl_s)
    raise SpecError(f"--cache: {url!r} is not a cache; use memory, none, or a Redis URL such as "
                    "redis://127.0.0.1:6379/0.")


def print_ready(url: str) -> None:
    print(READY_PREFIX + url, flush=True)


def bound_url(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


async def start_site(runner: web.AppRunner, host: str, port: int) -> None:
    try:
        await web.TCPSite(runner, host, port, backlog=2048).start()
    except OSError as exc:
        raise TargetError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another "
                          "--port (0 lets the OS pick a free one).") from None


async def serve_async(config: MockConfig, host: str, port: int, cache_url: str,
                      stop: asyncio.Event, *, cache_ttl_s: float = 3600.0,
                      cache_capacity: int = 10_000, access_log: bool = False,
                      on_ready: Callable[[str], None] = print_ready,
                      sock: socket.socket | None = None, timing_log: str | None = None) -> None:
    """Serve until ``stop`` is set; for callers that own the event loop (tests, the bench).
    With ``sock`` (a pre-forked worker) serve on that listening socket instead of host:port."""
    cache = build_cache(cache_url, ttl_s=cache_ttl_s, capacity=cache_capacity)
    warm_tokenizers(config.profiles.values())
    app = create_app(config, cache, timing_log=None if timing_log is None else TimingLog(timing_log))
    await app[STATE].planner.probe(cache_url)
    runner = GuardedRunner(app, read_timeout_s=config.read_timeout_s,
                           health_body=None if access_log else partial(health_body, app[STATE]),
                           access_log=logging.getLogger("aiohttp.access") if access_log else None,
                           shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        if sock is None:
            await start_site(runner, host, port)
        else:
            await web.SockSite(runner, sock).start()
        on_ready(bound_url(runner))
        await stop.wait()
    finally:
        await runner.cleanup()


async def _until_signal(config: MockConfig, host: str, port: int, cache_url: str,
                        **options: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await serve_async(config, host, port, cache_url, stop, **options)


def run(coro: Coroutine[Any, Any, None]) -> None:
    """asyncio.run on uvloop (a dependency except on Windows, where it does not exist): a C
    event loop takes less CPU per request; bench_mock_server.py runs its bare reference on it
    too, so the capacity ratio compares like with like."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
        return
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(coro)
    else:  # pragma: no cover - 3.10 with uvloop
        uvloop.install()
        asyncio.run(coro)


def serve(config: MockConfig, host: str = "127.0.0.1", port: int = 0, cache_url: str = "memory",
          *, cache_ttl_s: float = 3600.0, cache_capacity: int = 10_000, access_log: bool = False,
          on_ready: Callable[[str], None] = print_ready, workers: int = 1,
          timing_log: str | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then return normally. Raises SuiteError on bad setup."""
    build_cache(cache_url, ttl_s=cache_ttl_s, capacity=cache_capacity)  # bad URL: fail here
    if config.semantic is not None and config.semantic.embeddings_url is not None:
        check_embeddings_url(config.semantic.embeddings_url, config.semantic.embeddings_model)
    if timing_log is not None:
        TimingLog(timing_log).close()  # an unwritable path fails here, before any worker starts
    options: dict[str, Any] = {"cache_ttl_s": cache_ttl_s, "cache_capacity": cache_capacity,
                               "access_log": access_log, "timing_log": timing_log}
    warm_tokenizers(config.profiles.values())
    settle_heap()
    if workers > 1:
        serve_workers(config, host, port, cache_url, workers, on_ready, options)
        return
    run(_until_signal(config, host, port, cache_url, on_ready=on_ready, **options))


def listen(host: str, port: int) -> socket.socket:
    try:
        return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host
                                    else socket.AF_INET, backlog=2048)
    except OSError as exc:
        raise TargetError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another "
                          "--port (0 lets the OS pick a free one).") from None


def _worker(config: MockConfig, sock: socket.socket, cache_url: str, ready_fd: int,
            options: dict[str, Any]) -> int:
    """Child process body: serve on the shared socket until signalled; exit code."""
    def ready(_: str) -> None:
        os.write(ready_fd, b"r")

    try:
        run(_until_signal(config, "", 0, cache_url, sock=sock, on_ready=ready, **options))
    except Exception:
        logging.getLogger("mock_server").exception("worker %d failed", os.getpid())
        return 1
    return 0


def _wait_ready(fd: int, workers: int, pids: list[int], timeout_s: float = 30.0) -> None:
    got = 0
    while got < workers:
        readable, _, _ = select.select([fd], [], [], timeout_s)
        data = os.read(fd, 64) if readable else b""
        if not data:
            _stop_children(pids)
            raise TargetError(f"only {got} of {workers} mock server workers started; see the log.")
        got += len(data)


def _stop_children(pids: list[int], sig: int = signal.SIGTERM) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def serve_workers(config: MockConfig, host: str, port: int, cache_url: str, workers: int,
                  on_ready: Callable[[str], None], options: dict[str, Any]) -> None:
    """Pre-fork ``workers`` processes on one socket (see the module docstring)."""
    sock = listen(host, port)
    read_fd, write_fd = os.pipe()
    pids: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            os.close(read_fd)
            os._exit(_worker(config, sock, cache_url, write_fd, options))
        pids.append(pid)
    os.close(write_fd)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: _stop_children(pids, signum))
    _wait_ready(read_fd, workers, pids)
    bound_host, bound_port = sock.getsockname()[:2]
    on_ready(f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}")
    for pid in pids:
        os.waitpid(pid, 0)
