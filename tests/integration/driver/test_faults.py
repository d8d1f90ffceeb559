"""Faults of the target, driven through ``llmsuite run`` as a user would, against a small aiohttp
server written here (not the bundled mock: each fault is the server's whole behaviour).

Cases (issue 13, items 3 and 4): an open /health but a key required on the chat path (exit 4 before
any load); a target that knows one of the corpus's two models (exit 4 naming the other); 500 to
everything (exit 5 naming http_500 and an example); a stall before the first byte beyond
--ttft-timeout and one mid-body beyond --timeout (records ``timeout`` saying which); 429 with
Retry-After: 1 (recorded; with ``honour`` the user's next send is >= 1 s later); a target that
refuses every connection after the check (exit 8, the abort names it).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from suite.errors import EXIT_ERROR_RATIO, EXIT_RUN_ABORTED, TargetError
from suite.records import write_jsonl
from tests.integration.driver.test_locust_run import corpus_line

PROBE_ID = "llmsuite-health-probe"
GOOD_KEY = "right-key-7f3a"
KNOWN_MODELS = {"gpt-4o"}


@dataclass
class FaultServer:
    """The server's behaviour (``mode``) and what it saw: (request id, epoch, model)."""

    url: str = ""
    mode: str = "ok"
    seen: list[tuple[str, float, str]] = field(default_factory=list)
    runner: Any = None

    def corpus_hits(self) -> list[tuple[str, float, str]]:
        return [s for s in self.seen if s[0] != PROBE_ID]


