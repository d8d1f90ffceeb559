"""Faults, auth, the load model, the extra endpoints and cache administration — each observed by a
raw HTTP client (or the openai SDK) against a real mock server process on a port the OS chose.

Timing assertions are loose lower bounds only (the machine may be loaded): a stall of S seconds
must take at least ~S, nothing is asserted about how much longer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection, IncompleteRead
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openai
import orjson
import pytest
import yaml

from mock_server.answer import plan
from mock_server.config import load_profiles
from mock_server.faults import draw_fault
from mock_server.validate import parse_chat_request
from mock_server.write import DONE, ChunkEvents
from suite.services import RedisServer
from suite.tokens import count_chat_tokens
from tests.integration.conftest import MockServer, launch_mock_server

pytestmark = pytest.mark.integration
FAST = {"ttft_base_s": 0.0, "ttft_jitter_s": 0.0, "tokens_per_s": float("inf"),
        "output_tokens": {"median": 4, "spread": 0.0}, "encoding": "o200k_base"}
PROFILE_DOC = {"models": {
    "instant": {**FAST, "output_tokens": {"median": 16, "spread": 0.0}},
    "paced": {**FAST, "tokens_per_s": 50.0, "output_tokens": {"median": 6, "spread": 0.0}},
    "batched": {**FAST, "ttft_base_s": 1.2, "output_tokens": {"median": 1, "spread": 0.0},
                "load": {"max_batch": 2, "queue_limit": 1, "load_factor": 2.0}},
    "limited": {**FAST, "load": {"rpm": 2, "tpm": 100_000}},
    "flaky": {**FAST, "faults": {"503": 0.5}},
}}
USER = [{"role": "user", "content": "Say something."}]


@pytest.fixture(scope="module")
def profiles_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("profiles") / "models.yaml"
    path.write_text(yaml.safe_dump(PROFILE_DOC))
    return path


@pytest.fixture(scope="module")
def shared(profiles_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    """One server for the stateless tests (each fault kind is used by one test only, so the
    counters each test reads are its own)."""
    server = launch_mock_server(tmp_path_factory.mktemp("shared"), profiles=profiles_file,
                                extra_args=["--engine-model", "paced"])
    yield server
    assert server.stop() == 0
    assert "Traceback" not in server.log()


@pytest.fixture
def start(mock_server_factory: Callable[..., MockServer],
          profiles_file: Path) -> Callable[..., MockServer]:
    def go(*extra: str, cache: str = "memory") -> MockServer:
        return mock_server_factory(cache=cache, profiles=profiles_file, extra_args=list(extra))
    return go


def http(server: MockServer, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(server.url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        raw = body if isinstance(body, bytes | None) else orjson.dumps(body)
        conn.request(method, path, body=raw, headers={"Content-Type": "application/json",
                                                      **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def chat_body(model: str = "instant", stream: bool = False, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": USER, "max_tokens": 4, "stream": stream, **extra}


def metric_lines(server: MockServer, auth: dict[str, str] | None = None) -> set[str]:
    return set(http(server, "GET", "/metrics", headers=auth)[2].decode().splitlines())


def test_sse_framing_is_byte_exact(shared: MockServer, profiles_file: Path) -> None:
    server = shared
    body = chat_body(max_tokens=2, stream=True, stream_options={"include_usage": True})
    status, headers, raw = http(server, "POST", "/v1/chat/completions", body)
    first = orjson.loads(raw.split(b"\n\n")[0][len(b"data: "):])
    profiles = load_profiles(profiles_file)
    truth = plan(parse_chat_request(orjson.dumps(body), profiles), profiles["instant"], 0)
    events = ChunkEvents(first["id"], first["created"], "instant")
    expected = (events.role() + events.contents(truth.completion.chunks)
                + events.finish("length") + events.usage(truth.completion, False) + DONE)
    assert status == 200
    assert headers["content-type"] == "text/event-stream"
    assert raw == expected
    assert len(truth.completion.chunks) == 2


ERROR_FAULTS = [("500", 500, "server_error", "injected_fault"),
                ("503", 503, "server_error", "injected_fault"),
                ("429", 429, "requests", "rate_limit_exceeded")]


@pytest.mark.parametrize(("fault", "status", "kind", "code"), ERROR_FAULTS)
def test_error_faults(shared: MockServer, fault: str, status: int, kind: str,
                      code: str) -> None:
    got, headers, raw = http(shared, "POST", "/v1/chat/completions", chat_body(),
                             {"X-Mock-Fault": fault})
    error = orjson.loads(raw)["error"]
    assert (got, error["type"], error["code"]) == (status, kind, code)
    assert ("retry-after" in headers) == (fault == "429")
    needle = f'mock_faults_total{{kind="{fault}",model="instant"}} 1.0'
    assert needle in metric_lines(shared)


def read_events(server: MockServer, body: dict[str, Any], fault: str) -> tuple[list[bytes],
                                                                                 float, bool]:
    """(SSE events received, seconds to the first one, whether the stream was cut short)."""
    parts = urlsplit(server.url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=20)
    t0 = time.perf_counter()
    try:
        conn.request("POST", "/v1/chat/completions", body=orjson.dumps(body),
                     headers={"Content-Type": "application/json", "X-Mock-Fault": fault})
        resp = conn.getresponse()
        first_s = time.perf_counter() - t0
        try:
            data, cut = resp.read(), False
        except IncompleteRead as exc:
            data, cut = exc.partial, True
    finally:
        conn.close()
    return [e for e in data.split(b"\n\n") if e], first_s, cut


def test_stream_faults(shared: MockServer) -> None:
    mock_server = shared
    body = chat_body(stream=True, max_tokens=6, messages=[{"role": "user", "content": "faults"}])
    events, _, cut = read_events(mock_server, body, "disconnect=2")
    assert cut
    assert len(events) == 3
    assert all(orjson.loads(e[6:]) for e in events)  # role + 2 tokens
    events, _, cut = read_events(mock_server, body, "malformed=2")
    assert not cut
    assert events[-1] == b"data: [DONE]"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(events[2][6:])  # events: role, token 1, token 2 (broken), ...
    assert orjson.loads(events[3][6:])["choices"][0]["delta"]["content"]
    _, first_s, _ = read_events(mock_server, body, "stall_first=0.5")
    assert first_s >= 0.45  # headers included: nothing arrives before the stall ends
    t0 = time.perf_counter()
    events, first_s, cut = read_events(mock_server, body, "stall_mid=0.5")
    assert time.perf_counter() - t0 >= 0.45
    assert not cut
    assert events[-1] == b"data: [DONE]"
    with pytest.raises(Exception):  # noqa: B017,PT011 - non-streaming disconnect: no answer at all
        http(mock_server, "POST", "/v1/chat/completions", chat_body(), {"X-Mock-Fault":
                                                                         "disconnect=0"})
    lines = metric_lines(mock_server)
    for kind in ("disconnect", "malformed", "stall_first", "stall_mid"):
        count = 2 if kind == "disconnect" else 1
        assert f'mock_faults_total{{kind="{kind}",model="instant"}} {count:.1f}' in lines, kind
    assert 'mock_requests_total{cache="-",model="-",status="400"} 1.0' not in lines
    # a faulted answer is never cached: the same plain request is still a MISS
    assert http(mock_server, "POST", "/v1/chat/completions", body)[1]["x-cache"] == "MISS"


@pytest.mark.parametrize("header", ["explode", "disconnect", "stall_first=-1"])
def test_bad_fault_header_is_a_400(shared: MockServer, header: str) -> None:
    status, _, raw = http(shared, "POST", "/v1/chat/completions", chat_body(),
                          {"X-Mock-Fault": header})
    error = orjson.loads(raw)["error"]
    assert (status, error["param"], error["code"]) == (400, "X-Mock-Fault", "invalid_fault")


def test_profile_faults_are_seeded_and_counted(shared: MockServer, profiles_file: Path) -> None:
    first = [http(shared, "POST", "/v1/chat/completions",
                  chat_body("flaky", messages=[{"role": "user", "content": f"q{i}"}]))[0]
             for i in range(24)]
    # only requests to a model with faults draw, in arrival order, from Random("faults:SEED")
    rng, table = random.Random("faults:0"), load_profiles(profiles_file)["flaky"].faults
    assert first == [503 if draw_fault(table, rng) else 200 for _ in range(24)]
    assert set(first) == {200, 503}
    lines = metric_lines(shared)
    assert f'mock_faults_total{{kind="503",model="flaky"}} {first.count(503):.1f}' in lines
    assert f'mock_requests_total{{cache="-",model="flaky",status="503"}} {first.count(503):.1f}' \
        in lines


def test_auth_on(start: Callable[..., MockServer]) -> None:
    server = start("--api-key", "sk-test-secret")
    status, headers, raw = http(server, "POST", "/v1/chat/completions", chat_body())
    error = orjson.loads(raw)["error"]
    assert (status, error["code"], error["type"]) == (401, "missing_api_key",
                                                      "invalid_request_error")
    assert "bearer" in headers["www-authenticate"].lower()
    status, _, raw = http(server, "GET", "/v1/models", headers={"Authorization": "Bearer nope"})
    assert (status, orjson.loads(raw)["error"]["code"]) == (401, "invalid_api_key")
    assert b"nope" not in raw
    assert b"sk-test-secret" not in raw
    assert http(server, "GET", "/health")[0] == 200  # liveness probes need no key
    with openai.OpenAI(base_url=server.base_url, api_key="sk-test-secret", max_retries=0) as c:
        assert c.chat.completions.create(model="instant", messages=USER, max_tokens=2).choices
    with openai.OpenAI(base_url=server.base_url, api_key="wrong", max_retries=0) as c, \
            pytest.raises(openai.AuthenticationError):
        c.models.list()
    assert server.stop() == 0
    assert "sk-test-secret" not in server.log()


def test_auth_off_accepts_any_or_no_key(shared: MockServer) -> None:
    assert http(shared, "GET", "/v1/models")[0] == 200
    assert http(shared, "GET", "/v1/models", headers={"Authorization": "Bearer x"})[0] == 200


def test_batch_queue_and_queue_limit(shared: MockServer) -> None:
    server = shared

    def one(i: int) -> tuple[int, float]:
        t0 = time.perf_counter()
        body = chat_body("batched", messages=[{"role": "user", "content": f"b{i}"}])
        status = http(server, "POST", "/v1/chat/completions", body)[0]
        return status, time.perf_counter() - t0

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(one, i) for i in range(4)]
        deadline = time.monotonic() + 10
        while 'mock_queue_depth{model="batched"} 1.0' not in (lines := metric_lines(server)):
            assert time.monotonic() < deadline, lines
            time.sleep(0.02)
        assert 'mock_batch_active{model="batched"} 2.0' in lines
        results = [f.result() for f in futures]
    statuses = sorted(s for s, _ in results)
    assert statuses == [200, 200, 200, 429]  # 2 in the batch, 1 queued, 1 refused
    served = sorted(t for s, t in results if s == 200)
    assert served[-1] >= 2.0  # the queued one waited for a slot (1.2 s), then its own 1.2 s TTFT
    lines = metric_lines(server)
    assert 'mock_queue_depth{model="batched"} 0.0' in lines
    assert 'mock_batch_active{model="batched"} 0.0' in lines


def test_rpm_limit_answers_429_with_openai_headers(shared: MockServer) -> None:
    server = shared
    got = [http(server, "POST", "/v1/chat/completions",
                chat_body("limited", messages=[{"role": "user", "content": f"r{i}"}]))
           for i in range(3)]
    assert [s for s, _, _ in got] == [200, 200, 429]
    ok_headers, (_, headers, raw) = got[1][1], got[2]
    assert ok_headers["x-ratelimit-limit-requests"] == "2"
    assert ok_headers["x-ratelimit-remaining-requests"] == "0"
    assert int(headers["retry-after"]) >= 1
    assert int(headers["retry-after-ms"]) > 0
    assert headers["x-ratelimit-limit-tokens"] == "100000"
    assert orjson.loads(raw)["error"]["code"] == "rate_limit_exceeded"


def test_completions_embeddings_and_engine_chat(shared: MockServer) -> None:
    server = shared
    with openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0) as client:
        raw = client.completions.with_raw_response.create(model="instant", prompt="Once upon",
                                                          max_tokens=5)
        plain = raw.parse()
        assert raw.headers["x-cache"] == "MISS"
        assert plain.object == "text_completion"
        assert plain.usage is not None
        assert plain.usage.prompt_tokens == 2
        with client.completions.create(model="instant", prompt="Once upon", max_tokens=5,
                                       stream=True) as stream:
            streamed = "".join(c.choices[0].text for c in stream if c.choices)
        assert streamed == plain.choices[0].text
        assert len(streamed) > 0
        emb = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
        assert len(emb.data) == 2
        assert len(emb.data[0].embedding) == 1536
        assert abs(sum(x * x for x in emb.data[0].embedding) - 1) < 1e-4
    body = {"message": "How do I reset my password?", "user_level": "new"}
    replies = [http(server, "POST", "/api/chat", {**body, "session_id": sid}) for sid in ("s-9", "t")]
    (s1, h1, r1), (s2, h2, r2) = replies
    a, b = orjson.loads(r1), orjson.loads(r2)
    assert (s1, s2, h1["x-cache"], h2["x-cache"]) == (200, 200, "MISS", "HIT")
    assert (a["cached"], b["cached"], a["model"], a["session_id"]) == (False, True, "paced", "s-9")
    assert a["response"] == b["response"]
    assert a["usage"]["prompt_tokens"] == \
        b["usage"]["prompt_tokens_details"]["cached_tokens"] == b["usage"]["prompt_tokens"]
    status, _, raw = http(server, "POST", "/api/chat", {"session_id": "s"})
    assert (status, orjson.loads(raw)["error"]["param"]) == (400, "message")


def test_engine_chat_session_grows_and_streams(shared: MockServer) -> None:
    """The conversation grows (prompt_tokens rise turn by turn, the cache key stays the
    question's); ``stream: true`` sends ``data: {"response", "session_id"}`` events then [DONE]."""
    sid = f"grow-{time.time_ns()}"
    turns = [orjson.loads(http(server, "POST", "/api/chat", {"message": q, "session_id": sid})[2])
             for server, q in ((shared, "First question?"), (shared, "Second question?"))]
    first, second = turns
    grown = count_chat_tokens([{"role": "user", "content": "First question?"},
                               {"role": "assistant", "content": first["response"]},
                               {"role": "user", "content": "Second question?"}], "gpt-4o")
    assert second["usage"]["prompt_tokens"] == grown > first["usage"]["prompt_tokens"]
    status, headers, raw = http(shared, "POST", "/api/chat",
                                {"message": "First question?", "session_id": sid, "stream": True})
    events = raw.split(b"\n\n")
    assert status == 200
    assert headers["content-type"] == "text/event-stream"
    assert headers["x-cache"] == "HIT"
    assert events[-2:] == [b"data: [DONE]", b""]
    pieces = [orjson.loads(e[len(b"data: "):]) for e in events[:-2]]
    assert all(list(p) == ["response", "session_id"] and p["session_id"] == sid for p in pieces)
    assert "".join(p["response"] for p in pieces) == first["response"]
    assert len(pieces) > 1
    status, _, raw = http(shared, "POST", "/api/chat", {"message": "x", "session_id": sid,
                                                        "stream": "yes"})
    assert (status, orjson.loads(raw)["error"]["param"]) == (400, "stream")


def test_flush_stats_and_normalize_mode(start: Callable[..., MockServer]) -> None:
    server = start("--cache-mode", "normalize")
    loose = [{"role": "user", "content": "What  is a CACHE?"}]
    strict = [{"role": "user", "content": "what is a cache"}]
    seq = [http(server, "POST", "/v1/chat/completions", chat_body(messages=m))
           for m in (loose, strict)]
    assert [h["x-cache"] for _, h, _ in seq] == ["MISS", "HIT"]
    assert orjson.loads(seq[0][2])["choices"][0]["message"]["content"] == \
        orjson.loads(seq[1][2])["choices"][0]["message"]["content"]
    stats = orjson.loads(http(server, "GET", "/admin/cache/stats")[2])
    assert (stats["size"], stats["hits"], stats["misses"], stats["errors"]) == (1, 1, 1, 0)
    assert orjson.loads(http(server, "POST", "/admin/cache/flush")[2])["flushed"] == 1
    assert http(server, "POST", "/v1/chat/completions",
                chat_body(messages=strict))[1]["x-cache"] == "MISS"


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_ttl_expiry(start: Callable[..., MockServer], redis_server: RedisServer,
                    backend: str) -> None:
    server = start("--cache-ttl", "1.0", cache=redis_server.url if backend == "redis" else backend)
    body = chat_body(messages=[{"role": "user", "content": f"ttl {backend} {time.time_ns()}"}])
    first = [http(server, "POST", "/v1/chat/completions", body)[1]["x-cache"] for _ in range(2)]
    size = orjson.loads(http(server, "GET", "/admin/cache/stats")[2])["size"]
    assert size == 1 if backend == "memory" else size >= 1  # Redis: counted by SCAN (shared db)
    time.sleep(1.3)
    assert [*first, http(server, "POST", "/v1/chat/completions", body)[1]["x-cache"]] == \
        ["MISS", "HIT", "MISS"]


def test_metrics_are_exact_after_a_known_sequence(start: Callable[..., MockServer]) -> None:
    server = start()
    body = chat_body(max_tokens=3)
    for _ in range(2):
        http(server, "POST", "/v1/chat/completions", body)  # MISS then HIT
    http(server, "POST", "/v1/chat/completions", b"{nope")
    http(server, "POST", "/v1/chat/completions", body, {"X-Mock-Fault": "503"})
    lines = metric_lines(server)
    prompt = 2 * count_chat_tokens(USER, "gpt-4o")  # instant counts with o200k, like gpt-4o
    for needle in ('mock_requests_total{cache="miss",model="instant",status="200"} 1.0',
                   'mock_requests_total{cache="hit",model="instant",status="200"} 1.0',
                   'mock_requests_total{cache="-",model="-",status="400"} 1.0',
                   'mock_requests_total{cache="-",model="instant",status="503"} 1.0',
                   'mock_faults_total{kind="503",model="instant"} 1.0',
                   "mock_cache_hits_total 1.0", "mock_cache_misses_total 1.0",
                   "mock_cache_errors_total 0.0", 'mock_completion_tokens_total{model="instant"} 6.0',
                   f'mock_prompt_tokens_total{{model="instant"}} {prompt:.1f}',
                   'mock_e2e_seconds_count{cache="hit",model="instant"} 1.0',
                   "mock_in_flight_requests 0.0"):
        assert needle in lines, needle


def test_workers_share_one_port(start: Callable[..., MockServer]) -> None:
    server = start("--workers", "2", cache="none")
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda i: http(server, "POST", "/v1/chat/completions",
                                                chat_body())[0], range(16)))
    assert statuses == [200] * 16
    assert server.stop() == 0
