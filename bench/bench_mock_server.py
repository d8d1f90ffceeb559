"""Capacity of the mock server against a bare aiohttp hello-world, measured in the same run.

    .venv/bin/python bench/bench_mock_server.py [--duration 5] [--connections 64]

Each server runs in its own process pinned to CPU 0; the load generator (wrk when installed, else
an aiohttp client in its own process) is pinned to CPU 1, 64 connections, loopback only. The mock
uses the ``instant`` profile (zero latency) and its in-memory cache, so what is measured is its
per-request CPU cost: parsing, the cache lookup, planning (MISS: every prompt unique) or not
(HIT: one prompt repeated), metrics and JSON/SSE writing.
Target: mock >= 0.5x the bare server returning the mock's own bytes to the same request
stream (unique prompts for a MISS case), as the median of per-round ratios. Figures are
printed, not asserted (this is not a test).

``--only fidelity|streams|hitpath`` runs one of the timing benchmarks of bench_mock_timing.py
(server-side timing fidelity, 1,000 open streams, cache-hit path); ``--all`` runs capacity, then
all of them. ``--profile`` runs the mock's MISS path in-process under cProfile instead (where the
CPU goes per request; no sockets, no load generator).

Named ``bench_mock_server.py``, not ``mock_server.py``: run as a script, bench/ is first on
sys.path, so a bench/mock_server.py would shadow the ``mock_server`` package.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from http.client import HTTPConnection
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from suite.services import (  # noqa: E402
    free_port,
    stop_pid,
    wait_for_port,
)

SERVER_CPU, CLIENT_CPU = "0", "1"
BODY = {"model": "instant", "messages": [{"role": "user", "content": "How fast can you answer?"}],
        "max_tokens": 16}
BARE_SERVER = """
import sys
from aiohttp import web
REPLY = b'{"id":"chatcmpl-0","object":"chat.completion","choices":[]}' + b' ' * 440
async def hello(request):
    return web.Response(text="Hello, World!")
async def echo(request):  # HTTP work of a chat call (read a JSON body, send 500 B), no logic
    await request.read()
    return web.Response(body=REPLY, content_type="application/json")
SAME = {}  # the mock's own reply bytes (the reference: a bare server returning the same bytes)
for name, arg, kind in (("/same-json", 2, "application/json"), ("/same-sse", 3, "text/event-stream")):
    if len(sys.argv) > arg:
        SAME[name] = (open(sys.argv[arg], "rb").read(), kind)
async def same(request):
    await request.read()
    body, kind = SAME[request.path]
    return web.Response(body=body, headers={"Content-Type": kind})
app = web.Application()
app.router.add_get("/", hello)
app.router.add_post("/post", echo)
for name in SAME:
    app.router.add_post(name, same)
try:  # the reference is aiohttp+uvloop; the mock runs on uvloop too when it is installed
    import uvloop
    loop = uvloop.new_event_loop()
except ImportError:
    loop = None
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, loop=loop)
"""
JSON_REF = "bare aiohttp POST: the mock's non-streaming bytes"
SSE_REF = "bare aiohttp POST: the mock's 16-chunk SSE bytes"
UNIQUE_LOAD = ", unique prompts"
UNIQUE = "__N__"  # replaced per request by a fresh token when prompts must be unique (misses)
WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("BENCH_BODY_FILE")):read("*a")
local unique = os.getenv("BENCH_TAG")
local n = 0
if unique then
  request = function()
    n = n + 1
    return wrk.format(nil, nil, nil, (wrk.body:gsub("__N__", unique .. "-" .. n)))
  end
end
"""


def pinned(cpu: str, args: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *args] if shutil.which("taskset") and os.cpu_count() != 1 else args


REPLY_FILES: list[str] = []  # [json reply, sse reply] captured from the mock before the run


def capture_replies(tmp: Path, plain: bytes, stream: bytes) -> None:
    """Save one real mock reply of each kind for the bare server to send back verbatim."""
    proc, base = start_mock("memory")
    try:
        for name, body in (("reply.json", plain), ("reply.sse", stream)):
            parts = base.split("//")[1].split(":")
            conn = HTTPConnection(parts[0], int(parts[1]), timeout=10)
            conn.request("POST", "/v1/chat/completions", body=body,
                         headers={"Content-Type": "application/json"})
            (tmp / name).write_bytes(conn.getresponse().read())
            conn.close()
            REPLY_FILES.append(str(tmp / name))
    finally:
        stop_pid(proc)


