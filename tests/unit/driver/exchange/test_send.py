"""The exchange with a stand-in client (no sockets): what is sent, how answers of each target kind
are read and judged, the token cross-check sample, and what reaches Locust's stats; and the
geventhttpclient internals it reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from suite.driver.control.config import DriverConfig
from suite.driver.control.requestopts import RequestOptions
from suite.driver.exchange.measure import Measured
from suite.driver.exchange.record import _KIND_BY_CLASS_NAME
from suite.driver.exchange.redact import REDACTED
from suite.driver.exchange.send import Exchange, read_some
from suite.records import CorpusRequest
from suite.tokens import count_tokens


class Stream:
    """geventhttpclient's response stream: ``readline`` (waits), ``_body_buffer`` (received)."""

    def __init__(self, reads: list[bytes], cut: bool = False) -> None:
        self.reads, self.cut, self._body_buffer = list(reads), cut, bytearray()

    def readline(self, sep: bytes = b"\n") -> bytes:
        while b"\n" not in self._body_buffer:
            if not self.reads:
                if self.cut:
                    raise ConnectionResetError("peer reset")
                out = bytes(self._body_buffer)
                del self._body_buffer[:]
                return out
            self._body_buffer += self.reads.pop(0)
        end = self._body_buffer.index(b"\n") + 1
        out = bytes(self._body_buffer[:end])
        del self._body_buffer[:end]
        return out

    def read(self) -> bytes:
        out = bytes(self._body_buffer) + b"".join(self.reads)
        self.reads, self._body_buffer = [], bytearray()
        return out


class Response:
    def __init__(self, status: int, headers: dict[str, str], stream: Stream) -> None:
        self.status_code, self.stream, self.error = status, stream, None
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.request_meta: dict[str, Any] = {}
        self.outcome: str | None = None

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def success(self) -> None:
        self.outcome = "success"

    def failure(self, message: str) -> None:
        self.outcome = message


class Client:
    def __init__(self, response: Response) -> None:
        self.response = response
        self.sent: dict[str, Any] = {}

    def post(self, path: str, **kw: Any) -> Response:
        self.sent = {"path": path, **kw}
        return self.response


SSE = {"Content-Type": "text/event-stream"}


JSON = {"Content-Type": "application/json"}


REQ = CorpusRequest(id="r1", t=None, session="s1", turn=0, model="gpt-4o",
                    messages=[{"role": "user", "content": "hi"}], max_tokens=8, temperature=0.0,
                    stream=True, prompt_tokens=3, domain="d", intent="i", key="k")


def run(tmp: Path, response: Response, **opts: Any) -> tuple[Any, Client]:
    path = opts.pop("target_path", "/v1/chat/completions")
    config = DriverConfig(corpus=tmp / "c", out=tmp / "o", run_meta=tmp / "m", run_id="x",
                          target_path=path, api_key="sk-abcdef", request=RequestOptions(**opts))
    client = Client(response)
    return Exchange(config).send(client, REQ, 0.0), client


def chat_events(*pieces: str, done: bool = True) -> list[bytes]:
    out = [b'data: {"id":"c1","choices":[{"delta":{"content":' + orjson.dumps(p) + b'}}]}\n\n'
           for p in pieces]
    return [*out, b"data: [DONE]\n\n"] if done else out


def headers(**kw: str):  # the client reports header names case-insensitively: lower-case here
    lower = {k.lower().replace("_", "-"): v for k, v in kw.items()}
    return lower.get


def req(i: int) -> CorpusRequest:
    return CorpusRequest(id=f"q{i:05d}", t=None, session="s", turn=0, model="gpt-4o",
                         messages=[{"role": "user", "content": "hi"}], max_tokens=8,
                         temperature=0.0, stream=True, prompt_tokens=3, domain="d", intent="i",
                         key="k")


def exchange(tmp: Path, api_key: str | None = None, **kw) -> Exchange:
    return Exchange(DriverConfig(corpus=tmp / "c", out=tmp / "o", run_meta=tmp / "m", run_id="r",
                                 api_key=api_key, request=RequestOptions(**kw)))


def measured(text: str = "Hello there") -> Measured:
    return Measured(ok=True, status=200, e2e=0.1, completion_tokens=99, tokens_source="usage",
                    text=text)


def test_a_streamed_chat_answer(tmp_path: Path) -> None:
    resp = Response(200, {**SSE, "X-Cache": "HIT"}, Stream(chat_events("Hel", "lo")))
    m, client = run(tmp_path, resp)
    assert m.ok
    assert m.text == "Hello"
    assert m.chunks == 2
    assert m.cache == "hit"
    assert m.response_id == "c1"
    assert resp.outcome == "success"
    assert client.sent["path"] == "/v1/chat/completions"
    assert client.sent["headers"]["X-Request-Id"] == "r1"
    assert client.sent["headers"]["Authorization"] == "Bearer sk-abcdef"
    assert resp.request_meta["response_time"] == pytest.approx(m.e2e * 1000)


