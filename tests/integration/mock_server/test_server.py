"""The mock server as a real process on a real port, talked to by the official ``openai`` SDK and
by plain HTTP, backed by the private real Redis.

Prompts are fixed and the cache is cleared before each test, so every plan (text, length, delays)
is known in advance: the test computes it with the same pure ``plan`` and compares.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlsplit

import openai
import orjson
import pytest

from mock_server.answer import plan
from mock_server.config import DEFAULT_PROFILES_PATH, load_profiles
from mock_server.validate import parse_chat_request
from suite.errors import TargetError
from suite.services import RedisServer, free_port, start_redis
from suite.tokens import count_chat_tokens
from tests.integration.conftest import MockServer, launch_mock_server

pytestmark = pytest.mark.integration
PROFILES = load_profiles(DEFAULT_PROFILES_PATH)


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": text}]


def http(server: MockServer, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP exchange (for what the SDK will not send: bad JSON, wrong methods)."""
    parts = urlsplit(server.url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json",
                                                       **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def post_chat(server: MockServer, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    status, headers, raw = http(server, "POST", "/v1/chat/completions", orjson.dumps(body))
    return status, headers, orjson.loads(raw)


def planned(body: dict[str, Any], seed: int = 0) -> Any:
    req = parse_chat_request(orjson.dumps(body), PROFILES)
    return plan(req, PROFILES[req.model], seed)


@pytest.fixture(scope="module")
def redis_mock(redis_server: RedisServer,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    """One server for the module, on the session's private Redis."""
    server = launch_mock_server(tmp_path_factory.mktemp("redis_mock"), cache=redis_server.url)
    yield server
    assert server.stop() == 0  # SIGTERM => clean exit
    assert "Traceback" not in server.log()  # bad input and hang-ups never reach the log as crashes


@pytest.fixture
def server(redis_mock: MockServer) -> MockServer:
    status, _, body = http(redis_mock, "POST", "/admin/cache/clear")
    assert status == 200, body
    return redis_mock


@pytest.fixture
def client(server: MockServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0) as c:
        yield c


def test_sdk_non_streaming_miss_then_hit(client: openai.OpenAI) -> None:
    messages = chat("What is an exact-match cache?")
    call: Callable[[], Any] = lambda: client.chat.completions.with_raw_response.create(  # noqa: E731
        model="gpt-4o", messages=messages, max_tokens=6, temperature=0.0,
        extra_headers={"X-Request-Id": "req-42"})
    # the SDK's first chat call imports and builds its response types: not the server's time
    client.chat.completions.create(model="gpt-4o", messages=chat("warm the client"), max_tokens=1)
    t0 = time.perf_counter()
    miss_raw = call()
    miss_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    hit_raw = call()
    hit_s = time.perf_counter() - t0
    miss, hit = miss_raw.parse(), hit_raw.parse()
    truth = planned({"model": "gpt-4o", "messages": messages, "max_tokens": 6, "temperature": 0.0})

    assert (miss_raw.headers["x-cache"], hit_raw.headers["x-cache"]) == ("MISS", "HIT")
    assert miss_raw.headers["x-request-id"] == hit_raw.headers["x-request-id"] == "req-42"
    assert miss_raw.headers["x-cache-key"] == hit_raw.headers["x-cache-key"]
    assert miss.id.startswith("chatcmpl-")
    assert miss.id != hit.id
    assert miss.choices[0].message.content == hit.choices[0].message.content \
        == truth.completion.text
    assert miss.choices[0].finish_reason == truth.completion.finish_reason
    assert miss.usage.prompt_tokens == count_chat_tokens(messages, "gpt-4o")
    assert miss.usage.completion_tokens == len(truth.completion.tokens) <= 6
    assert miss.usage.prompt_tokens_details.cached_tokens == 0  # generated: nothing cached
    assert hit.usage.prompt_tokens_details.cached_tokens == hit.usage.prompt_tokens \
        == miss.usage.prompt_tokens  # a response-cache hit processed none of the prompt
    assert (hit.usage.completion_tokens, hit.usage.total_tokens) == \
        (miss.usage.completion_tokens, miss.usage.total_tokens)
    assert (miss.model_extra or {})["cached"] is False
    assert (hit.model_extra or {})["cached"] is True
    assert truth.timing.e2e_s - 0.005 <= miss_s <= truth.timing.e2e_s + 1.0  # loaded CI: loose
    assert hit_s < miss_s / 5


def test_sdk_streaming_then_non_streaming_share_the_cached_answer(client: openai.OpenAI) -> None:
    messages = chat("Stream me a short answer.")
    raw = client.chat.completions.with_raw_response.create(
        model="instant", messages=messages, max_tokens=10, stream=True,
        stream_options={"include_usage": True})
    with raw.parse() as stream:
        chunks = list(stream)
    assert raw.headers["x-cache"] == "MISS"
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert chunks[-2].choices[0].finish_reason == "length"  # instant wants 16 tokens
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(pieces) == 10
    assert chunks[-1].usage.prompt_tokens == count_chat_tokens(messages, "gpt-4o")
    assert len({c.id for c in chunks}) == 1

    assert chunks[-1].usage.prompt_tokens_details.cached_tokens == 0
    again = client.chat.completions.with_raw_response.create(model="instant", messages=messages,
                                                             max_tokens=10)
    assert again.headers["x-cache"] == "HIT"
    assert again.parse().choices[0].message.content == "".join(pieces)
    with client.chat.completions.create(model="instant", messages=messages, max_tokens=10,
                                        stream=True, stream_options={"include_usage": True}) as hit:
        usage = list(hit)[-1].usage
    assert usage is not None
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == usage.prompt_tokens > 0  # streamed HIT


def test_async_sdk_streaming_hit_is_byte_identical(server: MockServer) -> None:
    messages = chat("Async question about latency.")

    async def stream_text(client: openai.AsyncOpenAI) -> tuple[str, str]:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=messages, max_tokens=5, stream=True)
        async with raw.parse() as stream:
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        return raw.headers["x-cache"], text

    async def scenario() -> tuple[tuple[str, str], tuple[str, str], str]:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="unused",
                                      max_retries=0) as client:
            first = await stream_text(client)
            second = await stream_text(client)
            plain = await client.chat.completions.create(model="gpt-4o-mini", messages=messages,
                                                         max_tokens=5)
            return first, second, plain.choices[0].message.content or ""

    (c1, t1), (c2, t2), t3 = asyncio.run(scenario())
    assert (c1, c2) == ("MISS", "HIT")
    assert t1 == t2 == t3 == planned({"model": "gpt-4o-mini", "messages": messages,
                                      "max_tokens": 5}).completion.text


def test_models_health_and_metrics(client: openai.OpenAI, server: MockServer) -> None:
    assert [m.id for m in client.models.list()] == list(PROFILES)
    status, headers, body = http(server, "GET", "/health", headers={"X-Request-Id": "h-1"})
    assert status == 200
    assert headers["x-request-id"] == "h-1"
    assert orjson.loads(body) == {"status": "ok", "server": "llmsuite-mock", "models": list(PROFILES),
                                  "cache": "redis", "seed": 0}
    client.chat.completions.create(model="instant", messages=chat("metrics"), max_tokens=3)
    # a streamed answer too, so the TTFT histogram has data even when this test runs alone
    list(client.chat.completions.create(model="instant", messages=chat("metrics, streamed"),
                                        max_tokens=3, stream=True))
    status, headers, body = http(server, "GET", "/metrics")
    text = body.decode()
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    for needle in ('mock_requests_total{cache="miss",model="instant",status="200"}',
                   "mock_ttft_seconds_bucket", 'mock_e2e_seconds_count{cache="miss",model="instant"}',
                   'mock_prompt_tokens_total{model="instant"}', "mock_in_flight_requests 0.0",
                   "mock_cache_hits_total", "mock_cache_misses_total", "mock_cache_errors_total",
                   "process_cpu_seconds_total", "process_resident_memory_bytes"):
        assert needle in text, needle


BAD_REQUESTS = [
    (b'{"model": "instant", "messages": [', 400, "invalid_json", None),
    (orjson.dumps({"model": "instant", "messages": []}), 400, "empty_array", "messages"),
    (orjson.dumps({"model": "instant"}), 400, "missing_required_parameter", "messages"),
    (orjson.dumps({"model": "instant", "messages": "hi"}), 400, "invalid_type", "messages"),
    (orjson.dumps({"model": "instant", "messages": chat("x"), "max_tokens": 0}), 400,
     "invalid_value", "max_tokens"),
    (orjson.dumps({"model": "instant", "messages": chat("x"), "max_tokens": 10**6}), 400,
     "invalid_value", "max_tokens"),
    (orjson.dumps({"model": "instant", "messages": chat("x"), "n": 2}), 400, "unsupported_value",
     "n"),
    (orjson.dumps({"model": "instant", "messages": chat("x"), "temperature": "hot"}), 400,
     "invalid_type", "temperature"),
    (orjson.dumps({"model": "gpt-9", "messages": chat("x")}), 404, "model_not_found", "model"),
]


@pytest.mark.parametrize(("body", "status", "code", "param"), BAD_REQUESTS)
def test_bad_input_gets_an_openai_error(server: MockServer, body: bytes, status: int, code: str,
                                        param: str | None) -> None:
    got, headers, raw = http(server, "POST", "/v1/chat/completions", body,
                             headers={"X-Request-Id": "bad-1"})
    error = orjson.loads(raw)["error"]
    assert (got, error["code"], error["param"], error["type"]) == (
        status, code, param, "invalid_request_error")
    assert headers["x-request-id"] == "bad-1"
    assert "x-cache" not in headers


def test_sdk_raises_the_typed_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-9", messages=chat("x"))
    assert err.value.status_code == 404
    assert f"known: {', '.join(PROFILES)}." in str(err.value)
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="instant", messages=chat("x"), n=3)
    assert bad.value.code == "unsupported_value"


