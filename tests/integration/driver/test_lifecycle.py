"""One run lifecycle, tried as a user would: a real ``python -m suite.cli run`` subprocess, a real
Locust child (and its workers), against a small streaming server written here that logs every
request id *on receipt* — the truth Rule 1 is checked against (nothing sent lost, nothing twice).

- SIGINT / SIGTERM / SIGHUP mid-run: exit 130 / 143 / 129, every request the server received has
  exactly one record, run.json ``extra.interrupted``, summary.json ``run.partial``, the scratch
  monitor series moved (none left under --out), no process of Locust's group left;
- ``--processes 2`` without ``--warmup``: no record is warm-up, none sent before the common t0;
- one of two workers SIGKILLed mid-run: the run ends with the other, the report is marked partial
  naming the worker and its in-flight requests, and "sent N, recorded N" counts what was flushed.
"""

from __future__ import annotations

import asyncio
import os
import signal
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

from suite.driver.control.group import group_members
from suite.records import request_key, write_jsonl
from suite.services import free_port
from suite.tokens import count_chat_tokens

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
PROBE_ID = "llmsuite-health-probe"  # the pre-run check's request (suite.driver.control.health)
CHUNKS, CHUNK_GAP_S = 10, 0.05  # ~0.5 s per answer: a signal always finds requests in flight
WAIT_S = 90.0


@dataclass
class Server:
    url: str
    received: list[str] = field(default_factory=list)  # X-Request-Id of every chat request, on receipt


def _event(obj: object) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


SERVER = web.AppKey("server", Server)


async def _chat(request: web.Request) -> web.StreamResponse:
    rid = request.headers.get("X-Request-Id", "")
    if rid != PROBE_ID:
        request.app[SERVER].received.append(rid)
    await request.read()
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    for i in range(CHUNKS):
        await asyncio.sleep(CHUNK_GAP_S)
        delta = {"index": 0, "delta": {"content": f" w{i}"}}
        await resp.write(_event({"id": f"r-{rid}", "choices": [delta]}))
    last = {"index": 0, "delta": {}, "finish_reason": "stop"}
    await resp.write(_event({"id": f"r-{rid}", "choices": [last],
                             "usage": {"prompt_tokens": 10, "completion_tokens": CHUNKS}}))
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    return resp


async def _health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _metrics(_: web.Request) -> web.Response:  # so the run monitors it (a scratch series)
    return web.Response(text="# TYPE lifecycle_up gauge\nlifecycle_up 1\n", content_type="text/plain")


@pytest.fixture
def server() -> Iterator[Server]:
    """The app on a free loopback port, served from a thread with its own event loop."""
    app = web.Application()
    port = free_port()
    app[SERVER] = state = Server(f"http://127.0.0.1:{port}")
    app.router.add_post("/v1/chat/completions", _chat)
    app.router.add_get("/health", _health)
    app.router.add_get("/metrics", _metrics)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def write_corpus(path: Path, n: int) -> None:
    rows = []
    for i in range(n):
        messages = [{"role": "user", "content": f"Question {i}: name a prime above {i * 7}."}]
        rows.append({"id": f"q{i:03d}", "t": None, "session": f"s{i}", "turn": 0, "model": "gpt-4o",
                     "messages": messages, "max_tokens": 16, "temperature": 0.0, "stream": True,
                     "prompt_tokens": count_chat_tokens(messages, "gpt-4o"), "domain": "test",
                     "intent": "ask", "key": request_key("gpt-4o", messages, 16, 0.0), "repeat_of": None})
    write_jsonl(path, rows)


def start_run(tmp_path: Path, server: Server, n: int, *args: str) -> tuple[subprocess.Popen, Path]:
    corpus, out = tmp_path / "corpus.jsonl", tmp_path / "reports"
    write_corpus(corpus, n)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSUITE_")}
    cmd = [sys.executable, "-m", "suite.cli", "run", "-c", str(corpus), "-t", server.url, "--out", str(out),
           "--run-id", "r1", "-d", "60", *args]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    return proc, out / "r1"


def lines(run_dir: Path, pattern: str = "requests*.jsonl") -> int:
    return sum(p.read_bytes().count(b"\n") for p in run_dir.glob(pattern))


def wait_for(condition: Any, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}:\n"
                        f"{out.decode()}\n{err.decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the run did not end:\n{out.decode()}\n{err.decode()}")
    return proc.returncode, out.decode(), err.decode()


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for p in sorted(run_dir.glob("requests*.jsonl"))
            for line in p.read_bytes().splitlines()]


