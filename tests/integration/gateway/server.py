"""An independent gateway-like server: the witness the suite's gateway support is tested against.

Why a second server: the bundled mock and the suite share contracts, so a bug in both would pass
every test run against the mock. This server imports neither ``suite`` nor ``mock_server``; it
behaves like the OpenAI-compatible gateways of issue 14 (a response cache in front of a backend
of known latency) and counts what it saw, so a test can check the suite's figures against it
(``serve.GatewayThread`` serves it).

What it does, on purpose:
- an exact-match cache keyed on (model, messages, max_tokens, temperature) with a TTL, stored
  before the last byte is written (a client that saw an answer end can only get a hit after it);
- it NEVER coalesces identical in-flight requests: each miss calls the backend (a repeat sent
  while its first copy is in flight misses, as on every gateway the issue measured);
- ``mode`` picks how hits are signalled, one per preset (``SIGNALS``);
- a key is required on every path: ``/health`` answers 500 without it (as the issue's gateway
  did), ``/metrics`` and the API 401; a wrong key gets the gateway-style 401 body; it is read from
  ``Authorization: Bearer`` or the mode's own header (``KEY_HEADERS``; only there with
  ``bearer=False``);
- an unknown model → 404; a user message containing one of ``fail_words`` → 400 (never cached);
- ``extra_latency_s`` makes a model's backend slower by a known amount (a swap's known answer).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# mode → (hit header, value on a hit, value on a miss; None: the header is absent on misses)
SIGNALS: dict[str, tuple[str, str, str | None]] = {
    "litellm": ("x-litellm-cache-key", "", None),  # the value is the cache key itself
    "cloudflare": ("cf-aig-cache-status", "HIT", "MISS"),
    "portkey": ("x-portkey-cache-status", "HIT", "MISS"),
    "helicone": ("helicone-cache", "HIT", "MISS"),
}
# mode → the gateway's own key header (besides ``Authorization: Bearer``)
KEY_HEADERS = {"litellm": "x-litellm-api-key", "cloudflare": "cf-aig-authorization",
               "portkey": "x-portkey-api-key", "helicone": "helicone-auth"}
HEALTH_PATHS = ("/", "/health", "/health/liveliness", "/health/readiness")  # the presets' health paths
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")
INVALID_KEY = {"error": {"message": "Invalid API key", "type": "invalid_request_error"}}


@dataclass
class GatewayConfig:
    """How the gateway behaves; latencies are the backend's on a miss and the cache's on a hit."""

    mode: str = "litellm"
    api_key: str = "gw-test-key"
    models: tuple[str, ...] = ("gpt-4o", "gpt-5-mini")
    fail_words: tuple[str, ...] = ()
    ttl_s: float = 300.0
    backend_latency_s: float = 0.06
    per_token_s: float = 0.004
    hit_latency_s: float = 0.001
    max_output_tokens: int = 8
    extra_latency_s: dict[str, float] = field(default_factory=dict)  # model → added backend TTFT
    bearer: bool = True  # False: only the mode's own key header carries the key (KEY_HEADERS)

    def __post_init__(self) -> None:
        if self.mode not in SIGNALS:
            raise ValueError(f"mode {self.mode!r}: one of {', '.join(SIGNALS)}")


@dataclass
class Served:
    """One chat request as the gateway saw it (probes and corpus requests alike)."""

    request_id: str | None
    model: str
    key: str
    status: int
    hit: bool | None  # None: not answered from or by the cache (4xx)
    t_start: float
    t_end: float = 0.0
    in_flight_twin: bool = False  # a miss sent while an identical request was with the backend
    expired: bool = False  # a miss whose key was cached, but longer ago than the TTL
    header_names: frozenset[str] = frozenset()  # the request's header names, lower case


@dataclass
class GatewayStats:
    """Counters a test reads after the run (written on the gateway's loop thread only)."""

    requests: int = 0
    backend_calls: int = 0
    hits: int = 0
    misses: int = 0
    failures: int = 0
    unauthorized: int = 0
    not_found: int = 0
    health_with_key: int = 0
    health_without_key: int = 0
    metrics_with_key: int = 0
    metrics_without_key: int = 0
    served: list[Served] = field(default_factory=list)

    def by_id(self) -> dict[str, Served]:
        """The last answer per request id (the suite sends its record id as X-Request-Id)."""
        return {s.request_id: s for s in self.served if s.request_id}


def cache_key(body: dict[str, Any]) -> str:
    canonical = json.dumps({k: body.get(k) for k in ("model", "messages", "max_tokens", "temperature")},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def error(status: int, message: str, kind: str = "invalid_request_error") -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind}}, status=status)