def _chunk(content: str | None, finish: str | None = None) -> bytes:
    delta = {"content": content} if content is not None else {}
    obj: dict[str, Any] = {"id": "r1", "object": "chat.completion.chunk",
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if finish:
        obj["usage"] = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _answer(request: web.Request, body: dict[str, Any]) -> web.Response:
    return web.json_response({"id": "r1", "object": "chat.completion",
                              "choices": [{"index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": "ok"}}],
                              "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})


async def _stream(request: web.Request, stall_after_first: float = 0.0) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    await resp.write(_chunk("hello"))
    if stall_after_first:
        await asyncio.sleep(stall_after_first)
    try:
        await resp.write(_chunk(" world"))
        await resp.write(_chunk(None, "stop") + b"data: [DONE]\n\n")
        await resp.write_eof()
    except ConnectionResetError:  # the client gave up at its --timeout, as it should
        pass
    return resp


def _handler(server: FaultServer) -> Any:
    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        rid = request.headers.get("X-Request-Id", "")
        server.seen.append((rid, time.time(), body.get("model", "")))
        mode, probe = server.mode, rid == PROBE_ID
        if mode == "auth" and request.headers.get("Authorization") != f"Bearer {GOOD_KEY}":
            return web.json_response({"error": {"message": "Incorrect API key provided."}}, status=401)
        if mode == "models" and body.get("model") not in KNOWN_MODELS:
            return web.json_response({"error": {"message": f"The model '{body.get('model')}' does "
                                                           "not exist."}}, status=404)
        if mode == "500":
            return web.json_response({"error": {"message": "the engine fell over"}}, status=500)
        if mode == "429" and not probe:
            return web.json_response({"error": {"message": "slow down"}}, status=429,
                                     headers={"Retry-After": "1"})
        if mode == "die" and len(server.corpus_hits()) == 5:  # the target goes away for good
            asyncio.get_running_loop().create_task(server.runner.cleanup())
        if probe or not body.get("stream"):
            return _answer(request, body)
        if mode == "stall_first":
            await asyncio.sleep(3)
        return await _stream(request, stall_after_first=3 if mode == "stall_mid" else 0)

    return chat


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """The server on a port the OS chose (bound to port 0, read back), in a thread of its own."""
    server = FaultServer()
    app = web.Application()
    app.router.add_get("/health", _health)
    app.router.add_post("/v1/chat/completions", _handler(server))
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    server.url, server.runner = f"http://127.0.0.1:{port}", runner
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def _corpus(path: Path, n: int, models: tuple[str, ...] = ("gpt-4o",)) -> Path:
    write_jsonl(path, [corpus_line(i, models[i % len(models)], f"question {i}", None, max_tokens=4)
                       for i in range(n)])
    return path


def _run(tmp_path: Path, url: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    llmsuite = Path(sys.executable).with_name("llmsuite")
    return subprocess.run([str(llmsuite), "run", "-c", "c.jsonl", "-t", url, "--run-id", "r",
                           "--out", "runs", "--monitor-interval", "0", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env=_env())


def _env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("LLMSUITE_API_KEY", "OPENAI_API_KEY")}
    env["COLUMNS"] = "400"  # one message per line, whatever the terminal
    return env


def _records(tmp_path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (tmp_path / "runs" / "r" / "requests.jsonl").read_bytes()
            .splitlines()]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_wrong_key_behind_an_open_health_exits_4_before_any_load(
        tmp_path: Path, fault_server: FaultServer) -> None:
    fault_server.mode = "auth"
    _corpus(tmp_path / "c.jsonl", 10)
    proc = _run(tmp_path, fault_server.url, "--api-key", "wrong-key-0000", "-u", "2")
    assert proc.returncode == TargetError.exit_code == 4, proc.stderr
    err = _flat(proc.stderr)
    assert ("refused the credentials of a 1-token test request for model 'gpt-4o' (HTTP 401: "
            "Incorrect API key provided.). Check the key (--api-key-env NAME naming the variable that "
            "holds it; by default LLMSUITE_API_KEY, then OPENAI_API_KEY) and the header carrying it "
            "(--api-key-header") in err
    assert "wrong-key-0000" not in proc.stderr + proc.stdout
    assert fault_server.corpus_hits() == []  # no load was sent
    assert not (tmp_path / "runs" / "r" / "requests.jsonl").exists()
    # the right key passes the same check and the run goes through
    fault_server.seen.clear()
    proc = _run(tmp_path, fault_server.url, "--api-key", GOOD_KEY, "-u", "2", "--run-id", "ok")
    assert proc.returncode == 0, proc.stderr
    assert len(fault_server.corpus_hits()) == 10


def test_a_target_that_knows_one_of_two_models_exits_4_naming_the_other(
        tmp_path: Path, fault_server: FaultServer) -> None:
    fault_server.mode = "models"
    _corpus(tmp_path / "c.jsonl", 10, models=("gpt-4o", "gpt-5-mini"))
    proc = _run(tmp_path, fault_server.url, "-u", "2")
    assert proc.returncode == 4, proc.stderr
    assert ("answered a 1-token test request for model 'gpt-5-mini' with HTTP 404: The model "
            "'gpt-5-mini' does not exist.") in _flat(proc.stderr)
    assert [s[2] for s in fault_server.seen] == ["gpt-4o", "gpt-5-mini"]  # every model probed
    assert fault_server.corpus_hits() == []


def test_all_500_exits_5_naming_the_error_kind_and_an_example(
        tmp_path: Path, fault_server: FaultServer) -> None:
    fault_server.mode = "500"
    _corpus(tmp_path / "c.jsonl", 12)
    proc = _run(tmp_path, fault_server.url, "-u", "2")
    assert proc.returncode == EXIT_ERROR_RATIO == 5, proc.stderr
    assert ("12 of 12 requests failed (error ratio 1.00), above --max-error-ratio 0.5; most failures "
            "are http_500 (12), e.g. 'the engine fell over'") in _flat(proc.stderr)
    assert (tmp_path / "runs" / "r" / "summary.json").exists()  # the analysis was written first
    assert {r["error"]["kind"] for r in _records(tmp_path)} == {"http_500"}
    # a looser bound lets the same run pass
    proc = _run(tmp_path, fault_server.url, "-u", "2", "--run-id", "loose", "--max-error-ratio", "1")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("mode, args, which", [
    ("stall_first", ["--ttft-timeout", "1"], "ttft"),
    ("stall_mid", ["--timeout", "1.5"], "total"),
])
def test_a_stall_beyond_a_timeout_is_recorded_timeout_saying_which(
        tmp_path: Path, fault_server: FaultServer, mode: str, args: list[str], which: str) -> None:
    fault_server.mode = mode
    _corpus(tmp_path / "c.jsonl", 2)
    proc = _run(tmp_path, fault_server.url, "-u", "2", "--max-error-ratio", "1", *args)
    assert proc.returncode == 0, proc.stderr
    recs = _records(tmp_path)
    assert len(recs) == 2
    for rec in recs:
        assert rec["error"]["kind"] == "timeout", rec
        assert rec["error"]["message"].startswith(f"{which}: "), rec
        limit = float(args[1])
        assert limit <= rec["e2e"] < 3  # fired at the limit, before the server's 3 s stall ended
    if which == "total":  # what arrived before the stall is kept
        assert all(rec["ttft"] is not None and rec["chunks"] == 1 for rec in recs)


@pytest.mark.parametrize("policy", ["record", "honour"])
def test_429_retry_after_is_recorded_and_honoured_on_request(
        tmp_path: Path, fault_server: FaultServer, policy: str) -> None:
    fault_server.mode = "429"
    _corpus(tmp_path / "c.jsonl", 3)
    proc = _run(tmp_path, fault_server.url, "-u", "1", "--retry-after", policy,
                "--max-error-ratio", "1")
    assert proc.returncode == 0, proc.stderr
    recs = _records(tmp_path)
    assert [r["retry_after"] for r in recs] == [1.0, 1.0, 1.0]
    assert {r["error"]["kind"] for r in recs} == {"http_429"}
    sends = [t for _, t, _ in fault_server.corpus_hits()]
    gaps = [b - a for a, b in zip(sends, sends[1:], strict=False)]
    meta = orjson.loads((tmp_path / "runs" / "r" / "run.json").read_bytes())
    if policy == "honour":
        assert min(gaps) >= 1.0, gaps
        assert meta["extra"]["retry_after"] == {"honoured": 3, "capped": 0, "cap_s": 60.0,
                                                "paused_s": 3.0}
    else:
        assert max(gaps) < 1.0, gaps
        assert "retry_after" not in meta["extra"]


def test_a_target_that_dies_mid_run_aborts_with_8_naming_it(
        tmp_path: Path, fault_server: FaultServer) -> None:
    """Open loop: no back-off (the schedule is not shifted), so the abort rule must catch it."""
    fault_server.mode = "die"
    _corpus(tmp_path / "c.jsonl", 400)
    proc = _run(tmp_path, fault_server.url, "--open-loop", "--rate", "40",
                "--abort-connect-errors", "10", "--max-error-ratio", "1")
    assert proc.returncode == EXIT_RUN_ABORTED, proc.stderr
    assert ("aborted: target refused 10 connections in a row (connect errors): is it still "
            "running?") in _flat(proc.stderr)
    recs = _records(tmp_path)
    kinds = [r["error"]["kind"] if r["error"] else None for r in recs]
    assert kinds.count("connect") >= 10
    assert len(recs) < 400  # the rest of the corpus was not burned
    meta = orjson.loads((tmp_path / "runs" / "r" / "run.json").read_bytes())
    assert meta["extra"]["aborted"]["reason"].startswith("target refused 10 connections in a row")
