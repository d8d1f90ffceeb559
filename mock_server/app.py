"""``create_app``: the aiohttp application and its small info/admin routes.

Dependencies come in as arguments (``create_app(config, cache, clock=..., sleep=...)``) so tests
choose the clock and the cache; nothing here reads globals or the environment.

Every response carries ``X-Request-Id`` (echoed when the client sent one, else generated); chat
answers carry ``X-Cache: HIT|MISS`` (absent when the cache is off) and ``X-Cache-Key``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from mock_server.cache import ResponseCache
from mock_server.chat import chat_completions, error_response
from mock_server.config import MockConfig
from mock_server.engine import Engine
from mock_server.metrics import CONTENT_TYPE, Metrics
from mock_server.openai_errors import ApiError, from_http_status
from mock_server.responses import new_request_id
from mock_server.state import STATE, AppState, Clock, Sleep
from suite.errors import CacheBackendError

ROUTES = ("POST /v1/chat/completions, GET /v1/models, GET /health, GET /metrics, "
          "GET /admin/cache/stats, POST /admin/cache/clear")
MAX_REQUEST_ID = 200
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(obj: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(obj), content_type="application/json")


@web.middleware
async def openai_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own HTTP errors and any bug become OpenAI-shaped JSON — never a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        msg = f"{exc.reason}: {request.method} {request.path}; this server has {ROUTES}."
        return error_response(from_http_status(exc.status, msg))
    except Exception:
        request.app[STATE].log.exception("unexpected error answering %s %s", request.method,
                                         request.path)
        return error_response(ApiError(500, "internal error in the mock server; see its log.",
                                       code="internal_error", type_="server_error"))


async def stamp_request_id(request: web.Request, response: web.StreamResponse) -> None:
    given = request.headers.get("X-Request-Id", "")[:MAX_REQUEST_ID]
    response.headers["X-Request-Id"] = given or new_request_id()


async def health(request: web.Request) -> web.Response:
    st = request.app[STATE]
    return json_response({"status": "ok", "models": list(st.config.profiles),
                          "cache": st.cache.name, "seed": st.config.seed})


async def list_models(request: web.Request) -> web.Response:
    st = request.app[STATE]
    data = [{"id": name, "object": "model", "created": st.started, "owned_by": "llmsuite-mock"}
            for name in st.config.profiles]
    return json_response({"object": "list", "data": data})


async def prometheus_text(request: web.Request) -> web.Response:
    resp = web.Response(body=request.app[STATE].metrics.render())
    resp.headers["Content-Type"] = CONTENT_TYPE
    return resp


async def cache_stats(request: web.Request) -> web.Response:
    st = request.app[STATE]
    counts = st.metrics.counts
    return json_response({"backend": st.cache.name, "hits": counts.hits, "misses": counts.misses,
                          "errors": counts.errors, "entries": st.cache.size()})


async def cache_clear(request: web.Request) -> web.Response:
    """Empty the response cache (cold-start runs); a failing backend is a 503, not a 500."""
    st = request.app[STATE]
    try:
        cleared = await st.cache.clear()
    except CacheBackendError as exc:
        return error_response(ApiError(503, f"cannot clear the cache: {exc}.",
                                       code="cache_unavailable", type_="server_error"))
    return json_response({"cleared": cleared})


async def close_cache(app: web.Application) -> None:
    await app[STATE].cache.close()


def create_app(config: MockConfig, cache: ResponseCache, *, clock: Clock = time.perf_counter,
               sleep: Sleep = asyncio.sleep, metrics: Metrics | None = None,
               log: logging.Logger | None = None) -> web.Application:
    """The mock server as an aiohttp Application; the caller owns running it (serve.py, tests)."""
    log = log or logging.getLogger("mock_server")
    registry = metrics or Metrics()
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[openai_errors])
    app[STATE] = AppState(config=config, cache=cache, engine=Engine(config, cache, registry, log),
                          metrics=registry, clock=clock, sleep=sleep, log=log,
                          started=int(time.time()))
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus_text)
    app.router.add_get("/admin/cache/stats", cache_stats)
    app.router.add_post("/admin/cache/clear", cache_clear)
    app.on_response_prepare.append(stamp_request_id)
    app.on_cleanup.append(close_cache)
    return app
