"""Capacity of the mock server against a bare aiohttp hello-world, measured in the same run.

    .venv/bin/python bench/bench_mock_server.py [--duration 5] [--connections 64]

Each server runs in its own process pinned to CPU 0; the load generator (wrk when installed, else
an aiohttp client in its own process) is pinned to CPU 1, 64 connections, loopback only. The mock
uses the ``instant`` profile (zero latency), so what is measured is its per-request CPU cost:
parsing, planning (tokenizing the completion), the cache, metrics and JSON/SSE writing.
Target: mock >= 0.5x the bare server. Figures are printed, not asserted (this is not a test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from suite.services import free_port, stop_pid, wait_for_port  # noqa: E402

SERVER_CPU, CLIENT_CPU = "0", "1"
BODY = {"model": "instant", "messages": [{"role": "user", "content": "How fast can you answer?"}],
        "max_tokens": 16}
BARE_SERVER = """
import sys
from aiohttp import web
async def hello(request):
    return web.Response(text="Hello, World!")
app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""
WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("BENCH_BODY_FILE")):read("*a")
"""


def pinned(cpu: str, args: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *args] if shutil.which("taskset") and os.cpu_count() != 1 else args


def start_bare() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(pinned(SERVER_CPU, [sys.executable, "-c", BARE_SERVER, str(port)]))
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
    """(requests/s, non-2xx count) from one wrk run; POSTs ``body`` when given."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", url]
        env = dict(os.environ)
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
    deadline = time.perf_counter() + seconds
    conn = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=conn) as session:
        async def worker() -> None:
            while time.perf_counter() < deadline:
                method = session.post(url, data=body, headers={"Content-Type": "application/json"}) \
                    if body is not None else session.get(url)
                async with method as resp:
                    await resp.read()
                    counts[0 if resp.status < 300 else 1] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    return counts


def run_client(url: str, body: bytes | None, seconds: float, connections: int) -> tuple[float, int]:
    """Fallback load generator when wrk is missing: aiohttp client in its own pinned process."""
    code = ("import asyncio, sys, orjson; sys.path.insert(0, %r); from bench.bench_mock_server "
            "import _client_load; a = orjson.loads(sys.argv[1]); "
            "print(orjson.dumps(asyncio.run(_client_load(*a))).decode())" % str(REPO))
    arg = orjson.dumps([url, body.decode() if body else None, seconds, connections]).decode()
    out = subprocess.run(pinned(CLIENT_CPU, [sys.executable, "-c", code, arg]), cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    ok, bad = orjson.loads(out)
    return (ok + bad) / seconds, bad


def measure(start: tuple[subprocess.Popen[bytes], str], path: str, body: bytes | None,
            seconds: float, connections: int) -> tuple[float, int]:
    proc, base = start
    load = run_wrk if shutil.which("wrk") else run_client
    try:
        load(base + path, body, 1.0, connections)  # warm-up: connections, caches, tokenizer
        return load(base + path, body, seconds, connections)
    finally:
        stop_pid(proc)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--connections", type=int, default=64)
    a = p.parse_args()
    plain, stream = orjson.dumps(BODY), orjson.dumps({**BODY, "stream": True})
    cases = [
        ("bare aiohttp hello-world (GET /)", start_bare, "/", None),
        ("mock instant, non-streaming, cache none (plan every request)",
         lambda: start_mock("none"), "/v1/chat/completions", plain),
        ("mock instant, non-streaming, memory cache HIT", lambda: start_mock("memory"),
         "/v1/chat/completions", plain),
        ("mock instant, streaming 16 chunks, cache none", lambda: start_mock("none"),
         "/v1/chat/completions", stream),
        ("mock instant, streaming 16 chunks, memory cache HIT", lambda: start_mock("memory"),
         "/v1/chat/completions", stream),
    ]
    tool = "wrk -t1" if shutil.which("wrk") else "aiohttp client"
    print(f"load: {tool} -c{a.connections} for {a.duration:g}s per case; server on CPU "
          f"{SERVER_CPU}, client on CPU {CLIENT_CPU}; python {sys.version.split()[0]}")
    bare = None
    for name, start, path, body in cases:
        rps, bad = measure(start(), path, body, a.duration, a.connections)
        bare = bare or rps
        flag = "" if bad == 0 else f"  ({bad} non-2xx!)"
        print(f"{name:<62} {rps:>9,.0f} req/s  {rps / bare:5.2f}x bare{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