def pid_of(meta: dict[str, Any]) -> int:
    return int(str(meta["extra"]["worker"]).rpartition(":")[2])


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                              (signal.SIGHUP, 129)])
def test_a_signal_stops_locust_keeps_every_record_and_marks_the_run_partial(
        tmp_path: Path, server: Server, signum: int, code: int) -> None:
    proc, run_dir = start_run(tmp_path, server, 400, "-u", "6", "-r", "50")
    wait_for(lambda: lines(run_dir) >= 12, proc, "12 records")
    os.kill(proc.pid, signum)
    exit_code, out, err = finish(proc)

    assert exit_code == code, err
    name = signal.Signals(signum).name
    assert f"Interrupted by {name}" in err
    got = records(run_dir)
    ids = [r["id"] for r in got]
    assert len(ids) == len(set(ids))  # none twice
    assert sorted(ids) == sorted(server.received)  # Rule 1 against what the server received
    assert f"sent {len(ids)}, recorded {len(ids)}" in out
    assert len(ids) < 400  # it was stopped, not finished
    assert {r["error"]["kind"] for r in got if r["error"]} <= {"cancelled"}
    meta = orjson.loads((run_dir / "run.json").read_bytes())
    assert meta["extra"]["interrupted"]["signal"] == name
    assert meta["extra"]["partial"]["reason"].startswith(f"interrupted by {name}")
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    assert summary["run"]["partial"] == meta["extra"]["partial"]
    assert "<li class=warn><b>PARTIAL run:</b> interrupted by" in (run_dir / "report.html").read_text()
    assert "PARTIAL run" in out
    assert not list(run_dir.parent.glob(".target_metrics.*"))  # the scratch series was moved
    assert (run_dir / "target_metrics.jsonl").exists()
    locust = pid_of(meta)
    assert group_members(locust) == []  # no process of Locust's group is left
    with pytest.raises(ProcessLookupError):
        os.kill(locust, 0)


def test_processes_without_warmup_mark_no_record_warmup(tmp_path: Path, server: Server) -> None:
    proc, run_dir = start_run(tmp_path, server, 24, "-u", "4", "-r", "50", "--processes", "2")
    exit_code, out, err = finish(proc)

    assert exit_code == 0, out + err
    got = records(run_dir)
    assert sorted(r["id"] for r in got) == sorted(server.received) and len(got) == 24
    assert [r for r in got if r["warmup"]] == []
    t0 = orjson.loads((run_dir / "run.json").read_bytes())["extra"]["distributed"]["t0"]
    assert min(r["t_start"] for r in got) >= t0  # workers held their first send until t0
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    assert summary["run"]["warmup_excluded"] == 0 and "partial" not in summary["run"]


def test_a_killed_worker_is_named_and_the_counts_are_what_was_flushed(tmp_path: Path, server: Server) -> None:
    proc, run_dir = start_run(tmp_path, server, 80, "-u", "4", "-r", "50", "--processes", "2")
    wait_for(lambda: lines(run_dir, "requests.w1.jsonl") >= 3, proc, "worker 1's third record")
    worker = orjson.loads((run_dir / "run.w1.json").read_bytes())
    os.kill(pid_of(worker), signal.SIGKILL)
    exit_code, out, err = finish(proc)

    got = records(run_dir)
    ids = {r["id"] for r in got}
    assert len(ids) == len(got)  # none twice
    assert ids <= set(server.received)
    assert f"sent {len(got)}, recorded {len(got)}" in out, out + err  # what each worker flushed
    meta = orjson.loads((run_dir / "run.json").read_bytes())
    lost = meta["extra"]["partial"]["lost_workers"]
    assert [w["index"] for w in lost] == [1] and lost[0]["worker"] == worker["extra"]["worker"]
    # the requests the server received but no record holds are exactly the ones named in flight
    assert set(server.received) - ids <= set(lost[0]["in_flight_ids"])
    assert lost[0]["in_flight"] == len(lost[0]["in_flight_ids"]) >= len(set(server.received) - ids)
    assert lost[0]["records"] == sum(1 for r in got if r["worker"] == worker["extra"]["worker"])
    assert f"worker 1 ({worker['extra']['worker']}) died mid-run" in meta["extra"]["partial"]["reason"]
    assert meta["extra"]["lost_workers"][0]["index"] == 1  # the master noticed (no heartbeat)
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    assert summary["run"]["partial"] == meta["extra"]["partial"]
    assert exit_code == 0, err
    assert not list(run_dir.glob("sent.w*.ids"))  # the journals were read into run.json


def test_locust_stops_when_its_parent_is_killed_outright(tmp_path: Path, server: Server) -> None:
    """SIGKILL reaches no handler of ours; the kernel's parent-death signal stops Locust instead
    of leaving it sending load that nobody will record or stop."""
    proc, run_dir = start_run(tmp_path, server, 400, "-u", "4", "-r", "50")
    wait_for(lambda: lines(run_dir) >= 8, proc, "8 records")
    locust = pid_of(orjson.loads((run_dir / "run.json").read_bytes()))
    proc.kill()
    proc.communicate(timeout=WAIT_S)
    deadline = time.monotonic() + 30
    while group_members(locust) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert group_members(locust) == []  # the master and everything it forked are gone
    sent = len(server.received)
    time.sleep(1.0)
    assert len(server.received) == sent  # and nothing is sent any more
