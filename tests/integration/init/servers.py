"""Two independent targets for ``llmsuite init`` to probe, written here on ``http.server`` (they import
nothing from ``suite`` or ``mock_server``: a shared bug would otherwise pass unseen):

- ``AcmeChat``: OpenAI-style ``POST /v1/chat/completions`` (SSE when ``stream``; ``usage`` in a last
  chunk when ``stream_options.include_usage``), ``GET /v1/models``, a key required as
  ``Authorization: Bearer <key>`` (401 otherwise), an exact-match response cache whose hits carry
  ``X-Acme-Cache: hit`` (the header is absent on misses) and skip the backend's latency, a health
  path at ``/healthz`` only; every answer also carries a per-request ``X-Trace-Id`` and a changing
  ``X-Backend-Ms`` (noise a probe must not take for a cache signal). It counts what it served.
- ``JsonEngine``: ``POST /api/chat {"message", "session_id"}`` → ``{"response", "session_id",
  "request_id", "latency_ms"}`` as one JSON body (it never streams), no key, no cache, ``GET /health``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")


@dataclass
class Served:
    request_id: str | None
    hit: bool


@dataclass
class AcmeState:
    key: str = "K"
    models: tuple[str, ...] = ("acme-large", "acme-small")
    backend_s: float = 0.08
    cache: dict[str, list[str]] = field(default_factory=dict)
    served: list[Served] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def hits(self) -> int:
        return sum(s.hit for s in self.served)


class _Base(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures only
        pass

    def body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return None

    def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class AcmeHandler(_Base):
    state: AcmeState

    def authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.state.key}":
            return True
        self.send_json(401, {"error": {"message": "missing or invalid API key", "type": "auth_error"}},
                       {"WWW-Authenticate": "Bearer"})
        return False

    def do_GET(self) -> None:  # noqa: N802 — http.server's naming
        if self.path == "/healthz":
            self.send_json(200, {"ok": True})
        elif self.path == "/v1/models":
            if self.authorized():
                self.send_json(200, {"object": "list", "data": [{"id": m, "object": "model"}
                                                                for m in self.state.models]})
        else:
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/v1/chat/completions":
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        if not self.authorized():
            return
        req = self.body()
        if not isinstance(req, dict) or req.get("model") not in self.state.models:
            self.send_json(400, {"error": {"message": "unknown model or bad body"}})
            return
        key = hashlib.sha256(json.dumps([req.get(k) for k in ("model", "messages", "max_tokens",
                                                               "temperature")]).encode()).hexdigest()
        with self.state.lock:
            words = self.state.cache.get(key)
        hit = words is not None
        started = time.perf_counter()
        if words is None:
            time.sleep(self.state.backend_s)
            words = [WORDS[(int(key[:8], 16) + i) % len(WORDS)] for i in range(6)]
            with self.state.lock:  # stored before the answer is written: a repeat after it is a hit
                self.state.cache[key] = words
        with self.state.lock:
            self.state.served.append(Served(self.headers.get("X-Request-Id"), hit))
        headers = {"X-Trace-Id": uuid.uuid4().hex,
                   "X-Backend-Ms": f"{(time.perf_counter() - started) * 1000:.3f}"}
        if hit:
            headers["X-Acme-Cache"] = "hit"
        rid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        usage = {"prompt_tokens": 12, "completion_tokens": len(words), "total_tokens": 12 + len(words)}
        if not req.get("stream"):
            self.send_json(200, {"id": rid, "object": "chat.completion", "created": int(time.time()),
                                 "model": req["model"], "usage": usage, "choices": [
                                     {"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": " ".join(words)}}]},
                           headers)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        for i, word in enumerate(words):
            last = i == len(words) - 1
            self.event({"id": rid, "object": "chat.completion.chunk", "model": req["model"], "choices": [
                {"index": 0, "delta": {"content": word + ("" if last else " ")},
                 "finish_reason": "stop" if last else None}]})
        if (req.get("stream_options") or {}).get("include_usage"):
            self.event({"id": rid, "object": "chat.completion.chunk", "model": req["model"], "choices": [],
                        "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")

    def event(self, obj: Any) -> None:
        self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
        self.wfile.flush()


class EngineHandler(_Base):
    requests: list[dict[str, Any]]

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/health":
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/api/chat":
            self.send_json(404, {"detail": "Not Found"})
            return
        req = self.body()
        if not isinstance(req, dict) or not isinstance(req.get("message"), str):
            self.send_json(422, {"detail": "message is required"})
            return
        self.requests.append(req)
        started = time.perf_counter()
        time.sleep(0.02)
        self.send_json(200, {"response": f"You asked: {req['message'][:40]}. The answer is 42.",
                             "session_id": req.get("session_id"), "request_id": uuid.uuid4().hex,
                             "latency_ms": round((time.perf_counter() - started) * 1000, 3)})


def acme_server(state: AcmeState) -> ThreadingHTTPServer:
    handler = type("Acme", (AcmeHandler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    return server


def engine_server(requests: list[dict[str, Any]]) -> ThreadingHTTPServer:
    handler = type("Engine", (EngineHandler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    return server
