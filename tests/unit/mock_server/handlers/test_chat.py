"""The zero-delay lane answers exactly what the general flow answers, and only when it may."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from aiohttp import streams, web
from aiohttp.test_utils import make_mocked_request

from mock_server.app import create_app
from mock_server.cache import MemoryCache, NullCache, RedisCache, ResponseCache
from mock_server.config import MockConfig, load_profiles
from mock_server.handlers.chat import chat_completions, fast_chat, lane_models
from mock_server.state import STATE
from mock_server.timing_log import TimingLog

PROFILES = load_profiles()


class _Idle:
    def pause_reading(self, *args: object, **kwargs: object) -> None: ...
    def resume_reading(self, *args: object, **kwargs: object) -> None: ...


def _request(app: web.Application, body: bytes, headers: dict[str, str] | None = None) -> Any:
    payload = streams.StreamReader(_Idle(), 2**16, loop=asyncio.get_running_loop())  # type: ignore[arg-type]
    payload.feed_data(body)
    payload.feed_eof()
    return make_mocked_request("POST", "/v1/chat/completions", app=app, payload=payload,
                               headers={"Content-Type": "application/json",
                                        "Content-Length": str(len(body)), **(headers or {})})


def _body(model: str = "instant", text: str = "hello there", **extra: Any) -> bytes:
    return orjson.dumps({"model": model, "messages": [{"role": "user", "content": text}],
                         "max_tokens": 16, **extra})


def _comparable(resp: web.Response) -> tuple[int, dict[str, str], list[Any]]:
    """Status, headers and body with the per-response parts (id, created, request id) removed."""
    headers = {k: v for k, v in resp.headers.items() if k not in ("X-Request-Id", "Content-Length")}
    raw = bytes(resp.body)  # type: ignore[arg-type]
    docs = ([orjson.loads(line[6:]) for line in raw.split(b"\n\n") if line.startswith(b"data: {")]
            if raw.startswith(b"data:") else [orjson.loads(raw)])
    for doc in docs:
        doc.pop("id", None)
        doc.pop("created", None)
    return resp.status, headers, docs + [raw.endswith(b"data: [DONE]\n\n")]


SEQUENCE = [  # (body, headers): misses, hits, streams with and without usage
    (_body(), None),
    (_body(), None),
    (_body(stream=True), None),
    (_body(text="another", stream=True, stream_options={"include_usage": True}), None),
    (_body(text="another", stream=True, stream_options={"include_usage": True}), None),
    (_body(text="with id"), {"X-Request-Id": "abc-123"}),
    (_body(model="gpt-4o", text="not zero delay"), None),  # general flow in both apps
]


async def _run(cache: ResponseCache, fast: bool) -> tuple[list[Any], Any]:
    app = create_app(MockConfig(profiles=PROFILES), cache, fast_lane=fast, sleep=_no_sleep)
    out = []
    for body, headers in SEQUENCE:
        out.append(_comparable(await chat_completions(_request(app, body, headers))))
    metrics = app[STATE].metrics
    return out, (dict(metrics.requests), metrics.counts, dict(metrics.prompt_tokens),
                 dict(metrics.completion_tokens), sorted(metrics.e2e), sorted(metrics.ttft))


async def _no_sleep(_: float) -> None:
    return None


@pytest.mark.parametrize("cache", [lambda: MemoryCache(100), NullCache], ids=["memory", "none"])
def test_fast_lane_answers_like_the_general_flow(cache: Any) -> None:
    fast, fast_metrics = asyncio.run(_run(cache(), True))
    slow, slow_metrics = asyncio.run(_run(cache(), False))
    assert fast == slow
    assert fast_metrics == slow_metrics
    if isinstance(cache(), MemoryCache):
        assert [r[1].get("X-Cache") for r in fast[:3]] == ["MISS", "HIT", "HIT"]


def test_only_zero_delay_profiles_take_the_lane() -> None:
    assert lane_models(MockConfig(profiles=PROFILES), MemoryCache(10), None) == {"instant"}


@pytest.mark.parametrize(("body", "headers"), [
    (_body(), {"X-Mock-Fault": "500"}),  # faults take the general flow
    (_body(top_p=0.5), None),  # not a plain request
    (b"{not json", None),  # the general flow words the error
    (b"[1, 2]", None),
    (_body(model="gpt-4o"), None),  # a profile with latency
    (_body(model="no-such-model"), None),
])
def test_the_lane_declines_what_it_must_not_answer(body: bytes, headers: Any) -> None:
    async def go() -> web.Response | None:
        app = create_app(MockConfig(profiles=PROFILES), MemoryCache(10))
        return fast_chat(_request(app, body, headers), app[STATE], body, 0.0)

    assert asyncio.run(go()) is None


def test_the_lane_is_closed_with_normalize_or_a_timing_log(tmp_path: Any) -> None:

    normalized = create_app(MockConfig(profiles=PROFILES, normalize=True), MemoryCache(10))
    logged = create_app(MockConfig(profiles=PROFILES), MemoryCache(10),
                        timing_log=TimingLog(str(tmp_path / "t.jsonl")))
    assert normalized[STATE].lane == logged[STATE].lane == frozenset()
    assert create_app(MockConfig(profiles=PROFILES), MemoryCache(10))[STATE].lane == {"instant"}


def test_the_lane_is_closed_with_a_cache_that_must_be_awaited() -> None:
    redis = RedisCache("redis://127.0.0.1:1/0")  # never connected: the rule reads the type only
    assert lane_models(MockConfig(profiles=PROFILES), redis, None) == frozenset()
    assert lane_models(MockConfig(profiles=PROFILES), NullCache(), None) == {"instant"}
