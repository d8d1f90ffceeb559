"""protocol.py: the private parts of aiohttp it relies on, and its pure pieces."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.web_protocol import RequestHandler

from mock_server.protocol import GuardedHandler, raw_response, timeout_error


def test_the_private_aiohttp_attributes_it_reads_still_exist() -> None:
    """GuardedHandler reads these RequestHandler slots; an aiohttp upgrade that renames one must
    fail here, not silently disable the header timeout."""
    for name in ("_request_in_progress", "_messages", "_request_count", "_close", "_force_close",
                 "_keepalive_timeout", "_next_keepalive_close_time"):
        assert name in RequestHandler.__slots__, name
    assert "_loop" in BaseProtocol.__slots__
    assert issubclass(GuardedHandler, RequestHandler)


def test_the_raw_408_is_a_complete_closing_response_in_openai_shape() -> None:
    raw = raw_response(timeout_error("headers", 2.5))
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 408 Request Timeout"
    assert b"Connection: close" in head and b"Content-Length: %d" % len(body) in head
    assert orjson.loads(body) == {"error": {
        "message": "request headers not received within 2.5 s (--read-timeout); send the whole "
                   "request without pausing.",
        "type": "invalid_request_error", "param": None, "code": "request_timeout"}}


HEALTH = b"GET /health HTTP/1.1\r\nHost: x\r\n"


class FakeTransport(asyncio.Transport):
    """Keeps what the protocol writes; the protocol is driven by hand, with no socket."""

    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.closed = False

    def write(self, data: Any) -> None:
        self.out += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def feed(packets: list[bytes], health_body: Any = lambda: b'{"status":"ok"}',
         paused: bool = False) -> tuple[bytes, int, bool]:
    """Feed ``packets`` to a fresh GuardedHandler with no await in between (so no aiohttp
    handler task can run): what it wrote itself, how many requests it queued for aiohttp, and
    whether it closed the transport."""

    async def run() -> tuple[bytes, int, bool]:
        async def routed(request: web.BaseRequest) -> web.Response:
            return web.Response(text="routed")

        handler = GuardedHandler(web.Server(routed), loop=asyncio.get_running_loop(),
                                 read_timeout_s=5.0, health_body=health_body)
        transport = FakeTransport()
        handler.connection_made(transport)
        if paused:
            handler.pause_writing()
        for packet in packets:
            handler.data_received(packet)
        found = bytes(transport.out), len(handler._messages), transport.closed
        await asyncio.sleep(0)  # let aiohttp's start() task begin before the connection ends
        handler.connection_lost(None)
        await asyncio.sleep(0)
        return found

    return asyncio.run(run())


def test_a_plain_health_request_is_answered_inside_data_received() -> None:
    written, queued, closed = feed([HEALTH + b"X-Request-Id: r-1\r\n\r\n"])
    head, _, body = written.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[:4] == [b"HTTP/1.1 200 OK", b"Content-Type: application/json",
                         b"X-Request-Id: r-1", b"Content-Length: 15"]
    assert [line.split(b":")[0] for line in lines[4:]] == [b"Date", b"Server"]
    assert (body, queued, closed) == (b'{"status":"ok"}', 0, False)


def test_connection_close_is_answered_and_closes() -> None:
    written, queued, closed = feed([HEALTH + b"connection:  Close \r\n\r\n"])
    assert b"\r\nConnection: close\r\n\r\n" in written and (queued, closed) == (0, True)


def test_repeated_probes_on_one_connection_are_all_direct() -> None:
    written, queued, _ = feed([HEALTH + b"\r\n"] * 3)
    assert (written.count(b"HTTP/1.1 200 OK"), queued) == (3, 0)


@pytest.mark.parametrize("packets", [
    [HEALTH, b"\r\n"],  # split across packets
    [HEALTH + b"\r\n" + HEALTH + b"\r\n"],  # pipelined
    [HEALTH + b"Content-Length: 2\r\n\r\n{}"],  # a body
    [HEALTH + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
    [HEALTH + b"Expect: 100-continue\r\n\r\n"],  # no body yet, but one announced
    [HEALTH + b"Connection: upgrade\r\nUpgrade: websocket\r\n\r\n"],
    [HEALTH + b"X-Name: caf\xc3\xa9\r\n\r\n"],  # not ASCII
    [b"GET /health HTTP/1.0\r\n\r\n"],
    [b"GET /health?x=1 HTTP/1.1\r\n\r\n"],
    [b"GET /v1/models HTTP/1.1\r\n\r\n", HEALTH + b"\r\n"],  # after a routed request
])
def test_anything_but_the_plain_case_goes_to_aiohttp(packets: list[bytes]) -> None:
    written, queued, _ = feed(packets)
    assert written == b"" and queued >= 1


def test_without_a_health_body_every_probe_is_routed() -> None:
    written, queued, _ = feed([HEALTH + b"\r\n"], health_body=None)
    assert (written, queued) == (b"", 1)


def test_a_client_that_does_not_read_gets_aiohttps_back_pressure() -> None:
    written, queued, _ = feed([HEALTH + b"\r\n"], paused=True)
    assert (written, queued) == (b"", 1)
