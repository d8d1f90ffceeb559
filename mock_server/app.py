"""``create_app``: the aiohttp application — the one route table, auth, and the catch-all.

Dependencies come in as arguments (``create_app(config, cache, clock=..., sleep=...)``) so tests
choose the clock and the cache; nothing here reads globals or the environment.

Every response carries ``X-Request-Id`` (echoed when the client sent one, else generated; the
generating routes stamp it as they build their answer, the small routes through ``stamped``); chat
answers carry ``X-Cache: HIT|MISS`` (absent when the cache is off) and ``X-Cache-Key``.

Auth: with ``config.api_key`` set, every route but ``GET /health`` (liveness probes) requires
``Authorization: Bearer <key>``; otherwise a 401 in OpenAI's shape. The key is compared in constant
time and never echoed nor logged. Without a key there is no auth middleware at all (no cost).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import sys
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from mock_server.answer import AnswerPlanner
from mock_server.cache import ResponseCache
from mock_server.config import MockConfig
from mock_server.handlers.admin import cache_clear, cache_stats, health, list_models, prometheus_text
from mock_server.handlers.chat import chat_completions, lane_models
from mock_server.handlers.completions import completions
from mock_server.handlers.embeddings import embeddings
from mock_server.handlers.engine_chat import engine_chat
from mock_server.metrics import Metrics
from mock_server.openai_errors import ApiError, from_http_status
from mock_server.sessions import Sessions
from mock_server.state import STATE, AppState, Clock, Sleep
from mock_server.timing_log import TimingLog
from mock_server.write import REQUEST_ID, error_response, request_id

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def stamped(handler: Handler) -> Handler:
    """``handler`` with ``X-Request-Id`` on its answer (the generating routes stamp their own)."""

    async def stamp(request: web.Request) -> web.StreamResponse:
        resp = await handler(request)
        if not resp.prepared:
            resp.headers[REQUEST_ID] = request_id(request.headers.get(REQUEST_ID))
        return resp

    return stamp


async def no_such_route(request: web.Request) -> web.Response:
    """Catch-all (registered last): unknown paths are a 404 and known paths with the wrong
    method a 405, both as OpenAI-shaped JSON. A route, not a middleware: a middleware would cost
    every request, this costs only the misses."""
    allowed = ROUTES.get(request.path)
    status, reason = (405, "Method Not Allowed") if allowed else (404, "Not Found")
    routes = ", ".join(f"{m} {p}" for p, m in ROUTES.items())
    msg = f"{reason}: {request.method} {request.path}; this server has {routes}."
    resp = error_response(from_http_status(status, msg))
    if allowed:
        resp.headers["Allow"] = allowed
    return resp


def unauthorized(request: web.Request, message: str, code: str) -> web.Response:
    resp = error_response(ApiError(401, message, code=code), request)
    resp.headers["WWW-Authenticate"] = 'Bearer realm="llmsuite-mock"'
    return resp


def auth_middleware(api_key: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    expected = f"Bearer {api_key}".encode()

    @web.middleware
    async def check_key(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/health":
            return await handler(request)
        given = request.headers.get("Authorization")
        if given is None:
            return unauthorized(request, "You didn't provide an API key. Provide it in an "
                                "Authorization header using Bearer auth (Authorization: Bearer "
                                "YOUR_KEY).", "missing_api_key")
        if not hmac.compare_digest(given.encode(), expected):
            return unauthorized(request, "Incorrect API key provided (this mock server was "
                                "started with --api-key).", "invalid_api_key")
        return await handler(request)

    return check_key


async def close_cache(app: web.Application) -> None:
    st = app[STATE]
    await st.cache.close()
    if st.planner.beyond is not None:
        await st.planner.beyond.close()


ROUTE_TABLE: tuple[tuple[str, str, Handler], ...] = (
    ("/v1/chat/completions", "POST", chat_completions),
    ("/v1/completions", "POST", completions),
    ("/v1/embeddings", "POST", stamped(embeddings)),
    ("/api/chat", "POST", engine_chat),
    ("/v1/models", "GET", stamped(list_models)),
    ("/health", "GET", stamped(health)),
    ("/metrics", "GET", stamped(prometheus_text)),
    ("/admin/cache/stats", "GET", stamped(cache_stats)),
    ("/admin/cache/flush", "POST", stamped(cache_clear)),
    ("/admin/cache/clear", "POST", stamped(cache_clear)),
)
ROUTES = {path: method for path, method, _ in ROUTE_TABLE}


def create_app(config: MockConfig, cache: ResponseCache, *, clock: Clock = time.perf_counter,
               sleep: Sleep = asyncio.sleep, metrics: Metrics | None = None,
               log: logging.Logger | None = None,
               timing_log: TimingLog | None = None, fast_lane: bool = True) -> web.Application:
    """The mock server as an aiohttp Application; the caller owns running it (serve.py, tests).
    A ``timing_log`` is flushed every second while serving and closed on cleanup. ``fast_lane``
    False sends every request through the general flow (tests compare the two)."""
    log = log or logging.getLogger("mock_server")
    registry = metrics or Metrics()
    middlewares = [auth_middleware(config.api_key)] if config.api_key else []
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=middlewares)
    planner = AnswerPlanner(config, cache, registry, log, clock)
    registry.batches = planner.batches
    app[STATE] = AppState(config=config, cache=cache, planner=planner, metrics=registry,
                          clock=clock, sleep=sleep, log=log, started=int(time.time()),
                          sessions=Sessions(), timing_log=timing_log,
                          max_in_flight=config.max_in_flight or sys.maxsize,
                          model_limits={name: p.max_in_flight for name, p in config.profiles.items()
                                        if p.max_in_flight is not None})
    if fast_lane and planner.beyond is None:  # semantic/coalesce: every request is looked up
        app[STATE].lane = lane_models(config, cache, timing_log)
    for path, method, handler in ROUTE_TABLE:
        app.router.add_route(method, path, handler)
    app.router.add_route("*", "/{tail:.*}", stamped(no_such_route))
    app.on_cleanup.append(close_cache)
    if timing_log is not None:
        app.cleanup_ctx.append(timing_log.flusher)
    return app
