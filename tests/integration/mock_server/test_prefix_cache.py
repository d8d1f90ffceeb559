"""Known answer for prompt-prefix caching over HTTP (issue 16): a fixed shared prefix reports the
block-rounded prefix as ``cached_tokens`` on every repeat (JSON and the streamed usage chunk), and
the server's planned TTFT (--timing-log ``ttft_target_s``) is lower by exactly the configured
prefill cost of those tokens; the stamped TTFTs (the fastest of four cold and of four warm
streams: a late wake-up only ever adds) show the same drop. One server."""

from __future__ import annotations

from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import yaml

from tests.integration.conftest import MockServer, launch_mock_server

pytestmark = pytest.mark.integration
ENC = "o200k_base"
BASE_S, PREFILL_S = 0.02, 0.0005
DOCS = (1, 2, 3, 4)
PROFILE = {"ttft_base_s": BASE_S, "ttft_jitter_s": 0.0, "prefill_s_per_token": PREFILL_S,
           "tokens_per_s": 1000.0, "output_tokens": {"median": 3, "spread": 0.0}, "encoding": ENC,
           "prefix_cache": {"block_tokens": 16, "capacity_tokens": 100_000}}


def doc(k: int) -> str:
    return f"Document {k}. " + " ".join(f"Clause {i}: the tenant keeps it clean." for i in range(40))


def ask(server: MockServer, k: int, question: str, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "apc", "stream": stream, "messages": [
        {"role": "system", "content": doc(k)}, {"role": "user", "content": question}]}
    if stream:
        body["stream_options"] = {"include_usage": True}
    parts = urlsplit(server.url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        conn.request("POST", "/v1/chat/completions", body=orjson.dumps(body),
                     headers={"Content-Type": "application/json", "X-Request-Id": f"{k}:{question}"})
        resp = conn.getresponse()
        raw = resp.read()
        assert resp.status == 200
    finally:
        conn.close()
    if not stream:
        return orjson.loads(raw)["usage"]
    events = [orjson.loads(line[6:]) for line in raw.split(b"\n\n")
              if line.startswith(b"data: {")]
    return events[-1]["usage"]


def expected_cached(k: int) -> int:
    """The shared prefix counted by hand with tiktoken: system message (3 framing tokens, role,
    document) and the user message's framing and role; block-rounded down to 16."""
    from suite.tokens import get_encoding
    enc = get_encoding(ENC)
    n = 3 + len(enc.encode_ordinary("system")) + len(enc.encode_ordinary(doc(k))) + 3 + len(
        enc.encode_ordinary("user"))
    return n // 16 * 16


def test_shared_prefix_is_cached_and_skips_its_prefill(tmp_path: Path) -> None:
    profiles = tmp_path / "models.yaml"
    profiles.write_text(yaml.safe_dump({"models": {"apc": PROFILE}}))
    log = tmp_path / "timing.jsonl"
    server = launch_mock_server(tmp_path, profiles=profiles, extra_args=["--timing-log", str(log)])
    try:
        cold = [ask(server, k, "Why now?", stream=True) for k in DOCS]
        warm = [ask(server, k, "How now?", stream=True) for k in DOCS]
        plain = [ask(server, 1, q, stream=False) for q in ("Who pays?", "When is rent due?")]
        hit = ask(server, 1, "Who pays?", stream=False)  # a response-cache hit
    finally:
        assert server.stop() == 0
    want = expected_cached(1)
    assert want > 200 and all(expected_cached(k) == want for k in DOCS)
    assert [u["prompt_tokens_details"]["cached_tokens"] for u in cold] == [0] * len(DOCS)
    assert [u["prompt_tokens_details"]["cached_tokens"] for u in warm + plain] == [want] * (len(DOCS) + 2)
    assert hit["prompt_tokens_details"]["cached_tokens"] == hit["prompt_tokens"]
    assert {u["prompt_tokens"] for u in cold} == {u["prompt_tokens"] for u in warm}
    lines = {r["request_id"]: r for r in map(orjson.loads, log.read_bytes().splitlines())}
    for k in DOCS:
        prompt = cold[k - 1]["prompt_tokens"]
        cold_s, warm_s = (lines[f"{k}:{q}"]["ttft_target_s"] for q in ("Why now?", "How now?"))
        assert cold_s == pytest.approx(BASE_S + PREFILL_S * prompt, abs=1e-6)
        assert cold_s - warm_s == pytest.approx(PREFILL_S * want, abs=1e-6)
    ttft_cold = min(lines[f"{k}:Why now?"]["ttft_s"] for k in DOCS)
    ttft_warm = min(lines[f"{k}:How now?"]["ttft_s"] for k in DOCS)
    # the stamps: never early, and the warm streams faster by the prefill cost. A busy CI core
    # delays wake-ups by up to tens of ms (one-sided), so the stamped check is loose (a quarter of
    # the effect); the 2 ms known answer is the plan's above (exact), and on an idle machine the
    # stamped difference is within 1 ms of it.
    for r in (lines[f"{k}:{q}"] for k in DOCS for q in ("Why now?", "How now?")):
        assert r["ttft_s"] >= r["ttft_target_s"] - 0.001
    assert ttft_cold - ttft_warm == pytest.approx(PREFILL_S * want, abs=PREFILL_S * want / 4)
