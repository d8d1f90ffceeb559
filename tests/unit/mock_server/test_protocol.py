"""protocol.py: the private parts of aiohttp it relies on, and its pure pieces."""

from __future__ import annotations

import orjson
from aiohttp.web_protocol import RequestHandler

from mock_server.protocol import GuardedHandler, raw_response, timeout_error


def test_the_private_aiohttp_attributes_it_reads_still_exist() -> None:
    """GuardedHandler reads these RequestHandler slots; an aiohttp upgrade that renames one must
    fail here, not silently disable the header timeout."""
    for name in ("_request_in_progress", "_messages", "_request_count", "_close", "_force_close"):
        assert name in RequestHandler.__slots__, name
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
