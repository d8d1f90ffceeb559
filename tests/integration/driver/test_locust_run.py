"""A real ``locust --headless`` run (through ``run_load``) against real servers on loopback.

- the bundled mock server with a private real Redis: every request sent has exactly one record,
  repeats sent after their original completed come back ``cache == "hit"`` and faster;
- a port with nothing listening: TargetError with the message users read;
- a tiny in-test aiohttp server that answers 500s, cuts streams, sends garbage: every one of those
  requests is still recorded, with ``ok`` False and the right error kind.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from suite.driver import RunResult, run_load
from suite.errors import RunError, TargetError
from suite.records import RequestRecord, request_key, write_jsonl
from suite.services import free_port
from suite.tokens import count_chat_tokens

pytestmark = pytest.mark.integration

RECORD_FIELDS = {f.name for f in fields(RequestRecord)}


def corpus_line(i: int, model: str, prompt: str, repeat_of: str | None,
                max_tokens: int = 24) -> dict[str, Any]:
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": prompt}]
    return {"id": f"q{i:03d}", "t": None, "session": f"s{i}", "turn": 0, "model": model,
            "messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "stream": True,
            "prompt_tokens": count_chat_tokens(messages, model), "domain": "test", "intent": "ask",
            "key": request_key(model, messages, max_tokens, 0.0), "repeat_of": repeat_of}


def write_corpus(path: Path, n: int = 60, repeat_every: int = 3) -> list[dict[str, Any]]:
    """n requests; every ``repeat_every``-th one (from #6 on) repeats an original from >= 6 earlier,
    so with 8 users most repeats are sent after their original finished (~30 % repeats)."""
    rows: list[dict[str, Any]] = []
    originals: list[dict[str, Any]] = []
    for i in range(n):
        if i >= 6 and i % repeat_every == 0:
            src = originals[(i // repeat_every) % max(1, len(originals) - 5)]
            rows.append({**src, "id": f"q{i:03d}", "session": f"s{i}", "repeat_of": src["id"]})
        else:
            model = ("gpt-4o", "gpt-5-mini")[i % 2]
            row = corpus_line(i, model, f"Question {i}: name a prime above {i * 7}.", None,
                              max_tokens=16 + i % 17)
            originals.append(row)
            rows.append(row)
    write_jsonl(path, rows)
    return rows


def read_records(result: RunResult) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in result.requests_path.read_bytes().splitlines()]


def test_mock_server_run_records_every_request_and_sees_cache_hits(
        tmp_path: Path, mock_server_factory: Callable[..., Any]) -> None:
    server = mock_server_factory(cache="redis")
    corpus = tmp_path / "corpus.jsonl"
    rows = write_corpus(corpus)
    seen: list[tuple[int, int]] = []
    result = run_load(corpus, server.url, tmp_path / "reports", users=8, spawn_rate=8,
                      duration_s=10, progress=lambda done, total: seen.append((done, total)))

    records = read_records(result)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == result.records == result.sent  # Rule 1
    assert result.complete
    assert result.exit_code == 0
    assert result.finished_corpus
    assert result.sent == len(rows)  # corpus done well within 10 s
    assert set(ids) == {row["id"] for row in rows}
    assert seen
    assert seen[-1] == (len(rows), len(rows))

    for rec in records:
        assert set(rec) == RECORD_FIELDS
        assert rec["ok"] is True, rec["error"]
        assert rec["status"] == 200
        assert rec["error"] is None
        assert rec["target"] == server.url
        assert rec["scheduled"] is None
        assert 0 < rec["ttft"] <= rec["e2e"]
        assert rec["tokens_source"] == "usage"
        assert rec["completion_tokens"] >= 1
        assert isinstance(rec["itl"], list)
        assert all(g >= 0 for g in rec["itl"])
        assert rec["cache"] in ("hit", "miss")
        assert rec["response_id"]
    by_id = {r["id"]: r for r in records}
    repeat_rows = [row for row in rows if row["repeat_of"]]
    assert [by_id[row["id"]]["repeat"] for row in repeat_rows] == [True] * len(repeat_rows)
    assert 0.25 <= len(repeat_rows) / len(rows) <= 0.35

    # A repeat sent after its original completed (+50 ms for the server's cache write) must be a
    # hit — unless the server itself logged that its Redis was failing (it then fails open and
    # answers MISS, which the driver must record as such).
    late = [by_id[row["id"]] for row in repeat_rows
            if by_id[row["id"]]["t_start"] > _end(by_id[row["repeat_of"]]) + 0.05]
    assert len(late) >= len(repeat_rows) // 2
    late_hits = [r for r in late if r["cache"] == "hit"]
    assert len(late_hits) >= 0.75 * len(late)
    if len(late_hits) < len(late):
        assert "cache redis failing" in server.log(), (
            f"{len(late) - len(late_hits)} late repeat(s) missed with no cache failure in the "
            f"mock's log:\n{server.log()}")
    assert all(by_id[row["id"]]["cache"] == "miss" for row in rows if not row["repeat_of"])

    hits = [r["e2e"] for r in records if r["cache"] == "hit"]
    misses = [r["e2e"] for r in records if r["cache"] == "miss"]
    assert statistics.median(hits) < statistics.median(misses)

    meta = orjson.loads(result.meta_path.read_bytes())
    assert meta["users"] == 8
    assert meta["requests_in_corpus"] == len(rows)
    assert meta["extra"]["sent"] == meta["extra"]["records"] == len(rows)
    assert meta["started"] < meta["ended"]
    assert meta["target"] == server.url
    assert {"locust", "python", "suite"} <= set(meta["versions"])
    assert (result.run_dir / "locust_stats.csv").exists()


def _end(rec: dict[str, Any]) -> float:
    return float(rec["t_start"] + rec["e2e"])


def test_non_streaming_requests_and_an_api_key_that_is_never_written(
        tmp_path: Path, mock_server_factory: Callable[..., Any]) -> None:
    server = mock_server_factory(cache="memory")
    corpus = tmp_path / "corpus.jsonl"
    rows = [{**corpus_line(i, "gpt-4o", f"plain question {i}", None), "stream": i % 2 == 0}
            for i in range(4)]
    write_jsonl(corpus, rows)
    secret = "sk-test-never-logged-0123456789"
    result = run_load(corpus, server.url, tmp_path / "reports", users=2, spawn_rate=10,
                      duration_s=5, api_key=secret)
    assert result.records == 4
    for rec in read_records(result):
        assert rec["ok"]
        assert rec["tokens_source"] == "usage"
        assert rec["completion_tokens"] >= 1
        assert rec["stream"] is (rec["ttft"] is not None)  # no TTFT/ITL without a stream
        assert (rec["itl"] is None) is not rec["stream"]
        assert rec["e2e"] > 0
        assert rec["response_id"]
        assert rec["cache"] == "miss"
    for path in result.run_dir.iterdir():
        assert secret not in path.read_text(errors="replace"), path.name


def test_unreachable_target_is_a_target_error(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, n=3)
    port = free_port()
    with pytest.raises(TargetError) as err:
        run_load(corpus, f"http://127.0.0.1:{port}", tmp_path / "reports", users=1, spawn_rate=1,
                 duration_s=2)
    assert str(err.value) == (
        f"cannot reach target http://127.0.0.1:{port}/health (connection refused). Is the mock "
        f"server running? Start it with: llmsuite mock --port {port}")
    assert not (tmp_path / "reports").exists()  # nothing started, nothing written


# --- a deliberately broken server ------------------------------------------------------------

def _event(obj: object) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _delta(text: str) -> bytes:
    return _event({"id": "broken-1", "choices": [{"index": 0, "delta": {"content": text}}]})


async def _broken_chat(request: web.Request) -> web.StreamResponse:
    """Behaviour chosen by the model name; ``ok`` is the one well-formed answer."""
    model = (await request.json())["model"]
    if model == "http-500":
        return web.json_response({"error": {"message": "engine exploded", "type": "server_error"}},
                                 status=500)
    if model == "http-429":
        return web.json_response({"error": {"message": "Rate limit reached", "type": "rate"}},
                                 status=429)
    if model == "not-json":
        return web.Response(text="<html>502 gateway</html>", content_type="application/json")
    if model == "hang":  # never answers until the test releases it
        await request.app[RELEASE].wait()
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    await resp.write(_delta("Hello"))
    if model == "cut":
        await asyncio.sleep(0.01)
        assert request.transport is not None
        request.transport.abort()  # mid-stream, no chunked terminator
        return resp
    if model == "garbage":
        await resp.write(b"data: {this is not json\n\n")
    if model == "error-event":
        await resp.write(b'event: error\ndata: {"error": {"message": "overloaded"}}\n\n')
    await resp.write(_delta(" world"))
    if model != "no-done":
        await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    return resp


RELEASE = web.AppKey("release", asyncio.Event)


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@pytest.fixture
def broken_server() -> Iterator[str]:
    """The broken app on a free loopback port, served from a thread with its own event loop."""
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _broken_chat)
    app.router.add_get("/health", _health)
    loop = asyncio.new_event_loop()
    app[RELEASE] = asyncio.Event()
    runner = web.AppRunner(app, access_log=None)
    port = free_port()
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(app[RELEASE].set)
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


EXPECTED_KINDS = {
    "ok": None,
    "http-500": ("http_500", "engine exploded"),
    "http-429": ("http_429", "Rate limit reached"),
    "not-json": ("invalid_json", "body is not JSON"),
    "cut": ("stream_incomplete", "connection lost after 1 content chunk(s)"),
    "garbage": ("invalid_json", "chunk is not JSON"),
    "error-event": ("stream_error", "error event: overloaded"),
    "no-done": ("stream_incomplete", "stream ended without [DONE] after 2 content chunk(s)"),
}


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_failures_are_recorded_with_their_kind(tmp_path: Path, broken_server: str) -> None:
    corpus = tmp_path / "corpus.jsonl"
    models = list(EXPECTED_KINDS) * 3
    write_jsonl(corpus, [corpus_line(i, m, f"hi {i}", None, max_tokens=8) for i, m in enumerate(models)])
    result = run_load(corpus, broken_server, tmp_path / "reports", users=4, spawn_rate=20,
                      duration_s=10)
    records = read_records(result)
    assert result.records == result.sent == len(models)
    assert result.complete
    for rec in records:
        expected = EXPECTED_KINDS[rec["model"]]
        if expected is None:
            assert rec["ok"]
            assert rec["error"] is None
            assert rec["completion_tokens"] == 2
            assert rec["tokens_source"] == "tiktoken"  # this server sends no usage
            continue
        kind, fragment = expected
        assert rec["ok"] is False
        assert rec["error"]["kind"] == kind, rec
        assert fragment in rec["error"]["message"]
        assert rec["e2e"] is not None
        assert rec["e2e"] > 0
    cut = [r for r in records if r["model"] == "cut"]
    assert all(r["ttft"] is not None and r["status"] == 200 for r in cut)  # partial data kept
    assert {r["status"] for r in records if r["model"] == "http-500"} == {500}


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_an_overrun_is_stopped_and_still_loses_no_record(tmp_path: Path, broken_server: str) -> None:
    """Past max_wall_s the runner SIGTERMs Locust: requests still in flight get a "cancelled"
    record (Rule 1 holds even then), and the run is reported as failed."""
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(corpus, [corpus_line(i, m, f"hi {i}", None, max_tokens=8)
                         for i, m in enumerate(["ok", "hang"] * 10)])
    with pytest.raises(RunError) as err:
        run_load(corpus, broken_server, tmp_path / "reports", users=3, spawn_rate=30,
                 duration_s=60, stop_timeout_s=1, max_wall_s=4, run_id="overrun")
    assert "Locust overran its time budget and was stopped by PID" in str(err.value)
    run_dir = tmp_path / "reports" / "overrun"
    records = [orjson.loads(x) for x in (run_dir / "requests.jsonl").read_bytes().splitlines()]
    meta = orjson.loads((run_dir / "run.json").read_bytes())
    assert meta["extra"]["final"]
    assert meta["extra"]["sent"] == len(records) >= 3
    assert len({r["id"] for r in records}) == len(records)
    cancelled = [r for r in records if r["error"] and r["error"]["kind"] == "cancelled"]
    assert {r["model"] for r in cancelled} == {"hang"}
    assert len(cancelled) >= 1
    assert all(r["ok"] for r in records if r["model"] == "ok")