def test_events_split_across_reads(tmp_path: Path) -> None:
    raw = b"".join(chat_events("a", "b", "c"))
    m, _ = run(tmp_path, Response(200, SSE, Stream([raw[i:i + 7] for i in range(0, len(raw), 7)])))
    assert m.ok
    assert m.text == "abc"
    assert m.chunks == 3


def test_a_cut_stream_is_incomplete_and_keeps_what_came(tmp_path: Path) -> None:
    resp = Response(200, SSE, Stream(chat_events("a", "b", done=False), cut=True))
    m, _ = run(tmp_path, resp)
    assert not m.ok
    assert m.error["kind"] == "stream_incomplete"
    assert m.chunks == 2
    assert resp.outcome.startswith("stream_incomplete: connection lost after 2 content chunk(s)")


def test_an_engine_stream_ending_cleanly_without_done(tmp_path: Path) -> None:
    events = [b'data: {"response": "Hi", "session_id": "s1"}\n\n',
              b'data: {"response": " you", "session_id": "s1"}\n\n']
    resp = Response(200, {**SSE, "X-Request-Id": "r1"}, Stream(events))
    m, client = run(tmp_path, resp, kind="engine", target_path="/api/chat")
    assert m.ok
    assert m.text == "Hi you"
    assert m.tokens_source == "tiktoken"
    assert m.response_id == "r1"  # no id in the events: the target's echoed request id
    assert orjson.loads(client.sent["data"]) == {"message": "hi", "session_id": "s1", "stream": True}


def test_a_json_engine_answer_with_a_json_cache_field(tmp_path: Path) -> None:
    body = orjson.dumps({"response": "Hello", "response_id": "e9", "cached": True,
                         "usage": {"prompt_tokens": 3, "completion_tokens": 1}})
    m, _ = run(tmp_path, Response(200, JSON, Stream([body])), kind="engine",
               target_path="/api/chat")
    assert m.ok
    assert m.response_id == "e9"
    assert m.cache == "hit"
    assert m.chunks is None


def test_a_content_check_failure_reaches_locust(tmp_path: Path) -> None:
    resp = Response(200, SSE, Stream(chat_events("the codename is Falcon")))
    m, _ = run(tmp_path, resp, forbid=("falcon",))
    assert not m.ok
    assert m.error == {'kind': 'content', 'message': "forbidden term 'falcon' in the response"}
    assert resp.outcome == "content: forbidden term 'falcon' in the response"


def test_an_error_that_echoes_the_key_is_redacted(tmp_path: Path) -> None:
    body = b'{"error": {"message": "Incorrect API key provided: sk-abcdef"}}'
    resp = Response(401, {**JSON, "X-Request-Id": "gw-7"}, Stream([body]))
    m, _ = run(tmp_path, resp)
    assert m.error == {"kind": "http_401", "message": "Incorrect API key provided: [redacted]"}
    assert "sk-abcdef" not in resp.outcome
    assert m.response_id == "gw-7"


def test_read_some_takes_what_is_buffered_without_waiting() -> None:
    stream = Stream([])
    stream._body_buffer += b"data: a\n\ndata: b"
    assert read_some(stream) == b"data: a\n\ndata: b"
    stream = Stream([b"data: c\n", b"\n"])
    assert read_some(stream) == b"data: c\n"


def test_the_sparse_cookie_jar_still_keeps_and_sends_cookies() -> None:
    """It skips the stdlib jar's work only when that work would do nothing."""
    import urllib.request
    from http.client import HTTPMessage

    from suite.driver.exchange.send import SparseCookieJar

    class Answer:
        def __init__(self, **headers: str) -> None:
            self.headers = HTTPMessage()
            for name, value in headers.items():
                self.headers[name.replace("_", "-")] = value

        def info(self) -> HTTPMessage:
            return self.headers

    jar, url = SparseCookieJar(), "http://127.0.0.1:8000/v1/chat/completions"
    first = urllib.request.Request(url)
    jar.add_cookie_header(first)
    jar.extract_cookies(Answer(Content_Type="text/event-stream"), first)
    assert not first.has_header("Cookie")
    assert len(jar) == 0
    jar.extract_cookies(Answer(Set_Cookie="route=b7; Path=/"), first)
    second = urllib.request.Request(url)
    jar.add_cookie_header(second)
    assert second.get_header("Cookie") == "route=b7"
    assert len(jar) == 1


def test_a_failed_content_check_is_a_content_failure(tmp_path: Path) -> None:
    m = exchange(tmp_path, forbid=("there",)).finalize(measured(), req(1))
    assert not m.ok
    assert m.error == {'kind': 'content', 'message': "forbidden term 'there' in the response"}


