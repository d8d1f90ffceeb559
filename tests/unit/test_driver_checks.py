"""Cache detection modes, content checks, redaction and the exchange's finishing step (pure)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from suite.driver.cachedetect import cache_rule
from suite.driver.checks import ContentChecks
from suite.driver.config import DriverConfig
from suite.driver.exchange import Exchange
from suite.driver.measure import Measured
from suite.driver.redact import REDACTED, Redactor, redact_template, secret_values
from suite.driver.requestopts import RequestOptions
from suite.errors import SpecError
from suite.records import CorpusRequest
from suite.tokens import count_tokens


def headers(**kw: str):  # the client reports header names case-insensitively: lower-case here
    lower = {k.lower().replace("_", "-"): v for k, v in kw.items()}
    return lower.get


@pytest.mark.parametrize("spec, hdrs, want", [
    ("auto", headers(X_Cache="HIT"), "hit"),
    ("auto", headers(X_Cache_Status="MISS"), "miss"),
    ("auto", headers(CF_Cache_Status="EXPIRED"), "miss"),
    ("auto", headers(X_Cache="weird", CF_Cache_Status="HIT"), "hit"),  # unknown value: try next
    ("auto", headers(), None),
    ("none", headers(X_Cache="HIT"), None),
    ("header:X-Upstream-Cache", headers(X_Upstream_Cache="hit"), "hit"),
    ("header:X-Upstream-Cache", headers(X_Cache="HIT"), None),  # only the named header
    ("header:X-Served=cache|edge", headers(X_Served="EDGE"), "hit"),
    ("header:X-Served=cache|edge", headers(X_Served="origin"), "miss"),
    ("present:X-Cache-Key", headers(X_Cache_Key="abc"), "hit"),
    ("present:X-Cache-Key", headers(), "miss"),
    ("json:meta.cached", headers(X_Cache="HIT"), None),  # json rules ignore headers
])
def test_cache_from_headers(spec: str, hdrs, want: str | None) -> None:
    assert cache_rule(spec).from_headers(hdrs) == want


@pytest.mark.parametrize("spec, obj, want", [
    ("auto", {"cached": True}, "hit"),
    ("auto", {"cached": False}, "miss"),
    ("auto", {"response": "x"}, None),
    ("json:meta.cache", {"meta": {"cache": "HIT"}}, "hit"),
    ("json:meta.cache", {"meta": {"cache": 1}}, None),
    ("header:X-Cache", {"cached": True}, None),
])
def test_cache_from_json(spec: str, obj: dict, want: str | None) -> None:
    assert cache_rule(spec).from_json(obj) == want


@pytest.mark.parametrize("spec", ["", "header:", "present:", "json:", "json:a..b", "etag",
                                  "header:X=", "auto:x"])
def test_bad_cache_specs(spec: str) -> None:
    with pytest.raises(SpecError, match="--cache-detect"):
        cache_rule(spec)


@pytest.mark.parametrize("kw, text, objects, reason", [
    ({"require": ("usage.total_tokens",)}, "fine", [{"usage": {}}],
     "required field 'usage.total_tokens' missing from the response"),
    ({"require": ("usage.total_tokens",)}, "fine", [{}, {"usage": {"total_tokens": 3}}], None),
    ({"require": ("id",)}, "fine", None, "required field 'id' missing from the response"),
    ({"forbid": ("Project Falcon",)}, "about project falcon now", None,
     "forbidden term 'project falcon' in the response"),
    ({"forbid_regex": (r"\bsk-[A-Za-z0-9]{8,}",)}, "key sk-abcdefgh12", None,
     "forbidden pattern '\\\\bsk-[A-Za-z0-9]{8,}' matched the response"),
    ({"min_length": 10}, "short", None, "response has 5 character(s), fewer than the minimum 10"),
    ({"min_length": 5, "forbid": ("x",)}, "hello", None, None),
])
def test_content_checks(kw: dict, text: str, objects, reason: str | None) -> None:
    assert ContentChecks.build(**kw).failure(text, objects) == reason


def test_no_checks_are_inactive() -> None:
    assert not ContentChecks.build().active


def test_redaction_of_keys_and_credential_headers() -> None:
    values = secret_values([("Authorization", "Bearer tok-12345"), ("X-Team", "blue-team")], "sk-abc")
    assert set(values) == {"sk-abc", "Bearer tok-12345", "tok-12345"}
    r = Redactor(values)
    assert r.text("got Bearer tok-12345 and tok-12345 and sk-abc") == (
        f"got {REDACTED} and {REDACTED} and {REDACTED}")
    assert r.error({"kind": "http_401", "message": "bad key sk-abc"})["message"] == f"bad key {REDACTED}"



TEMPLATE = ('{"message": "{message}", "session_id": "{session_id}", "api_key": "sk-live-777",'
            ' "auth": {"token": "Bearer tok-999", "user": "ann"}, "keys": ["{request_id}"], "n": 3}')


def test_engine_template_credential_fields_are_secrets() -> None:
    values = secret_values([], None, TEMPLATE)
    assert set(values) == {"sk-live-777", "Bearer tok-999", "tok-999"}
    assert secret_values([], None, "not json") == [] and secret_values([], None, None) == []


def test_redact_template_keeps_placeholders_and_other_fields() -> None:
    redacted = orjson.loads(redact_template(TEMPLATE))
    assert redacted == {"message": "{message}", "session_id": "{session_id}", "api_key": REDACTED,
                        "auth": {"token": REDACTED, "user": "ann"}, "keys": ["{request_id}"], "n": 3}
    plain = '{"message": "{message}", "api_key": "{request_id}"}'  # a placeholder is not a secret
    assert redact_template(plain) == plain and redact_template(None) is None

# --- Exchange.finalize: checks, token cross-check sample, redaction ----------------------------

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


def test_a_failed_content_check_is_a_content_failure(tmp_path: Path) -> None:
    m = exchange(tmp_path, forbid=("there",)).finalize(measured(), req(1))
    assert not m.ok and m.error == {"kind": "content",
                                    "message": "forbidden term 'there' in the response"}


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
    assert h["X-Request-Id"] == "q00003" and h["Authorization"] == "Bearer sk-live-1"
    assert h["X-Team"] == "blue" and h["Accept"] == "text/event-stream"
    azure = exchange(tmp_path, api_key="k-2", api_key_header="api-key", request_id_header="X-Corr")
    h = azure.request_headers(req(4))
    assert h["api-key"] == "k-2" and "Authorization" not in h and h["X-Corr"] == "q00004"
    assert "X-Request-Id" not in exchange(tmp_path, request_id_header=None).request_headers(req(5))


def test_failures_never_carry_the_key(tmp_path: Path) -> None:
    ex = exchange(tmp_path, api_key="sk-live-1")
    m = Measured(status=401, error={"kind": "http_401", "message": "Incorrect API key sk-live-1"})
    assert ex.finalize(m, req(1)).error["message"] == f"Incorrect API key {REDACTED}"


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
    from suite.driver.health import probe_problem

    assert probe_problem("http://t/p", status, body, "engine") == want


def test_the_probe_never_sends_a_corpus_prompt() -> None:
    import orjson

    from suite.driver.health import PROBE_MESSAGE, health_probe

    probe = health_probe(RequestOptions(), "/v1/chat/completions", "k-123", req(1))
    body = orjson.loads(probe.body)
    assert body["messages"] == [{"role": "user", "content": PROBE_MESSAGE}]
    assert body["max_tokens"] == 1 and body["stream"] is False
    assert probe.headers["Authorization"] == "Bearer k-123" and probe.secrets == ["k-123"]
