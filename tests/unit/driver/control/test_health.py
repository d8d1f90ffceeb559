"""The target health check's messages and its 1-token probe (no sockets)."""

from __future__ import annotations

import orjson
import pytest

from suite.driver.control.health import hint, unreachable_message
from suite.driver.control.requestopts import RequestOptions
from suite.records import CorpusRequest


def headers(**kw: str):  # the client reports header names case-insensitively: lower-case here
    lower = {k.lower().replace("_", "-"): v for k, v in kw.items()}
    return lower.get


def req(i: int) -> CorpusRequest:
    return CorpusRequest(id=f"q{i:05d}", t=None, session="s", turn=0, model="gpt-4o",
                         messages=[{"role": "user", "content": "hi"}], max_tokens=8,
                         temperature=0.0, stream=True, prompt_tokens=3, domain="d", intent="i",
                         key="k")


@pytest.mark.parametrize("status, body, want", [
    (200, b"{}", None),
    (429, b"slow down", None),  # alive, throttled: the run may start
    (401, b'{"error": {"message": "Invalid key"}}',
     "target http://t/p refused the credentials of a 1-token test request (HTTP 401: Invalid key). "
     "Check --api-key / LLMSUITE_API_KEY and --header."),
    (404, b"Not Found", "target http://t/p has no such endpoint (HTTP 404: Not Found). Check "
                        "--target-path and --target-kind (this run is 'engine')."),
    (422, b'{"detail": "x"}', "target http://t/p rejected a 1-token test request (HTTP 422: "
                              "{\"detail\": \"x\"}). Check --target-kind 'engine' and, for an "
                              "engine, --engine-template."),
    (503, b"", "target http://t/p is unhealthy: a 1-token test request answered HTTP 503: "
               "(empty body)."),
])
def test_probe_problem(status: int, body: bytes, want: str | None) -> None:
    from suite.driver.control.health import probe_problem

    assert probe_problem("http://t/p", status, body, "engine") == want


def test_the_probe_never_sends_a_corpus_prompt() -> None:

    from suite.driver.control.health import PROBE_MESSAGE, health_probe

    probe = health_probe(RequestOptions(), "/v1/chat/completions", "k-123", req(1))
    body = orjson.loads(probe.body)
    assert body["messages"] == [{"role": "user", "content": PROBE_MESSAGE}]
    assert body["max_tokens"] == 1
    assert body["stream"] is False
    assert probe.headers["Authorization"] == "Bearer k-123"
    assert probe.secrets == ["k-123"]


def test_unreachable_message_word_for_word() -> None:
    assert unreachable_message("http://127.0.0.1:8000/health", "connection refused",
                               "http://127.0.0.1:8000") == (
        "cannot reach target http://127.0.0.1:8000/health (connection refused). Is the mock "
        "server running? Start it with: llmsuite mock --port 8000")
    assert hint("https://api.example.com") == (
        "Check the target URL and that the engine is running and reachable from here.")
