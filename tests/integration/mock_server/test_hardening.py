"""The mock under hostile clients — each case against a real server process on a port the OS chose,
observed with a raw socket (clients that leave mid-body or mid-stream, slow headers and bodies,
broken request lines) or a plain HTTP client (strict fault arguments, overload shedding).

What every case asserts besides its own answer: the server stays up (``/health`` answers), errors
come in OpenAI's JSON shape, and its log has no traceback.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.integration.conftest import MockServer, launch_mock_server

pytestmark = pytest.mark.integration
FAST = {"ttft_base_s": 0.0, "ttft_jitter_s": 0.0, "tokens_per_s": float("inf"),
        "output_tokens": {"median": 4, "spread": 0.0}, "encoding": "o200k_base"}
PROFILE_DOC = {"models": {
    "instant": FAST,
    "paced": {**FAST, "tokens_per_s": 20.0, "output_tokens": {"median": 40, "spread": 0.0}},
    "slow": {**FAST, "ttft_base_s": 1.5},
    "single": {**FAST, "ttft_base_s": 1.5, "max_in_flight": 1},
}}
READ_TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def profiles_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("profiles") / "models.yaml"
    path.write_text(yaml.safe_dump(PROFILE_DOC))
    return path


@pytest.fixture(scope="module")
def server(profiles_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    srv = launch_mock_server(tmp_path_factory.mktemp("hardening"), profiles=profiles_file,
                             extra_args=["--read-timeout", str(READ_TIMEOUT_S)])
    yield srv
    assert srv.stop() == 0
    assert "Traceback" not in srv.log()


def http(server: MockServer, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        raw = body if isinstance(body, bytes | None) else orjson.dumps(body)
        conn.request(method, path, body=raw, headers={"Content-Type": "application/json",
                                                      **(headers or {})})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def chat(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Say something."}], **extra}


def raw_exchange(server: MockServer, parts: list[bytes], pause_s: float = 0.0,
                 read: bool = True) -> bytes:
    """Send ``parts`` with ``pause_s`` between them, then read until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for i, part in enumerate(parts):
            if i and pause_s:
                time.sleep(pause_s)
            try:
                sock.sendall(part)
            except OSError:  # the server cut us off: read what it said
                break
        if not read:
            return b""
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
        return out


def split_response(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), orjson.loads(body)


def openai_error(body: dict[str, Any]) -> dict[str, Any]:
    """The error object, after checking it has exactly OpenAI's four fields."""
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def requests_counted(server: MockServer, status: str) -> int:
    """Sum of ``mock_requests_total`` samples with that status (any model, any cache label)."""
    _, _, text = http(server, "GET", "/metrics")
    pattern = re.compile(rf'^mock_requests_total\{{[^}}]*status="{status}"[^}}]*\}} ([0-9.e+]+)$',
                         re.M)
    return int(sum(float(v) for v in pattern.findall(text.decode())))


def healthy(server: MockServer) -> bool:
    return http(server, "GET", "/health")[0] == 200


def test_client_leaving_mid_body_is_499_not_500(server: MockServer) -> None:
    before_499, before_500 = requests_counted(server, "499"), requests_counted(server, "500")
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n")
    raw_exchange(server, [head, b'{"model": "instant", "mess'], pause_s=0.05, read=False)
    deadline = time.monotonic() + 5
    while requests_counted(server, "499") == before_499 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert requests_counted(server, "499") == before_499 + 1
    assert requests_counted(server, "500") == before_500
    assert healthy(server)
    assert "Traceback" not in server.log()


def test_client_leaving_mid_stream_is_499(server: MockServer) -> None:
    before = requests_counted(server, "499")
    body = orjson.dumps(chat("paced", stream=True))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        assert b"200 OK" in sock.recv(65536)  # headers and the first chunks: the stream is on
    deadline = time.monotonic() + 10  # 40 tokens at 20/s: the next writes fail within ~2 s
    while requests_counted(server, "499") == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert requests_counted(server, "499") == before + 1
    assert healthy(server)


def test_slow_headers_get_a_408_and_do_not_hold_the_server(server: MockServer) -> None:
    t0 = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(raw_exchange, server, [b"GET /health HTTP/1.1\r\n", b"Host: x\r\n",
                                                  b"X-A: 1\r\n", b"\r\n"], 2 * READ_TIMEOUT_S)
        assert healthy(server)  # answered while the slow client dribbles
        status, body = split_response(slow.result())
    assert (status, openai_error(body)["code"]) == (408, "request_timeout")
    assert "--read-timeout" in body["error"]["message"]
    assert time.monotonic() - t0 < 10 * READ_TIMEOUT_S + 5  # cut off, not served at its pace


def test_a_silent_connection_is_closed_with_a_408(server: MockServer) -> None:
    status, body = split_response(raw_exchange(server, []))
    assert (status, openai_error(body)["code"]) == (408, "request_timeout")