def start_bare() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(pinned(SERVER_CPU, [sys.executable, "-c", BARE_SERVER, str(port),
                                                *REPLY_FILES]))
    wait_for_port("127.0.0.1", port, 15, proc)
    return proc, f"http://127.0.0.1:{port}"


def start_mock(cache: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    args = [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", str(port),
            "--cache", cache]
    proc = subprocess.Popen(pinned(SERVER_CPU, args), cwd=REPO, stdout=subprocess.DEVNULL)
    wait_for_port("127.0.0.1", port, 20, proc)
    return proc, f"http://127.0.0.1:{port}"


def run_wrk(url: str, body: bytes | None, seconds: float, connections: int) -> tuple[float, int]:
    """(requests/s, non-2xx count) from one wrk run; POSTs ``body`` when given, with a unique
    token per request in place of ``__N__``."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", url]
        env = dict(os.environ)
        if body is not None and UNIQUE.encode() in body:
            env["BENCH_TAG"] = os.urandom(6).hex()
        if body is not None:
            (Path(tmp) / "body.json").write_bytes(body)
            (Path(tmp) / "post.lua").write_text(WRK_LUA)
            env["BENCH_BODY_FILE"] = str(Path(tmp) / "body.json")
            args[1:1] = ["-s", str(Path(tmp) / "post.lua")]
        out = subprocess.run(pinned(CLIENT_CPU, args), capture_output=True, text=True, env=env,
                             check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, int(bad.group(1)) if bad else 0


async def _client_load(url: str, body: bytes | None, seconds: float, connections: int) -> list[int]:
    import aiohttp

    counts = [0, 0]
    tag = os.urandom(6).hex()
    deadline = time.perf_counter() + seconds
    conn = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=conn) as session:
        async def worker() -> None:
            while time.perf_counter() < deadline:
                data = body and body.replace(UNIQUE.encode(), f"{tag}-{sum(counts)}".encode())
                method = session.post(url, data=data, headers={"Content-Type": "application/json"}) \
                    if body is not None else session.get(url)
                async with method as resp:
                    await resp.read()
                    counts[0 if resp.status < 300 else 1] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    return counts


def run_client(url: str, body: bytes | None, seconds: float, connections: int) -> tuple[float, int]:
    """Fallback load generator when wrk is missing: aiohttp client in its own pinned process."""
    arg = orjson.dumps([url, body.decode() if body else None, seconds, connections]).decode()
    out = subprocess.run(pinned(CLIENT_CPU, [sys.executable, __file__, "--client", arg]),
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    ok, bad = orjson.loads(out)
    return (ok + bad) / seconds, bad


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (Linux /proc); None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(start: tuple[subprocess.Popen[bytes], str], path: str, body: bytes | None,
            seconds: float, connections: int) -> tuple[float, int, float | None]:
    """(requests/s, non-2xx, server CPU microseconds per request). CPU per request is the
    steadier figure when other processes share the machine."""
    proc, base = start
    load = run_wrk if shutil.which("wrk") else run_client
    try:
        load(base + path, body, 1.0, connections)  # warm-up: connections, caches, tokenizer
        cpu0 = cpu_seconds(proc.pid)
        rps, bad = load(base + path, body, seconds, connections)
        cpu1 = cpu_seconds(proc.pid)
    finally:
        stop_pid(proc)
    us = None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / (rps * seconds) * 1e6
    return rps, bad, us


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=["capacity", "fidelity", "streams", "hitpath"])
    p.add_argument("--all", action="store_true", help="capacity, then fidelity, streams, hitpath")
    p.add_argument("--quick", action="store_true", help="fewer requests per timing case")
    p.add_argument("--profile", action="store_true",
                   help="profile the chat handler in-process instead (mock_handler_profile.py)")
    p.add_argument("--duration", type=float, default=4.0)
    p.add_argument("--repeat", type=int, default=3, help="rounds; cases interleave, medians shown")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--client", help=argparse.SUPPRESS)  # internal: be the fallback load generator
    a = p.parse_args()
    if a.profile:
        from mock_handler_profile import main as profile_main

        return profile_main(["--n", "10000"])
    if a.only not in (None, "capacity"):
        from bench_mock_timing import timing_benchmarks

        timing_benchmarks(a.only, a.quick)
        return 0
    if a.client:
        url, body, seconds, connections = orjson.loads(a.client)
        counts = asyncio.run(_client_load(url, body and body.encode(), seconds, connections))
        print(orjson.dumps(counts).decode())
        return 0
    plain, stream = orjson.dumps(BODY), orjson.dumps({**BODY, "stream": True})
    unique_plain, unique_stream = (b.replace(b"answer?", b"answer? " + UNIQUE.encode())
                                   for b in (plain, stream))
    chat, memory = "/v1/chat/completions", lambda: start_mock("memory")
    cases = [
        ("bare aiohttp hello-world (GET /)", start_bare, "/", None),
        ("bare aiohttp POST: read body, send 500 B JSON", start_bare, "/post", plain),
        (JSON_REF, start_bare, "/same-json", plain),
        (SSE_REF, start_bare, "/same-sse", stream),
        (JSON_REF + UNIQUE_LOAD, start_bare, "/same-json", unique_plain),
        (SSE_REF + UNIQUE_LOAD, start_bare, "/same-sse", unique_stream),
        ("mock instant, non-streaming, MISS (unique prompts)", memory, chat, unique_plain),
        ("mock instant, non-streaming, HIT (same prompt)", memory, chat, plain),
        ("mock instant, streaming 16 chunks, MISS (unique prompts)", memory, chat, unique_stream),
        ("mock instant, streaming 16 chunks, HIT (same prompt)", memory, chat, stream),
    ]
    tool = "wrk -t1" if shutil.which("wrk") else "aiohttp client"
    print(f"load: {tool} -c{a.connections}, {a.duration:g}s per case, {a.repeat} interleaved "
          f"rounds (medians); server on CPU {SERVER_CPU}, client on CPU {CLIENT_CPU}; "
          f"python {sys.version.split()[0]}")
    runs: dict[str, list[tuple[float, int, float | None]]] = {name: [] for name, *_ in cases}
    capture_dir = tempfile.TemporaryDirectory()
    capture_replies(Path(capture_dir.name), plain, stream)
    for _ in range(a.repeat):  # interleaved, so a noisy neighbour hits every case alike
        for name, start, path, body in cases:
            runs[name].append(measure(start(), path, body, a.duration, a.connections))
    report(runs)
    capture_dir.cleanup()
    same_bytes_ratios(runs)
    if a.all:
        from bench_mock_timing import timing_benchmarks

        timing_benchmarks(None, a.quick)
    return 0


def same_bytes_ratios(runs: dict[str, list[tuple[float, int, float | None]]]) -> None:
    """The capacity target: each mock case over the bare server sending the same bytes to
    the same request stream (a MISS case's reference gets the same unique prompts from the same
    wrk script). Each round's mock figure is divided by the same round's reference, so a slow
    stretch of a shared machine moves both; the median of those per-round ratios is the figure,
    [lowest-highest] shows the machine's noise."""
    print("capacity as a ratio to the bare server returning the same bytes (target >= 0.5); "
          "per-round ratios, median [range]:")
    for name in [n for n in runs if n.startswith("mock")]:
        ref = (SSE_REF if "streaming 16" in name else JSON_REF) + \
            (UNIQUE_LOAD if "MISS" in name else "")
        rps = sorted(m[0] / r[0] for m, r in zip(runs[name], runs[ref], strict=True))
        cpu = sorted(r[2] / m[2] for m, r in zip(runs[name], runs[ref], strict=True)
                     if m[2] and r[2])
        by_cpu = f"   by CPU/req {statistics.median(cpu):4.2f}" if cpu else ""
        print(f"  {name:<60} {statistics.median(rps):5.2f}x [{rps[0]:.2f}-{rps[-1]:.2f}]{by_cpu}")


def report(runs: dict[str, list[tuple[float, int, float | None]]]) -> None:
    """Median req/s and CPU/req per case, each as a ratio to the first case (bare hello)."""
    bare_rps = bare_us = None
    for name, results in runs.items():
        rps = statistics.median(r[0] for r in results)
        bad = sum(r[1] for r in results)
        cpu = [r[2] for r in results if r[2] is not None]
        us = statistics.median(cpu) if cpu else None
        bare_rps, bare_us = bare_rps or rps, bare_us or us
        spread = f"[{min(r[0] for r in results):,.0f}-{max(r[0] for r in results):,.0f}]"
        by_cpu = "" if us is None or bare_us is None else \
            f"  {us:6.1f} us CPU/req ({bare_us / us:4.2f}x bare by CPU)"
        flag = "" if bad == 0 else f"  ({bad} non-2xx!)"
        print(f"{name:<62} {rps:>8,.0f} req/s {spread:>15} {rps / bare_rps:5.2f}x bare"
              f"{by_cpu}{flag}")


if __name__ == "__main__":
    sys.exit(main())