class Gateway:
    """The aiohttp application and its state (``serve.GatewayThread`` serves it on loopback)."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.stats = GatewayStats()
        self.cache: dict[str, tuple[float, list[str]]] = {}  # key → (stored at, output words)
        self.in_flight: dict[str, int] = {}  # key → backend calls now running

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/metrics", self.metrics)
        for path in HEALTH_PATHS:
            app.router.add_route("*", path, self.health)
        return app

    def key_state(self, request: web.Request) -> str:
        """'ok', 'missing' or 'wrong': Bearer in Authorization, or the mode's own key header."""
        given = [request.headers.get(KEY_HEADERS[self.config.mode])]
        if self.config.bearer:
            given.append(request.headers.get("Authorization"))
        values = [v.removeprefix("Bearer ").strip() for v in given if v]
        if not values:
            return "missing"
        return "ok" if self.config.api_key in values else "wrong"

    async def health(self, request: web.Request) -> web.Response:
        if self.key_state(request) != "ok":
            self.stats.health_without_key += 1
            return error(500, "Authentication Error, No api key passed in.", "auth_error")
        self.stats.health_with_key += 1
        return web.json_response({"status": "healthy"})

    async def metrics(self, request: web.Request) -> web.Response:
        if self.key_state(request) != "ok":
            self.stats.metrics_without_key += 1
            return web.json_response(INVALID_KEY, status=401)
        self.stats.metrics_with_key += 1
        s = self.stats
        lines = [f"gateway_{name}_total {value}" for name, value in
                 (("requests", s.requests), ("backend_calls", s.backend_calls), ("cache_hits", s.hits),
                  ("cache_misses", s.misses))]
        lines.append(f"gateway_in_flight_requests {sum(self.in_flight.values())}")
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    async def models(self, request: web.Request) -> web.Response:
        if self.key_state(request) != "ok":
            return web.json_response(INVALID_KEY, status=401)
        return web.json_response({"object": "list", "data": [{"id": m, "object": "model"}
                                                             for m in self.config.models]})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        state = self.key_state(request)
        if state != "ok":
            self.stats.unauthorized += 1
            if state == "wrong":
                return web.json_response(INVALID_KEY, status=401)
            return error(401, "No API key provided")
        try:
            body = await request.json()
        except ValueError:
            return error(400, "body is not valid JSON")
        served = Served(request.headers.get("X-Request-Id"), str(body.get("model")), cache_key(body), 400,
                        None, time.time(), header_names=frozenset(h.lower() for h in request.headers))
        self.stats.served.append(served)
        rejected = self.reject(body)
        if rejected is not None:
            served.status, served.t_end = rejected.status, time.time()
            return rejected
        words, hit = await self.answer(served, body)
        served.status, served.hit = 200, hit
        try:
            return await self.respond(request, body, words, hit, served.key)
        finally:
            served.t_end = time.time()
            if not hit:
                self.in_flight[served.key] -= 1

    def reject(self, body: dict[str, Any]) -> web.Response | None:
        model = body.get("model")
        if model not in self.config.models:
            self.stats.not_found += 1
            return error(404, f"The model `{model}` does not exist or you do not have access to it.")
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
        text = " ".join(str(m.get("content", "")) for m in messages)
        if any(word in text for word in self.config.fail_words):
            self.stats.failures += 1
            return error(400, "Request blocked by the gateway's content policy.")
        return None

    async def answer(self, served: Served, body: dict[str, Any]) -> tuple[list[str], bool]:
        """The output words and whether they came from the cache; a miss waits for the backend's
        first token here (TTFT), the per-token pacing happens while writing."""
        cfg, now = self.config, time.time()
        entry = self.cache.get(served.key)
        if entry is not None and now - entry[0] <= cfg.ttl_s:
            self.stats.hits += 1
            await asyncio.sleep(cfg.hit_latency_s)
            return entry[1], True
        self.stats.misses += 1
        self.stats.backend_calls += 1
        served.expired = entry is not None
        served.in_flight_twin = self.in_flight.get(served.key, 0) > 0
        self.in_flight[served.key] = self.in_flight.get(served.key, 0) + 1
        await asyncio.sleep(cfg.backend_latency_s + cfg.extra_latency_s.get(served.model, 0.0))
        n = max(1, min(int(body.get("max_tokens") or cfg.max_output_tokens), cfg.max_output_tokens))
        seed = int(served.key[:8], 16)
        return [WORDS[(seed + i) % len(WORDS)] for i in range(n)], False

    def store(self, key: str, words: list[str]) -> None:
        """Cache the answer before its last byte goes out (see the module docstring)."""
        self.cache[key] = (time.time(), words)

    async def respond(self, request: web.Request, body: dict[str, Any], words: list[str], hit: bool,
                      key: str) -> web.StreamResponse:
        headers = self.signal_headers(hit, key)
        if rid := request.headers.get("X-Request-Id"):
            headers["X-Request-Id"] = rid
        usage = {"prompt_tokens": prompt_tokens(body), "completion_tokens": len(words),
                 "total_tokens": prompt_tokens(body) + len(words)}
        rsp_id = f"chatcmpl-{key[:12]}-{time.monotonic_ns()}"
        pace = 0.0 if hit else self.config.per_token_s
        if body.get("stream"):
            return await self.stream(request, headers, body["model"], words, usage, rsp_id, pace, hit, key)
        if pace:
            await asyncio.sleep(pace * len(words))
        if not hit:
            self.store(key, words)
        return web.json_response({
            "id": rsp_id, "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": " ".join(words)},
                         "finish_reason": "stop"}],
            "usage": usage}, headers=headers)

    def signal_headers(self, hit: bool, key: str) -> dict[str, str]:
        name, on_hit, on_miss = SIGNALS[self.config.mode]
        if hit:
            return {name: on_hit or key}
        return {} if on_miss is None else {name: on_miss}

    async def stream(self, request: web.Request, headers: dict[str, str], model: str, words: list[str],
                     usage: dict[str, int], rsp_id: str, pace: float, hit: bool,
                     key: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={**headers, "Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
        await resp.prepare(request)

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            choices = [] if extra.get("usage") else [{"index": 0, "delta": delta, "finish_reason": finish}]
            event = {"id": rsp_id, "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": model, "choices": choices, **extra}
            return f"data: {json.dumps(event)}\n\n".encode()

        await resp.write(chunk({"role": "assistant", "content": ""}))
        for i, word in enumerate(words):
            if pace and i:
                await asyncio.sleep(pace)
            await resp.write(chunk({"content": (" " if i else "") + word}))
        await resp.write(chunk({}, "stop"))
        if not hit:
            self.store(key, words)
        await resp.write(chunk({}, usage=usage))  # the usage chunk: choices empty
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


def prompt_tokens(body: dict[str, Any]) -> int:
    """A word count: this gateway's own tokenizer, deliberately not the suite's."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    return sum(len(str(m.get("content", "")).split()) for m in messages)
