"""Each target kind against the real mock through a real Locust run; secrets never written; content
checks fail with their reason; the health probe names what is wrong. Short runs on loopback.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from suite.driver import run_load
from suite.driver.control.health import check_target, health_probe
from suite.driver.control.requestopts import RequestOptions
from suite.errors import TargetError
from suite.records import CorpusRequest, request_key, write_jsonl
from suite.services import free_port
from suite.tokens import count_chat_tokens

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def corpus(path: Path, n: int, model: str, max_tokens: int = 12) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        messages = [{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": f"Question {i}: name a colour."}]
        rows.append({"id": f"t{i:03d}", "t": None, "session": f"s{i % 3}", "turn": 0,
                     "model": model, "messages": messages, "max_tokens": max_tokens,
                     "temperature": 0.0, "stream": i % 2 == 0,
                     "prompt_tokens": count_chat_tokens(messages, model), "domain": "test",
                     "intent": "ask", "key": request_key(model, messages, max_tokens, 0.0),
                     "repeat_of": None})
    write_jsonl(path, rows)
    return rows


def records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.mark.parametrize("kind, engine_model", [("openai-completions", None),
                                                ("engine", "llama-3.1-8b")])
def test_target_kind_against_the_mock(tmp_path: Path, mock_server_factory: Callable[..., Any],
                                      kind: str, engine_model: str | None) -> None:
    timing = tmp_path / "timing.jsonl"
    extra = ["--timing-log", str(timing)]
    server = mock_server_factory(extra_args=[*extra, "--engine-model", engine_model]
                                 if engine_model else extra)
    rows = corpus(tmp_path / "c.jsonl", 8, "gpt-4o")
    result = run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=4, spawn_rate=40,
                      duration_s=20, options={"request": RequestOptions(kind=kind)})
    recs = records(result.requests_path)
    assert result.complete
    assert sorted(r["id"] for r in recs) == [r["id"] for r in rows]
    for rec in recs:
        assert rec["ok"], rec["error"]
        assert rec["completion_tokens"] >= 1
        assert rec["cache"] == "miss"
        if kind == "engine" and rec["stream"]:
            # the engine's events carry no usage and no id: tiktoken count, and the id the target
            # echoed in its X-Request-Id header
            assert rec["tokens_source"] == "tiktoken"
            assert rec["response_id"] == rec["id"]
        else:
            assert rec["tokens_source"] == "usage"
            assert rec["response_id"]
            assert rec["response_id"] != rec["id"]  # the target's own id
        if rec["stream"]:
            assert 0 < rec["ttft"] <= rec["e2e"]
            assert rec["chunks"] >= 1
            assert len(rec["itl"]) == rec["chunks"] - 1
        else:
            assert rec["ttft"] is None
            assert rec["chunks"] is None
    server.stop()  # flushes the timing log
    joined = {line["request_id"] for line in map(orjson.loads, timing.read_bytes().splitlines())}
    assert {r["id"] for r in recs} <= joined  # X-Request-Id reached the target's own log
    meta = orjson.loads(result.meta_path.read_bytes())
    assert meta["extra"]["request"]["kind"] == kind


def test_secrets_never_reach_any_output_and_content_checks_fail(
        tmp_path: Path, mock_server_factory: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    key, token = "sk-live-never-written-4f9a2", "tok-never-written-77e1"
    monkeypatch.setenv("LLMSUITE_MOCK_API_KEY", key)  # the mock answers 401 without it
    server = mock_server_factory()
    corpus(tmp_path / "c.jsonl", 6, "gpt-4o")
    env = {k: v for k, v in os.environ.items() if k != "LLMSUITE_MOCK_API_KEY"}
    proc = subprocess.run(
        [sys.executable, "-m", "suite.cli", "run", "-c", str(tmp_path / "c.jsonl"), "-t", server.url,
         "-u", "3", "-r", "30", "-d", "20", "--run-id", "sec", "--out", str(tmp_path / "runs"),
         "--api-key", key, "--header", f"X-Auth-Token: {token}", "--header", "X-Team: blue",
         "--min-length", "100000", "--token-check-sample", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    run_dir = tmp_path / "runs" / "sec"
    assert (run_dir / "requests.jsonl").exists(), proc.stderr
    recs = records(run_dir / "requests.jsonl")
    assert len(recs) == 6
    for rec in recs:  # the key was accepted (no 401), the check failed every answer
        assert rec["status"] == 200
        assert not rec["ok"]
        assert rec["error"]["kind"] == "content"
        assert "fewer than the minimum 100000" in rec["error"]["message"]
        assert rec["completion_tokens_tiktoken"] is not None  # sample 1: every one cross-checked
    meta = orjson.loads((run_dir / "run.json").read_bytes())
    assert meta["extra"]["request"]["headers"] == {"X-Auth-Token": "[redacted]", "X-Team": "blue"}
    outputs = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {"summary.json", "run.json", "locust.log", "requests.jsonl"} <= {p.name for p in outputs}
    for path in outputs:
        data = path.read_bytes()
        assert key.encode() not in data, path.name
        assert token.encode() not in data, path.name
    assert key not in proc.stdout + proc.stderr
    assert token not in proc.stdout + proc.stderr


# --- the health probe, against a target without /health -------------------------------------

async def _engine(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != "Bearer good-key-123":
        return web.json_response({"error": {"message": "bad key: "
                                            + request.headers.get("Authorization", "")}},
                                 status=401)
    body = await request.json()
    if "message" not in body:
        return web.json_response({"error": "message is required"}, status=422)
    return web.json_response({"response": "pong", "session_id": body.get("session_id")})


@pytest.fixture
def engine_without_health() -> Iterator[str]:
    app = web.Application()
    app.router.add_post("/api/chat", _engine)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    port = free_port()
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


SAMPLE = CorpusRequest(id="x", t=None, session="s", turn=0, model="gpt-4o",
                       messages=[{"role": "user", "content": "ping"}], max_tokens=64,
                       temperature=0.0, stream=True, prompt_tokens=2, domain="d", intent="i", key="k")


def test_health_probe_passes_with_the_right_key_and_names_the_problem_otherwise(
        engine_without_health: str) -> None:
    url = engine_without_health
    engine = RequestOptions(kind="engine")
    assert check_target(url, probe=health_probe(engine, "/api/chat", "good-key-123", SAMPLE)) == 200
    with pytest.raises(TargetError) as err:
        check_target(url, probe=health_probe(engine, "/api/chat", "wrong-key-456", SAMPLE))
    assert str(err.value) == (
        f"target {url}/api/chat refused the credentials of a 1-token test request for model "
        f"'gpt-4o' (HTTP 401: bad key: Bearer [redacted]). Check the key (--api-key-env NAME naming "
        f"the variable that holds it; by default LLMSUITE_API_KEY, then OPENAI_API_KEY) and the "
        f"header carrying it (--api-key-header, now 'Authorization'; or --header).")
    with pytest.raises(TargetError, match="for model 'gpt-4o' with HTTP 404"):
        check_target(url, probe=health_probe(RequestOptions(), "/v1/chat/completions",
                                             "good-key-123", SAMPLE))
    bad_template = RequestOptions(kind="engine", engine_template='{"q": "{message}"}')
    with pytest.raises(TargetError, match="rejected a 1-token test request for model 'gpt-4o' .HTTP "
                                          "422: message is required.. Check --target-kind 'engine'"):
        check_target(url, probe=health_probe(bad_template, "/api/chat", "good-key-123", SAMPLE))
