"""The witness itself: the test gateway does what the suite's tests rely on (auth on every path,
each mode's hit signal, a TTL, 4xx for unknown models and marked prompts, no coalescing)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.gateway.serve import GatewayThread
from tests.integration.gateway.server import KEY_HEADERS, SIGNALS

KEY = "gw-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def call(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
         method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def chat(content: str = "hello", model: str = "gpt-4o", stream: bool = False) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": 4,
            "temperature": 0.0, "stream": stream}


def test_every_path_needs_the_key(gateway: GatewayThread) -> None:
    assert call(gateway.url + "/health")[0] == 500
    assert call(gateway.url + "/health", headers=AUTH)[0] == 200
    assert call(gateway.url + "/metrics")[0] == 401
    status, _, body = call(gateway.url + "/metrics", headers=AUTH)
    assert status == 200 and b"gateway_cache_hits_total" in body
    status, _, body = call(gateway.url + "/v1/chat/completions", chat(), {"Authorization": "Bearer nope"})
    assert status == 401
    assert json.loads(body) == {"error": {"message": "Invalid API key", "type": "invalid_request_error"}}
    assert call(gateway.url + "/v1/chat/completions", chat())[0] == 401
    assert call(gateway.url + "/v1/chat/completions", chat(), {KEY_HEADERS["litellm"]: KEY})[0] == 200


@pytest.mark.parametrize("mode", sorted(SIGNALS))
def test_each_mode_signals_hits_its_own_way(gateway_factory: Callable[..., GatewayThread], mode: str) -> None:
    gw = gateway_factory(mode)
    name, on_hit, on_miss = SIGNALS[mode]
    _, first, _ = call(gw.url + "/v1/chat/completions", chat(), AUTH)
    _, second, body = call(gw.url + "/v1/chat/completions", chat(stream=True), AUTH)  # stream: same key
    assert first.get(name) == on_miss
    assert second[name] == (on_hit or second[name]) and second[name]
    events = [line[6:] for line in body.decode().splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]" and json.loads(events[-2])["usage"]["completion_tokens"] == 4
    assert (gw.stats.hits, gw.stats.misses, gw.stats.backend_calls) == (1, 1, 1)


def test_4xx_ttl_and_counters(gateway_factory: Callable[..., GatewayThread]) -> None:
    gw = gateway_factory("cloudflare", fail_words=("FORBIDDEN",), ttl_s=0.05)
    status, _, body = call(gw.url + "/v1/chat/completions", chat(model="gpt-9"), AUTH)
    assert status == 404 and "gpt-9" in json.loads(body)["error"]["message"]
    assert call(gw.url + "/v1/chat/completions", chat("a FORBIDDEN word"), AUTH)[0] == 400
    call(gw.url + "/v1/chat/completions", chat(), AUTH)
    time.sleep(0.1)
    _, headers, _ = call(gw.url + "/v1/chat/completions", chat(), AUTH)  # past the TTL: a miss
    assert headers["cf-aig-cache-status"] == "MISS"
    assert (gw.stats.not_found, gw.stats.failures, gw.stats.backend_calls) == (1, 1, 2)


def test_identical_requests_in_flight_are_never_coalesced(gateway: GatewayThread) -> None:
    threads = [threading.Thread(target=call, args=(gateway.url + "/v1/chat/completions", chat(), AUTH))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gateway.stats.backend_calls == 3
    assert sum(s.in_flight_twin for s in gateway.stats.served) == 2