def test_token_cross_check_is_a_deterministic_sample(tmp_path: Path) -> None:
    ex = exchange(tmp_path, token_check_sample=0.1)
    counted = [i for i in range(2000) if ex.finalize(measured(), req(i)).completion_tokens_tiktoken]
    assert 140 <= len(counted) <= 260  # ~10 %
    assert counted == [i for i in range(2000) if ex.sampled(req(i).id)]  # same ids every time
    m = ex.finalize(measured(), req(counted[0]))
    assert m.completion_tokens_tiktoken == count_tokens("Hello there", "gpt-4o")
    assert m.completion_tokens == 99  # usage stays the count of record


def test_no_cross_check_without_usage_or_with_sample_zero(tmp_path: Path) -> None:
    everything = exchange(tmp_path, token_check_sample=1.0)
    m = measured()
    m.tokens_source = "tiktoken"
    assert everything.finalize(m, req(1)).completion_tokens_tiktoken is None
    nothing = exchange(tmp_path, token_check_sample=0.0)
    assert all(nothing.finalize(measured(), req(i)).completion_tokens_tiktoken is None
               for i in range(200))


def test_request_headers_carry_the_id_and_the_key(tmp_path: Path) -> None:
    ex = exchange(tmp_path, api_key="sk-live-1", headers=(("X-Team", "blue"),))
    h = ex.request_headers(req(3))
    assert h["X-Request-Id"] == "q00003"
    assert h["Authorization"] == "Bearer sk-live-1"
    assert h["X-Team"] == "blue"
    assert h["Accept"] == "text/event-stream"
    azure = exchange(tmp_path, api_key="k-2", api_key_header="api-key", request_id_header="X-Corr")
    h = azure.request_headers(req(4))
    assert h["api-key"] == "k-2"
    assert "Authorization" not in h
    assert h["X-Corr"] == "q00004"
    assert "X-Request-Id" not in exchange(tmp_path, request_id_header=None).request_headers(req(5))


def test_failures_never_carry_the_key(tmp_path: Path) -> None:
    ex = exchange(tmp_path, api_key="sk-live-1")
    m = Measured(status=401, error={"kind": "http_401", "message": "Incorrect API key sk-live-1"})
    assert ex.finalize(m, req(1)).error["message"] == f"Incorrect API key {REDACTED}"


def test_the_geventhttpclient_internals_the_driver_reads_still_exist() -> None:
    """send.read_some reads HTTPResponse._body_buffer (it would silently fall back to a Python call
    per SSE line without it); tune_client sets UserAgent.clientpool.client_args["block_size"];
    record.classify_exception matches exception classes by name and reads ``original``. In a
    subprocess: importing geventhttpclient imports gevent, which this test process must not."""
    code = """
import inspect
from geventhttpclient.client import HTTPClient, HTTPClientPool
from geventhttpclient.response import (
    HTTPConnectionClosed, HTTPParseError, HTTPProtocolViolationError, HTTPResponse,
    HTTPSocketPoolResponse)
from geventhttpclient.useragent import RetriesExceeded, UserAgent
from gevent import GreenletExit, Timeout

assert type(HTTPResponse()._body_buffer) is bytearray, "HTTPResponse._body_buffer"
assert issubclass(HTTPSocketPoolResponse, HTTPResponse), "the streamed response is an HTTPResponse"
assert callable(HTTPSocketPoolResponse.readline), "HTTPSocketPoolResponse.readline"
ua = UserAgent()
assert isinstance(ua.clientpool, HTTPClientPool), "UserAgent.clientpool"
assert isinstance(ua.clientpool.client_args, dict), "HTTPClientPool.client_args"
assert "block_size" in inspect.signature(HTTPClient.__init__).parameters, "HTTPClient(block_size=)"
assert "valid_response_codes" in vars(UserAgent), "UserAgent.valid_response_codes"
assert RetriesExceeded("u", 1, original=TimeoutError()).original is not None, "RetriesExceeded.original"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
    for name in ("GreenletExit", "Timeout", "HTTPConnectionClosed", "HTTPParseError",
                 "HTTPProtocolViolationError"):
        assert name in _KIND_BY_CLASS_NAME  # the names the subprocess just imported


def test_a_presence_rule_gives_an_error_answer_no_verdict(tmp_path: Path) -> None:
    """A 400 without the hit header is neither hit nor miss; one that carries it still says hit,
    and a 200 without it is a miss."""
    rule = "present:x-litellm-cache-key"
    err = b'{"error": {"message": "bad request"}}'
    m, _ = run(tmp_path, Response(400, JSON, Stream([err])), cache_detect=rule)
    assert not m.ok and m.cache is None and m.cache_headers is None
    m, _ = run(tmp_path, Response(400, {**JSON, "x-litellm-cache-key": "k"}, Stream([err])),
               cache_detect=rule)
    assert m.cache == "hit" and m.cache_headers == {"x-litellm-cache-key": "k"}
    m, _ = run(tmp_path, Response(200, SSE, Stream(chat_events("hi"))), cache_detect=rule)
    assert m.ok and m.cache == "miss"