def test_slow_body_gets_a_408(server: MockServer) -> None:
    body = orjson.dumps(chat("instant"))
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    status, got = split_response(raw_exchange(server, [head, body[:5], body[5:]],
                                              pause_s=3 * READ_TIMEOUT_S))
    assert (status, openai_error(got)["code"]) == (408, "request_timeout")
    assert "body" in got["error"]["message"]


def test_headers_split_across_packets_in_time_are_served(server: MockServer) -> None:
    raw = raw_exchange(server, [b"GET /health HTTP/1.1\r\nHost: x\r\n",
                                b"Connection: close\r\n\r\n"], pause_s=READ_TIMEOUT_S / 5)
    assert raw.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\x01 / HTTP/1.1\r\nHost: x\r\n\r\n",  # bad method
    b"GET / HTTP/9.9x\r\nHost: x\r\n\r\n",  # bad version
    b"GET /health HTTP/1.1\r\nBad Header Line\r\n\r\n",  # header without a colon
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
])
def test_protocol_errors_are_openai_shaped_400s(server: MockServer, request_bytes: bytes) -> None:
    status, body = split_response(raw_exchange(server, [request_bytes]))
    error = openai_error(body)
    assert (status, error["type"]) == (400, "invalid_request_error")
    assert error["message"].startswith("invalid HTTP request: ")
    assert healthy(server)


@pytest.mark.parametrize("value", ["stall_first=1_0", "stall_first=inf", "stall_mid=nan",
                                   "stall_first=-1", "disconnect=1_0", "malformed=1e3"])
def test_fault_arguments_are_strict(server: MockServer, value: str) -> None:
    status, _, body = http(server, "POST", "/v1/chat/completions", chat("instant"),
                           {"X-Mock-Fault": value})
    error = openai_error(orjson.loads(body))
    assert (status, error["code"], error["param"]) == (400, "invalid_fault", "X-Mock-Fault")
    assert error["message"].startswith(f"X-Mock-Fault: {value}: ")


def concurrent_statuses(server: MockServer, model: str, n: int) -> list[tuple[int, dict[str, str],
                                                                              bytes]]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: http(server, "POST", "/v1/chat/completions", chat(model)),
                             range(n)))


def assert_shed(answers: list[tuple[int, dict[str, str], bytes]], served: int) -> None:
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] * served + [503] * (len(answers) - served)
    for status, headers, body in answers:
        if status == 503:
            assert headers["Retry-After"] == "1"
            error = openai_error(orjson.loads(body))
            assert (error["code"], error["type"]) == ("overloaded", "server_error")


def test_profile_max_in_flight_sheds_beyond_it(server: MockServer) -> None:
    with ThreadPoolExecutor(1) as pool:
        answers = pool.submit(concurrent_statuses, server, "single", 3)
        time.sleep(0.3)
        assert healthy(server)  # /health never waits behind the generations
        assert_shed(answers.result(), served=1)


def test_server_max_in_flight_sheds_beyond_it(
        mock_server_factory: Callable[..., MockServer], profiles_file: Path) -> None:
    srv = mock_server_factory(profiles=profiles_file, extra_args=["--max-in-flight", "2"])
    assert_shed(concurrent_statuses(srv, "slow", 4), served=2)
    assert http(srv, "POST", "/v1/chat/completions", chat("instant"))[0] == 200  # recovered
    assert "Traceback" not in srv.log()


def test_engine_history_is_capped_and_health_stays_up(
        mock_server_factory: Callable[..., MockServer], profiles_file: Path) -> None:
    """Turns of ~135 KB (~25k tokens): the session keeps what fits in its caps (256 KiB, 32,768
    tokens), so the prompt stops growing after the first turn."""
    srv = mock_server_factory(profiles=profiles_file, extra_args=["--engine-model", "instant"])
    prompts = []
    for i in range(4):
        message = f"turn {i}: " + "lorem ipsum dolor sit amet " * 5000
        status, _, body = http(srv, "POST", "/api/chat", {"message": message, "session_id": "s"})
        assert status == 200
        prompts.append(orjson.loads(body)["usage"]["prompt_tokens"])
        assert healthy(srv)
    # one turn fits under the caps, two do not: the prompt is one earlier turn + the new message
    assert prompts[1] > prompts[0]
    assert prompts[3] == prompts[2] == prompts[1]


def test_client_leaving_mid_body_of_an_embedding_is_499(server: MockServer) -> None:
    before_499, before_500 = requests_counted(server, "499"), requests_counted(server, "500")
    head = (b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n")
    raw_exchange(server, [head, b'{"input": "x'], pause_s=0.05, read=False)
    deadline = time.monotonic() + 5
    while requests_counted(server, "499") == before_499 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert requests_counted(server, "499") == before_499 + 1
    assert requests_counted(server, "500") == before_500
