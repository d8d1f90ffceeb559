"""The exchange's own CPU, in process (helper of bench_driver.py): no network, no Locust.

A stand-in for the FastHttpUser client returns canned answers shaped like geventhttpclient's
(``stream.readline`` then the rest of the socket read in ``_body_buffer``), so what is timed is
exactly the driver's code per request: build the body and headers, read, parse SSE, measure,
build one record and write it. CPU time (``time.process_time``), best of 7: contention on a
shared machine slows a run but does not add CPU to it.
"""

from __future__ import annotations

import time
import timeit
from pathlib import Path
from typing import Any

import orjson

from suite.driver.control.config import DriverConfig
from suite.driver.exchange.record import build_record
from suite.driver.exchange.send import Exchange
from suite.driver.inlocust.sink import BatchWriter
from suite.records import CorpusRequest

TOKENS = 16


def _event(obj: object) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def sse_answer() -> bytes:
    """An OpenAI-style stream: role, 16 tokens, finish, usage, [DONE] (20 events)."""
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _event({"id": "c1", "object": "chat.completion.chunk", "model": "instant",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    usage = {"prompt_tokens": 9, "completion_tokens": TOKENS, "prompt_tokens_details": {"cached_tokens": 0}}
    return (chunk({"role": "assistant", "content": ""})
            + b"".join(chunk({"content": f" t{i}"}) for i in range(TOKENS)) + chunk({}, "stop")
            + _event({"id": "c1", "choices": [], "usage": usage}) + b"data: [DONE]\n\n")


def json_answer() -> bytes:
    return orjson.dumps({"id": "c1", "object": "chat.completion", "model": "instant",
                        "choices": [{"index": 0, "message": {"role": "assistant",
                                                             "content": " t" * TOKENS},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 9, "completion_tokens": TOKENS}, "cached": False})


class _Stream:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self._body_buffer = data, 0, bytearray()

    def readline(self, sep: bytes = b"\n") -> bytes:
        end = self.data.find(b"\n", self.pos)
        end = len(self.data) if end < 0 else end + 1
        out, self.pos = self.data[self.pos:end], end
        if self.pos < len(self.data) and not self._body_buffer:  # the rest of the socket read
            self._body_buffer += self.data[self.pos:]
            self.pos = len(self.data)
        return out

    def read(self) -> bytes:
        out, self.pos = self.data[self.pos:], len(self.data)
        return out


class _Response:
    def __init__(self, data: bytes, content_type: str) -> None:
        self.stream, self.status_code, self.error = _Stream(data), 200, None
        self.headers = {"content-type": content_type, "x-cache": "MISS"}
        self.request_meta: dict[str, Any] = {}

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def success(self) -> None:
        return None

    def failure(self, message: str) -> None:
        return None


class _Client:
    def __init__(self, stream: bool) -> None:
        self.answer = (sse_answer(), "text/event-stream") if stream else (json_answer(), "application/json")

    def post(self, path: str, **_: Any) -> _Response:
        return _Response(*self.answer)


def exchange_cpu_us(workdir: Path, n: int) -> tuple[float, float]:
    """CPU µs per request: (non-streamed, streamed)."""
    config = DriverConfig(corpus=workdir / "c", out=workdir / "o", run_meta=workdir / "m", run_id="b")
    ex = Exchange(config)
    writer = BatchWriter(workdir / "inprocess.jsonl")
    out = []
    for stream in (False, True):
        client = _Client(stream)
        req = CorpusRequest(id="q1", t=None, session="s", turn=0, model="gpt-4o",
                            messages=[{"role": "user", "content": "hi"}], max_tokens=16,
                            temperature=0.0, stream=stream, prompt_tokens=9, domain="b",
                            intent="b", key="k")

        def one(client: _Client = client, req: CorpusRequest = req) -> None:
            m = ex.send(client, req, time.perf_counter())
            writer.write(build_record(req, m, target="t", worker="w", user=0, t_start=0.0))

        timer = timeit.Timer(one, timer=time.process_time)
        out.append(min(timer.repeat(number=n, repeat=7)) / n * 1e6)
    writer.close()
    return out[0], out[1]
