"""The target health check's messages and its 1-token probe (no sockets)."""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest

from suite.driver.control.health import hint, unreachable_message
from suite.driver.control.requestopts import RequestOptions
from tests.unit.driver.exchange.test_send import req


@pytest.mark.parametrize("url, status, body, want", [
    ("http://t/p", 200, b"{}", None),
    ("http://t/p", 429, b"slow down", None),  # alive, throttled: the run may start
    ("http://t/p", 503, b"", None),  # there but failing: the run measures it (--max-error-ratio)
    ("http://t/p", 401, b'{"error": {"message": "Invalid key"}}',
     "target http://t/p refused the credentials of a 1-token test request for model 'gpt-4o' "
     "(HTTP 401: Invalid key). Check the key (--api-key-env NAME naming the variable that holds "
     "it; by default LLMSUITE_API_KEY, then OPENAI_API_KEY) and the header carrying it "
     "(--api-key-header, now 'X-Key'; or --header)."),
    ("http://t/p", 404, b'{"error": {"message": "The model \'gpt-4o\' does not exist"}}',
     "target http://t/p answered a 1-token test request for model 'gpt-4o' with HTTP 404: The "
     "model 'gpt-4o' does not exist. Check that the target serves that model (the corpus asks for "
     "it), --target-path and --target-kind (this run is 'engine')."),
    ("http://t/v1/v1/chat/completions", 404, b"Not Found",
     "target http://t/v1/v1/chat/completions answered a 1-token test request for model 'gpt-4o' "
     "with HTTP 404: Not Found. The URL has /v1 twice: drop /v1 from --target (give the base URL, "
     "e.g. http://host:8000)."),
    ("http://t/p", 422, b'{"detail": "x"}', "target http://t/p rejected a 1-token test request for "
                                            "model 'gpt-4o' (HTTP 422: {\"detail\": \"x\"}). Check "
                                            "--target-kind 'engine' and, for an engine, "
                                            "--engine-template."),
])
def test_probe_problem(url: str, status: int, body: bytes, want: str | None) -> None:
    from suite.driver.control.health import probe_problem

    assert probe_problem(url, status, body, "engine", "gpt-4o", "X-Key") == want


def test_one_probe_per_model_of_the_corpus_in_corpus_order() -> None:
    from suite.driver.control.health import health_probes

    corpus = [replace(req(i), model=m) for i, m in enumerate(["b-model", "a-model", "b-model"])]
    probes = health_probes(RequestOptions(), "/v1/chat/completions", None, corpus)
    assert [p.model for p in probes] == ["b-model", "a-model"]
    assert [orjson.loads(p.body)["model"] for p in probes] == ["b-model", "a-model"]


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


KEY_HINT = "Check the key (--api-key-env NAME"


@pytest.mark.parametrize("status, body", [
    (403, b"Forbidden"),
    (400, b'{"error": {"message": "Authentication Error, Invalid proxy server token passed"}}'),  # LiteLLM
    (400, b'{"error": {"code": "invalid_api_key"}}'),
    (404, b'{"message": "No API key found in request"}'),  # Kong key-auth
    (400, b'{"error": "Unauthorized"}'),
    (404, b"Invalid API Key"),
])
def test_a_gateway_key_refusal_points_at_the_key_options(status: int, body: bytes) -> None:
    from suite.driver.control.health import probe_problem

    got = probe_problem("http://t/v1/chat/completions", status, body, "openai-chat", "gpt-4o")
    assert got is not None and KEY_HINT in got and "--api-key-header" in got
    assert "--target-kind" not in got


def test_the_double_v1_hint_stays_when_no_key_text() -> None:
    from suite.driver.control.health import probe_problem

    got = probe_problem("http://t/v1/v1/chat/completions", 404, b"Not Found", "openai-chat")
    assert got is not None and "drop /v1" in got and KEY_HINT not in got


def test_health_checks_send_the_run_headers_with_its_method(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-flight GET goes to --health-path with --health-method and the auth headers (a gateway
    that guards /health answers 500 or 401 without them); no socket: the opener is replaced."""
    from suite.driver.control import health

    seen: list[tuple[str, str, dict[str, str]]] = []

    class Resp:
        status = 200

        def __enter__(self) -> Resp:
            return self

        def __exit__(self, *a: object) -> None: ...

    class Opener:
        def open(self, request, timeout: float) -> Resp:  # noqa: ANN001
            seen.append((request.get_method(), request.full_url, dict(request.header_items())))
            return Resp()

    monkeypatch.setattr(health.urllib.request, "build_opener", lambda *a: Opener())
    status = health.check_target("http://gw:4000/", health_path="/health/liveliness", health_method="HEAD",
                                 headers={"Authorization": "Bearer sk-1", "X-Team": "blue"})
    assert status == 200
    method, url, headers = seen[0]
    assert (method, url) == ("HEAD", "http://gw:4000/health/liveliness")
    assert headers["Authorization"] == "Bearer sk-1" and headers["X-team"] == "blue"
