"""How fast is the driver? Its request rate against a plain Locust FastHttpUser, same server, same run.

Both load generators hit one server on 127.0.0.1 that answers every POST with the same 16-token
SSE stream (a bare aiohttp app by default, or the bundled mock's ``instant`` model with
``--server mock``). The plain user does a bare ``client.post`` that reads the body whole; the
driver does everything a real run does (SSE parsing of each read, per-event timestamps, JSON decode
of every chunk, token usage, one flushed JSONL record per request). The ratio of their rates and
the difference of their per-request costs is the price of measuring. Bounded: each phase runs
``--seconds`` and every child is stopped by PID. Phases alternate (plain, driver, plain, ...) for
``--rounds`` and the best rate of each is kept, so a noisy neighbour on the machine skews the
ratio less than one back-to-back pair would.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import orjson

from suite.driver import run_load
from suite.driver.measure import StreamAccumulator
from suite.driver.record import build_record, record_line
from suite.driver.sse import SSEParser
from suite.records import CorpusRequest, write_jsonl
from suite.services import free_port, stop_pid, wait_for_port

ROOT = Path(__file__).resolve().parent.parent

BARE_SERVER = r'''
import sys
from aiohttp import web
BODY = open(sys.argv[2], "rb").read()
async def chat(request):
    await request.read()
    return web.Response(body=BODY, headers={"Content-Type": "text/event-stream", "X-Cache": "MISS"})
async def health(request): return web.Response(text="ok")
app = web.Application()
app.router.add_post("/v1/chat/completions", chat)
app.router.add_get("/health", health)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
'''


def reply_body(tokens: int = 16) -> bytes:
    """The bare server's answer: role chunk, one chunk per token, usage chunk, [DONE]."""
    def event(obj: object) -> bytes:
        return b"data: " + orjson.dumps(obj) + b"\n\n"
    head = {"id": "b1", "choices": [{"index": 0, "delta": {"role": "assistant"}}]}
    usage = {"id": "b1", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": tokens}}
    chunks = [event({"id": "b1", "choices": [{"index": 0, "delta": {"content": f" t{i}"}}]})
              for i in range(tokens)]
    return event(head) + b"".join(chunks) + event(usage) + b"data: [DONE]\n\n"


PLAIN_LOCUSTFILE = r'''
import json, os, time
from locust import FastHttpUser, constant, events, task
WINDOW = {"requests": 0}
@events.request.add_listener
def _count(**kw): WINDOW["requests"] += 1
@events.test_start.add_listener
def _start(**kw): WINDOW["started"] = time.time()
@events.test_stop.add_listener
def _stop(**kw):
    WINDOW["ended"] = time.time()
    with open(os.environ["BENCH_OUT"], "w") as fh: json.dump(WINDOW, fh)
BODY = json.dumps({"model": "instant", "messages": [{"role": "user", "content": "hi"}],
                   "max_tokens": 16, "temperature": 0.0, "stream": True}).encode()
class PlainUser(FastHttpUser):
    wait_time = constant(0)
    @task
    def post(self):
        self.client.post("/v1/chat/completions", data=BODY,
                         headers={"Content-Type": "application/json"}, name="instant")
'''


def start_server(kind: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if kind == "mock":
        # no cache: the plain user repeats one body, the driver sends distinct ones — without a
        # cache both cost the server the same
        cmd = [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", str(port),
               "--profiles", str(ROOT / "corpora/profiles/models.yaml"), "--cache", "none",
               "--seed", "0"]
    else:
        script, body = workdir / "bare_server.py", workdir / "reply.sse"
        script.write_text(BARE_SERVER)
        body.write_bytes(reply_body())
        cmd = [sys.executable, str(script), str(port), str(body)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        wait_for_port("127.0.0.1", port, 30, proc)
    except BaseException:
        stop_pid(proc)
        raise
    return proc, f"http://127.0.0.1:{port}"


def pure_path_us(rounds: int = 2000) -> float:
    """CPU of the driver's own per-request work (SSE parse, measure, one record line) on the bare
    server's reply, in process and best of 5 — the least noisy figure of the three."""
    body = reply_body()
    req = CorpusRequest(id="b0", t=None, session="s", turn=0, model="gpt-4o", messages=[],
                        max_tokens=16, temperature=0.0, stream=True, prompt_tokens=9, domain="b",
                        intent="b", key="k")

    def one() -> bytes:
        acc = StreamAccumulator(0.0, req.model, req.prompt_tokens)
        for ev in SSEParser().feed(body, time.perf_counter()):
            if not acc.add(ev):
                break
        m = acc.finish(time.perf_counter(), 200, "miss")
        return record_line(build_record(req, m, target="t", worker="w", user=0, t_start=0.0))

    return min(timeit.repeat(one, number=rounds, repeat=5)) / rounds * 1e6


def write_corpus(path: Path, n: int) -> None:
    """n distinct requests (distinct prompts so a caching server cannot short-cut them)."""
    write_jsonl(path, ({"id": f"b{i}", "t": None, "session": f"s{i}", "turn": 0, "model": "instant",
                        "messages": [{"role": "user", "content": f"hi {i}"}], "max_tokens": 16,
                        "temperature": 0.0, "stream": True, "prompt_tokens": 9, "domain": "bench",
                        "intent": "bench", "key": f"k{i}", "repeat_of": None} for i in range(n)))


def window_rate(requests: int, started: float, ended: float) -> float:
    """Both generators are measured alike: completed requests / (test stop - test start). Locust's
    own CSV is not used: its last periodic write can miss the final seconds."""
    return requests / (ended - started)


def run_plain(target: str, users: int, seconds: int, workdir: Path) -> tuple[int, float]:
    locustfile = workdir / "plain_locustfile.py"
    locustfile.write_text(PLAIN_LOCUSTFILE)
    out = workdir / "plain.json"
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users),
           "-r", str(users * 10), "-t", f"{seconds}s", "--host", target, "--only-summary",
           "--stop-timeout", "5", "--exit-code-on-error", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir,
                            env={**os.environ, "BENCH_OUT": str(out)})
    try:
        proc.wait(timeout=seconds + 60)
    finally:
        stop_pid(proc)
    w = json.loads(out.read_text())
    return w["requests"], window_rate(w["requests"], w["started"], w["ended"])


def run_driver(target: str, users: int, seconds: int, workdir: Path) -> tuple[int, float, int]:
    corpus = workdir / "corpus.jsonl"
    write_corpus(corpus, 60_000 * seconds // 10)
    result = run_load(corpus, target, workdir / "runs", users=users, spawn_rate=users * 10,
                      duration_s=seconds, stop_timeout_s=5)
    ok = sum(1 for line in result.requests_path.open("rb") if b'"ok":true' in line)
    rate = window_rate(result.records, result.meta["started"], result.meta["ended"])
    return result.records, rate, ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", choices=["bare", "mock"], default="bare")
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--seconds", type=int, default=5, help="length of each phase")
    ap.add_argument("--rounds", type=int, default=2, help="plain/driver pairs")
    args = ap.parse_args()
    plain: list[tuple[int, float]] = []
    driver: list[tuple[int, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="bench-driver-") as tmp:
        workdir = Path(tmp)
        server, target = start_server(args.server, workdir)
        try:
            t0 = time.perf_counter()
            for i in range(args.rounds):
                round_dir = workdir / f"round{i}"
                round_dir.mkdir()
                plain.append(run_plain(target, args.users, args.seconds, round_dir))
                driver.append(run_driver(target, args.users, args.seconds, round_dir))
            wall = time.perf_counter() - t0
        finally:
            stop_pid(server)
    report(args, plain, driver, wall)
    print(f"driver pure path (SSE parse + measure + record line, in process, 19 events): "
          f"{pure_path_us():.0f} us per request")
    return 0


def report(args: argparse.Namespace, plain: list[tuple[int, float]],
           driver: list[tuple[int, float, int]], wall: float) -> None:
    plain_n, plain_rps = max(plain, key=lambda x: x[1])
    drv_n, drv_rps, drv_ok = max(driver, key=lambda x: x[1])
    reply = "16-token SSE reply" if args.server == "bare" else "'instant' model, max_tokens 16"
    print(f"server: {args.server} aiohttp on 127.0.0.1, {reply}; {args.users} users, "
          f"{args.rounds} x {args.seconds} s per generator, alternating ({wall:.0f} s total)")
    print("all rounds, req/s: plain " + ", ".join(f"{r:.0f}" for _, r in plain)
          + " | driver " + ", ".join(f"{r:.0f}" for _, r, _ in driver))
    print(f"plain FastHttpUser (bare POST)   : {plain_rps:7.0f} req/s  ({plain_n} requests)")
    print(f"llmsuite driver (measured+logged): {drv_rps:7.0f} req/s  ({drv_n} requests, "
          f"{drv_ok} ok)")
    print(f"ratio driver/plain (best rounds) : {drv_rps / plain_rps:7.2f}")
    print(f"per-request cost                 : plain {1e6 / plain_rps:.0f} us, driver "
          f"{1e6 / drv_rps:.0f} us, driver overhead {1e6 / drv_rps - 1e6 / plain_rps:.0f} us "
          f"(one Locust process = one core)")


if __name__ == "__main__":
    sys.exit(main())