def test_unknown_route_and_wrong_method_are_json(server: MockServer) -> None:
    status, _, raw = http(server, "GET", "/v1/chat/completions")
    assert status == 405
    assert orjson.loads(raw)["error"]["code"] == "method_not_allowed"
    status, _, raw = http(server, "GET", "/v2/nothing")
    assert status == 404
    assert orjson.loads(raw)["error"]["message"].startswith(
        "Not Found: GET /v2/nothing; this server has POST /v1/chat/completions")


def test_oversized_body_is_413(mock_server_factory: Callable[..., MockServer]) -> None:
    small = mock_server_factory(cache="none", extra_args=["--max-body-bytes", "4096"])
    body = orjson.dumps({"model": "instant", "messages": chat("x" * 10_000)})
    status, _, raw = http(small, "POST", "/v1/chat/completions", body)
    error = orjson.loads(raw)["error"]
    assert (status, error["code"]) == (413, "request_too_large")
    assert "send at most 4096 bytes" in error["message"]
    # no cache: no X-Cache header, but the same deterministic text as the Redis-backed server
    status, headers, answer = post_chat(small, {"model": "instant", "messages": chat("same"),
                                                "max_tokens": 8})
    assert status == 200
    assert "x-cache" not in headers
    assert "x-cache-key" in headers
    assert answer["choices"][0]["message"]["content"] == planned(
        {"model": "instant", "messages": chat("same"), "max_tokens": 8}).completion.text
    assert small.stop() == 0


