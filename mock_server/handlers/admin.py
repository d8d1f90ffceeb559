"""The small info and admin routes: ``GET /health`` (liveness; never behind auth), ``GET
/v1/models``, ``GET /metrics`` (Prometheus text), ``GET /admin/cache/stats`` and ``POST
/admin/cache/flush`` (alias ``/admin/cache/clear``). The route table (app.py) stamps their
``X-Request-Id``.
"""

from __future__ import annotations

import contextlib

import orjson
from aiohttp import web

from mock_server.cache import RedisCache
from mock_server.metrics import CONTENT_TYPE
from mock_server.openai_errors import ApiError
from mock_server.state import STATE, AppState
from mock_server.write import error_response, json_response
from suite.errors import CacheBackendError

MOCK_SERVER_ID = "llmsuite-mock"  # /health says it, so a run can tell the bundled mock from a real target


def health_body(st: AppState) -> bytes:
    """The /health JSON; one builder for the route and for the protocol's direct answer
    (protocol.py answers a plain ``GET /health`` without routing it, so probes never queue behind
    generation work)."""
    return orjson.dumps({"status": "ok", "server": MOCK_SERVER_ID, "models": list(st.config.profiles),
                         "cache": st.cache.name, "seed": st.config.seed})


async def health(request: web.Request) -> web.Response:
    return web.Response(body=health_body(request.app[STATE]), content_type="application/json")


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
    """size (entries: counted by SCAN on Redis; null when Redis is down), hits, misses, errors."""
    st = request.app[STATE]
    counts = st.metrics.counts
    size = st.cache.size()
    if size is None and isinstance(st.cache, RedisCache):
        with contextlib.suppress(CacheBackendError):
            size = await st.cache.count()
    return json_response({"backend": st.cache.name, "size": size, "entries": size,
                          "hits": counts.hits, "misses": counts.misses, "errors": counts.errors})


async def cache_clear(request: web.Request) -> web.Response:
    """Empty the response cache (cold-start runs); a failing backend is a 503, not a 500.
    ``POST /admin/cache/flush`` and ``/admin/cache/clear`` are two names of this one route."""
    st = request.app[STATE]
    try:
        cleared = await st.cache.clear()
        if st.planner.beyond is not None:
            await st.planner.beyond.clear()
    except CacheBackendError as exc:
        return error_response(ApiError(503, f"cannot clear the cache: {exc}.",
                                       code="cache_unavailable", type_="server_error"))
    return json_response({"cleared": cleared, "flushed": cleared})
