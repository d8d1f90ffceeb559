"""``GET /health`` answered by the connection protocol itself (protocol.py) — byte for byte the
routed answer, on fresh and keep-alive connections, and everything that is not the plain case
(split across packets, pipelined, malformed, with a body) still goes the routed way.

How the two paths are told apart from outside: a request split across two packets can never take
the direct path (its first packet is not a whole header block), so it is the routed reference;
the same request in one packet on a fresh connection is the direct one.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.integration.conftest import MockServer, launch_mock_server

pytestmark = pytest.mark.integration
HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
DATE = re.compile(rb"\r\nDate: [^\r]+\r\n")
GENERATED_ID = re.compile(rb"\r\nX-Request-Id: mock-[0-9a-f]+-[0-9a-f]+\r\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    srv = launch_mock_server(tmp_path_factory.mktemp("health_direct"))
    yield srv
    assert srv.stop() == 0
    assert "Traceback" not in srv.log()


def read_response(sock: socket.socket, buffered: bytearray) -> bytes:
    """One whole response (head and Content-Length body) from ``sock``; bytes past it stay in
    ``buffered`` for the next call (pipelined answers)."""
    while b"\r\n\r\n" not in buffered:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed mid-response: {bytes(buffered)!r}")
        buffered += chunk
    head, _, _ = bytes(buffered).partition(b"\r\n\r\n")
    length = int(re.search(rb"\r\nContent-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
    end = len(head) + 4 + length
    while len(buffered) < end:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed mid-body: {bytes(buffered)!r}")
        buffered += chunk
    answer = bytes(buffered[:end])
    del buffered[:end]
    return answer


def exchange(server: MockServer, parts: list[bytes], answers: int = 1) -> list[bytes]:
    """Send ``parts`` (a pause between them, so each is its own packet) on a fresh connection and
    read ``answers`` responses."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i, part in enumerate(parts):
            if i:
                time.sleep(0.2)
            sock.sendall(part)
        buffered = bytearray()
        return [read_response(sock, buffered) for _ in range(answers)]


def same_but_date(raw: bytes) -> bytes:
    return DATE.sub(b"\r\nDate: D\r\n", raw)


def without_id(raw: bytes) -> bytes:
    """``raw`` with its Date and generated X-Request-Id masked (both differ from answer to answer)."""
    return GENERATED_ID.sub(b"\r\nX-Request-Id: G\r\n", same_but_date(raw))


def test_direct_answer_is_byte_for_byte_the_routed_one(server: MockServer) -> None:
    whole = HEALTH + b"X-Request-Id: probe-7\r\nAccept: */*\r\n\r\n"
    routed = exchange(server, [whole[:20], whole[20:]])[0]  # split: never the direct path
    direct = exchange(server, [whole])[0]
    assert same_but_date(direct) == same_but_date(routed)
    head, _, body = direct.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"X-Request-Id: probe-7\r\n")
    assert orjson.loads(body)["status"] == "ok"


def test_generated_request_ids_are_fresh_and_shaped_like_the_routed_ones(server: MockServer) -> None:
    routed = exchange(server, [HEALTH, b"\r\n"])[0]
    first, second = exchange(server, [HEALTH + b"\r\n"])[0], exchange(server, [HEALTH + b"\r\n"])[0]
    assert GENERATED_ID.search(routed) and GENERATED_ID.search(first) and GENERATED_ID.search(second)
    assert GENERATED_ID.search(first).group(0) != GENERATED_ID.search(second).group(0)  # type: ignore[union-attr]
    assert without_id(first) == without_id(routed)


def test_keep_alive_follow_ups_on_one_connection(server: MockServer) -> None:
    """Direct answers, then a routed request, then /health again: every answer framed right."""
    requests = [HEALTH + b"X-Request-Id: a\r\n\r\n", HEALTH + b"X-Request-Id: b\r\n\r\n",
                b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                HEALTH + b"X-Request-Id: c\r\n\r\n"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        buffered = bytearray()
        answers = []
        for req in requests:
            sock.sendall(req)
            answers.append(read_response(sock, buffered))
    assert [a.split(b"\r\n")[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 4
    assert [re.search(rb"X-Request-Id: (\S+)", a).group(1) for a in answers][::3] == [b"a", b"c"]  # type: ignore[union-attr]
    assert orjson.loads(answers[2].partition(b"\r\n\r\n")[2])["object"] == "list"
    assert orjson.loads(answers[3].partition(b"\r\n\r\n")[2])["status"] == "ok"
    assert buffered == b""


def test_pipelined_and_split_requests_are_all_answered(server: MockServer) -> None:
    two = HEALTH + b"X-Request-Id: p1\r\n\r\n" + HEALTH + b"X-Request-Id: p2\r\n\r\n"
    answers = exchange(server, [two], answers=2)
    assert [re.search(rb"X-Request-Id: (\S+)", a).group(1) for a in answers] == [b"p1", b"p2"]  # type: ignore[union-attr]
    split = exchange(server, [b"GET /hea", b"lth HTTP/1.1\r\nHost: x\r\n\r\n"])[0]
    assert split.startswith(b"HTTP/1.1 200 OK\r\n")


def test_connection_close_is_honoured(server: MockServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(HEALTH + b"Connection: close\r\n\r\n")
        buffered = bytearray()
        answer = read_response(sock, buffered)
        assert sock.recv(100) == b""  # the server closed after answering
    assert b"\r\nConnection: close\r\n" in answer
    routed = exchange(server, [HEALTH, b"Connection: close\r\n\r\n"])[0]
    assert without_id(answer) == without_id(routed)


@pytest.mark.parametrize("request_bytes", [
    HEALTH + b"Bad Name: x\r\n\r\n",  # a space in a header name
    HEALTH.replace(b"Host", b"Ho\x01st") + b"\r\n",
])
def test_malformed_health_requests_still_get_the_openai_shaped_400(server: MockServer,
                                                                  request_bytes: bytes) -> None:
    answer = exchange(server, [request_bytes])[0]
    assert re.match(rb"HTTP/1\.[01] 400 ", answer)
    assert orjson.loads(answer.partition(b"\r\n\r\n")[2])["error"]["type"] == "invalid_request_error"


def test_health_with_a_body_goes_the_routed_way(server: MockServer) -> None:
    """A Content-Length is not the plain case: aiohttp reads the body, and the next request on
    the connection is not mistaken for it."""
    answers = exchange(server, [HEALTH + b"Content-Length: 2\r\n\r\n{}" + HEALTH + b"\r\n"], answers=2)
    assert [a.split(b"\r\n")[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 2


def test_health_stays_open_with_an_api_key(tmp_path: Path) -> None:
    srv = launch_mock_server(tmp_path, extra_args=["--api-key", "sk-health-test"])
    try:
        direct = exchange(srv, [HEALTH + b"\r\n"])[0]
        models = exchange(srv, [b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"])[0]
    finally:
        assert srv.stop() == 0
    assert direct.startswith(b"HTTP/1.1 200 OK\r\n")
    assert models.startswith(b"HTTP/1.1 401 ")


def test_with_access_log_every_probe_is_routed_and_logged(tmp_path: Path) -> None:
    srv = launch_mock_server(tmp_path, extra_args=["--access-log", "--log-level", "info"])
    try:
        answer = exchange(srv, [HEALTH + b"X-Request-Id: logged\r\n\r\n"])[0]
        time.sleep(0.2)
        log = srv.log()
    finally:
        srv.stop()
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert "GET /health" in log