def test_redis_killed_mid_test_fails_open(mock_server_factory: Callable[..., MockServer]) -> None:
    redis = start_redis()  # a dedicated instance: the shared one must survive this test
    try:
        server = mock_server_factory(cache=redis.url)
        body = {"model": "instant", "messages": chat("before the outage"), "max_tokens": 4}
        assert [post_chat(server, body)[1]["x-cache"] for _ in range(2)] == ["MISS", "HIT"]
        redis.stop()
        for text in ("before the outage", "during the outage", "during the outage"):
            status, headers, answer = post_chat(server, {**body, "messages": chat(text)})
            assert (status, headers["x-cache"]) == (200, "MISS")
            assert answer["choices"][0]["message"]["content"]
    finally:
        redis.stop()
    stats = orjson.loads(http(server, "GET", "/admin/cache/stats")[2])
    assert stats["backend"] == "redis"
    assert stats["hits"] == 1
    assert stats["errors"] >= 3
    metrics = http(server, "GET", "/metrics")[2].decode()
    assert f"mock_cache_errors_total {float(stats['errors'])}" in metrics
    assert server.log().count("failing") == 1  # logged once per outage


def test_unreachable_redis_at_start_warns_and_serves(
        mock_server_factory: Callable[..., MockServer]) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    server = mock_server_factory(cache=url, seed=7)
    body = {"model": "instant", "messages": chat("same"), "max_tokens": 8}
    status, headers, answer = post_chat(server, body)
    assert (status, headers["x-cache"]) == (200, "MISS")
    assert f"warning: cache {url} unreachable" in server.log()
    # another seed, another (still deterministic) text
    assert answer["choices"][0]["message"]["content"] == planned(body, seed=7).completion.text
    assert answer["choices"][0]["message"]["content"] != planned(body, seed=0).completion.text


@pytest.mark.parametrize("mock_server", ["memory", "redis"], indirect=True)
def test_mock_server_fixture_serves_each_cache(mock_server: MockServer) -> None:
    body = {"model": "instant", "messages": chat("fixture"), "max_tokens": 4}
    assert [post_chat(mock_server, body)[1]["x-cache"] for _ in range(2)] == ["MISS", "HIT"]
    assert mock_server.port > 0
    assert mock_server.base_url == mock_server.url + "/v1"


def test_bad_profiles_file_exits_with_the_message(tmp_path_factory: pytest.TempPathFactory) -> None:
    bad = tmp_path_factory.mktemp("profiles") / "models.yaml"
    bad.write_text("models:\n  gpt-4o: {ttft_base_s: -1}\n")
    with pytest.raises(TargetError, match=r"exit code 2\).*models\.gpt-4o\.ttft_base_s: -1 is "
                                           r"not valid"):
        launch_mock_server(tmp_path_factory.mktemp("bad"), profiles=bad)


def test_client_leaving_mid_stream_is_counted_and_harmless(server: MockServer) -> None:
    body = {"model": "gpt-4o", "messages": chat("A long answer, please."), "max_tokens": 400,
            "stream": True}
    parts = urlsplit(server.url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("POST", "/v1/chat/completions", body=orjson.dumps(body),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.read(7) == b"data: {"  # the first token arrived...
    finally:
        conn.close()  # ...and the client hangs up long before the 400th
    deadline = time.monotonic() + 5
    needle = 'mock_requests_total{cache="miss",model="gpt-4o",status="499"} 1.0'
    while needle not in (text := http(server, "GET", "/metrics")[2].decode()):
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    assert "mock_in_flight_requests 0.0" in text
    status, headers, _ = post_chat(server, {**body, "stream": False, "max_tokens": 3})
    assert status == 200
    assert headers["x-cache"] == "MISS"  # an unfinished answer is not cached
