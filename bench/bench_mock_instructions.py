"""Instructions per request, mock vs the bare aiohttp server, counted by valgrind's callgrind.

    .venv/bin/python bench/bench_mock_instructions.py [--requests 1500] [--cases miss,hit,...]

Why: on a shared 2-core machine, requests/s moves with whatever else runs; instructions executed
per request do not (callgrind counts them the same on an idle or a busy machine). This is the
steady figure behind bench_mock_server.py's capacity ratio — not a replacement for it: a ratio of
instructions ignores the kernel's share and the caches, so read both.

How: each server runs under ``valgrind --tool=callgrind`` (about 50x slower); after 200 warm-up
requests its counters are zeroed (``callgrind_control -z``), a fixed number of requests is sent
(an aiohttp client, 32 connections, loopback), and the counters are dumped and divided by that
number. The cases are bench_mock_server.py's: the bare server returning the mock's own bytes,
and the mock (``instant`` profile, memory cache) on unique prompts (MISS) and one prompt (HIT),
plain and streamed. Each case takes one to two minutes.
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
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_mock_server as capacity  # noqa: E402

from suite.services import free_port, stop_pid, wait_for_port  # noqa: E402

CHAT = "/v1/chat/completions"


async def _send(url: str, body: bytes, n: int, connections: int, tag: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as s:
        async def worker(first: int) -> None:
            for i in range(first, n, connections):
                data = body.replace(capacity.UNIQUE.encode(), f"{tag}-{i}".encode())
                async with s.post(url, data=data,
                                  headers={"Content-Type": "application/json"}) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"{url} answered {resp.status}")

        await asyncio.gather(*(worker(k) for k in range(connections)))


def per_request(cmd: list[str], path: str, body: bytes, n: int, tmp: Path) -> float:
    """Instructions per request of the server ``cmd`` (``{port}`` filled in) under callgrind."""
    port = free_port()
    out = tmp / f"callgrind.{port}"
    args = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            *(c.format(port=port) for c in cmd)]
    proc = subprocess.Popen(args, cwd=capacity.REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, 300, proc)
        url = f"http://127.0.0.1:{port}{path}"
        asyncio.run(_send(url, body, 200, 32, "warm"))
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        asyncio.run(_send(url, body, n, 32, os.urandom(4).hex()))
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
    finally:
        stop_pid(proc, timeout=60)
    dumps = [p for p in tmp.glob(f"callgrind.{port}.*")]  # the -d dump (not the exit one)
    totals = [int(m.group(1)) for p in dumps
              if (m := re.search(r"^(?:summary|totals): (\d+)", p.read_text(), re.M))]
    if not totals:
        raise RuntimeError(f"no callgrind dump for {' '.join(cmd)}")
    return max(totals) / n


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=1500)
    p.add_argument("--cases", default="bare-json,miss,hit,bare-sse,stream-miss,stream-hit")
    a = p.parse_args()
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        print("not measured: valgrind is not installed (apt-get install valgrind).")
        return 0
    plain = orjson.dumps(capacity.BODY)
    stream = orjson.dumps({**capacity.BODY, "stream": True})
    unique_plain, unique_stream = (b.replace(b"answer?", b"answer? " + capacity.UNIQUE.encode())
                                   for b in (plain, stream))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        capacity.capture_replies(tmp, plain, stream)
        bare_file = tmp / "bare.py"
        bare_file.write_text(capacity.BARE_SERVER)
        bare = [sys.executable, str(bare_file), "{port}", *capacity.REPLY_FILES]
        mock = [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", "{port}",
                "--cache", "memory"]
        cases = {"bare-json": (bare, "/same-json", plain), "bare-sse": (bare, "/same-sse", stream),
                 "miss": (mock, CHAT, unique_plain), "hit": (mock, CHAT, plain),
                 "stream-miss": (mock, CHAT, unique_stream), "stream-hit": (mock, CHAT, stream)}
        found: dict[str, float] = {}
        print(f"callgrind, {a.requests} requests per case after 200 warm-up, 32 connections")
        for name in a.cases.split(","):
            found[name] = per_request(*cases[name], a.requests, tmp)
            ref = "bare-sse" if name.startswith("stream") else "bare-json"
            ratio = f"  bare/mock {found[ref] / found[name]:.2f}" if ref in found and \
                not name.startswith("bare") else ""
            print(f"  {name:<12} {found[name] / 1000:8.1f} k instructions/request{ratio}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
