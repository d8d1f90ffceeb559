"""The exchange end to end with a stand-in client (no sockets): what is sent, how answers of each
target kind are read and judged, and what reaches Locust's stats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from suite.driver.config import DriverConfig
from suite.driver.exchange import Exchange, read_some
from suite.driver.requestopts import RequestOptions
from suite.records import CorpusRequest


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


def test_a_streamed_chat_answer(tmp_path: Path) -> None:
    resp = Response(200, {**SSE, "X-Cache": "HIT"}, Stream(chat_events("Hel", "lo")))
    m, client = run(tmp_path, resp)
    assert m.ok and m.text == "Hello" and m.chunks == 2 and m.cache == "hit"
    assert m.response_id == "c1" and resp.outcome == "success"
    assert client.sent["path"] == "/v1/chat/completions"
    assert client.sent["headers"]["X-Request-Id"] == "r1"
    assert client.sent["headers"]["Authorization"] == "Bearer sk-abcdef"
    assert resp.request_meta["response_time"] == pytest.approx(m.e2e * 1000)


def test_events_split_across_reads(tmp_path: Path) -> None:
    raw = b"".join(chat_events("a", "b", "c"))
    m, _ = run(tmp_path, Response(200, SSE, Stream([raw[i:i + 7] for i in range(0, len(raw), 7)])))
    assert m.ok and m.text == "abc" and m.chunks == 3


def test_a_cut_stream_is_incomplete_and_keeps_what_came(tmp_path: Path) -> None:
    resp = Response(200, SSE, Stream(chat_events("a", "b", done=False), cut=True))
    m, _ = run(tmp_path, resp)
    assert not m.ok and m.error["kind"] == "stream_incomplete" and m.chunks == 2
    assert resp.outcome.startswith("stream_incomplete: connection lost after 2 content chunk(s)")


def test_an_engine_stream_ending_cleanly_without_done(tmp_path: Path) -> None:
    events = [b'data: {"response": "Hi", "session_id": "s1"}\n\n',
              b'data: {"response": " you", "session_id": "s1"}\n\n']
    resp = Response(200, {**SSE, "X-Request-Id": "r1"}, Stream(events))
    m, client = run(tmp_path, resp, kind="engine", target_path="/api/chat")
    assert m.ok and m.text == "Hi you" and m.tokens_source == "tiktoken"
    assert m.response_id == "r1"  # no id in the events: the target's echoed request id
    assert orjson.loads(client.sent["data"]) == {"message": "hi", "session_id": "s1", "stream": True}


def test_a_json_engine_answer_with_a_json_cache_field(tmp_path: Path) -> None:
    body = orjson.dumps({"response": "Hello", "response_id": "e9", "cached": True,
                         "usage": {"prompt_tokens": 3, "completion_tokens": 1}})
    m, _ = run(tmp_path, Response(200, JSON, Stream([body])), kind="engine",
               target_path="/api/chat")
    assert m.ok and m.response_id == "e9" and m.cache == "hit" and m.chunks is None


def test_a_content_check_failure_reaches_locust(tmp_path: Path) -> None:
    resp = Response(200, SSE, Stream(chat_events("the codename is Falcon")))
    m, _ = run(tmp_path, resp, forbid=("falcon",))
    assert not m.ok and m.error == {"kind": "content",
                                    "message": "forbidden term 'falcon' in the response"}
    assert resp.outcome == "content: forbidden term 'falcon' in the response"


def test_an_error_that_echoes_the_key_is_redacted(tmp_path: Path) -> None:
    body = b'{"error": {"message": "Incorrect API key provided: sk-abcdef"}}'
    resp = Response(401, {**JSON, "X-Request-Id": "gw-7"}, Stream([body]))
    m, _ = run(tmp_path, resp)
    assert m.error == {"kind": "http_401", "message": "Incorrect API key provided: [redacted]"}
    assert "sk-abcdef" not in resp.outcome and m.response_id == "gw-7"


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

    from suite.driver.exchange import SparseCookieJar

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
    assert not first.has_header("Cookie") and len(jar) == 0
    jar.extract_cookies(Answer(Set_Cookie="route=b7; Path=/"), first)
    second = urllib.request.Request(url)
    jar.add_cookie_header(second)
    assert second.get_header("Cookie") == "route=b7" and len(jar) == 1
