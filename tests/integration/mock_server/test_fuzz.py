"""Property-based fuzzing of the mock (hypothesis): thousands of generated requests over every
route, method, body shape, header and fault value, against one real server on a loopback port.

Properties, per request: no 5xx unless the request injected one (``X-Mock-Fault: 500|503``), a
dropped connection only when it injected ``disconnect``, every 4xx/5xx body in OpenAI's error
shape. After all of them: ``/health`` answers and the server's log has no traceback.

Bounded: a fixed number of examples (derandomized: the same requests every run, no example
database written), instant or fast profiles, stalls kept to milliseconds; a few seconds in all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mock_server.faults import parse_fault
from tests.integration.conftest import MockServer, launch_mock_server

pytestmark = pytest.mark.integration
EXAMPLES = 2_200
FAST = {"ttft_base_s": 0.0, "ttft_jitter_s": 0.0, "tokens_per_s": float("inf"),
        "output_tokens": {"median": 4, "spread": 0.0}, "encoding": "o200k_base"}
PROFILE_DOC = {"models": {"instant": FAST,
                          "quick": {**FAST, "tokens_per_s": 2000.0, "ttft_base_s": 0.001}}}
ROUTES = [("POST", "/v1/chat/completions"), ("POST", "/v1/completions"),
          ("POST", "/v1/embeddings"), ("POST", "/api/chat"), ("GET", "/v1/models"),
          ("GET", "/health"), ("GET", "/metrics"), ("GET", "/admin/cache/stats"),
          ("POST", "/admin/cache/flush"), ("POST", "/admin/cache/clear")]

ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=24)
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                        st.floats(allow_nan=False, allow_infinity=False), any_text)
json_any = st.recursive(json_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)), max_leaves=12)
model = st.sampled_from(["instant", "quick", "gpt-4o", "", "nope"]) | json_scalar
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "system", "assistant", "tool", "x"]) | json_scalar,
     "content": any_text | json_any},
    optional={"name": ascii_text | json_scalar})
common = {"max_tokens": st.integers(-5, 40) | json_scalar, "stream": st.booleans() | json_scalar,
          "temperature": st.floats(-1, 3) | json_scalar,
          "stream_options": st.fixed_dictionaries({"include_usage": st.booleans() | json_scalar}),
          "stop": ascii_text | st.lists(ascii_text, max_size=5) | json_scalar,
          "n": st.integers(0, 3), "seed": json_scalar, "user": json_scalar}
bodies = st.one_of(
    st.fixed_dictionaries({"model": model, "messages": st.lists(message, max_size=4) | json_any},
                          optional=common),
    st.fixed_dictionaries({"model": model, "prompt": any_text | st.lists(any_text, max_size=3)
                           | json_any}, optional=common),
    st.fixed_dictionaries({"model": st.sampled_from(["text-embedding-3-small", "x"]) | json_scalar,
                           "input": any_text | st.lists(any_text, max_size=3) | json_any},
                          optional={"dimensions": st.integers(-2, 4000) | json_scalar,
                                    "encoding_format": st.sampled_from(["float", "base64", "x"])}),
    st.fixed_dictionaries({"message": any_text | json_scalar, "session_id": ascii_text | json_scalar},
                          optional={"user_level": ascii_text | json_scalar,
                                    "stream": st.booleans() | json_scalar}),
    json_any,
)
raw_bodies = st.one_of(bodies.map(lambda b: json.dumps(b, ensure_ascii=False).encode()),
                       st.binary(max_size=64), st.just(b""),
                       st.just(b'{"model": "instant", "messages": ['))
faults = st.one_of(
    st.sampled_from(["500", "503", "429", "disconnect=0", "disconnect=2", "malformed=1",
                     "malformed=3", "stall_first=0.001", "stall_mid=0.002", " 503 "]),
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["stall_first", "stall_mid", "disconnect",
                                                        "malformed", "503", "x"]),
              st.sampled_from(["1_0", "inf", "nan", "-1", "1e3", "+2", "0x1", "", "0.0", "1.5"])
              | ascii_text),
    ascii_text,
)
headers = st.fixed_dictionaries({}, optional={
    "X-Mock-Fault": faults,
    "Content-Type": st.sampled_from(["application/json", "text/plain", "", "application/x"]),
    "X-Request-Id": ascii_text,
    "Authorization": ascii_text,
    "Accept": st.sampled_from(["text/event-stream", "text/html", "*/*"])})
requests = st.tuples(
    st.sampled_from(ROUTES) | st.tuples(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
                                        st.sampled_from([p for _, p in ROUTES] + ["/", "/v1/x"])),
    raw_bodies, headers)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "models.yaml"
    path.write_text(yaml.safe_dump(PROFILE_DOC))
    srv = launch_mock_server(tmp_path_factory.mktemp("fuzz_log"), profiles=path,
                             extra_args=["--engine-model", "quick", "--read-timeout", "5"])
    yield srv
    assert srv.stop() == 0


def injected(value: str | None) -> str | None:
    """The fault kind a header value asks for, when the server will accept it."""
    if value is None:
        return None
    try:
        return parse_fault(value).kind
    except ValueError:
        return None


class Client:
    """One keep-alive connection, reopened after the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: HTTPConnection | None = None
        self.sent = 0

    def send(self, method: str, path: str, body: bytes,
             hdrs: dict[str, str]) -> tuple[int, bytes] | None:
        """(status, body), or None when the server cut the connection."""
        if self.conn is None:
            self.conn = HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.sent += 1
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            data = resp.read()
        except (HTTPException, ConnectionError):
            self.close()
            return None
        if resp.will_close:
            self.close()
        return resp.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def check(answer: tuple[int, bytes] | None, fault: str | None, method: str, path: str) -> None:
    where = f"{method} {path} (X-Mock-Fault: {fault})"
    if answer is None:
        assert fault == "disconnect", f"{where}: connection dropped without a disconnect fault"
        return
    status, body = answer
    if status >= 500:
        assert fault in ("500", "503") and str(status) == fault, f"{where}: {status} {body[:200]!r}"
    if status >= 400:
        error = orjson.loads(body)
        assert set(error) == {"error"}, f"{where}: {body[:200]!r}"
        assert set(error["error"]) == {"message", "type", "param", "code"}, f"{where}: {body!r}"
        assert isinstance(error["error"]["message"], str) and error["error"]["message"]


def test_fuzzed_requests_never_break_the_server(server: MockServer) -> None:
    client = Client(server.port)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(requests)
    def one(request: tuple[tuple[str, str], bytes, dict[str, Any]]) -> None:
        (method, path), body, hdrs = request
        kind = injected(hdrs.get("X-Mock-Fault"))
        if kind in ("stall_first", "stall_mid"):
            assume(parse_fault(hdrs["X-Mock-Fault"]).arg <= 0.01)  # bounded in time
        check(client.send(method, path, body if method != "GET" else b"", hdrs), kind, method,
              path)

    try:
        one()
    finally:
        client.close()
    assert client.sent >= 2_000
    after = Client(server.port)
    status, body = after.send("GET", "/health", b"", {}) or (0, b"")
    after.close()
    assert (status, orjson.loads(body)["status"]) == (200, "ok")
    assert "Traceback" not in server.log()
