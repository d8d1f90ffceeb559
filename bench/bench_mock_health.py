"""``/health`` latency while 1,000 connections of generation load are open, with and without
``--max-in-flight``, against a reference measured in the same run (no load).

    .venv/bin/python bench/bench_mock_health.py [--connections 1000] [--seconds 12] [--limit 100]

Why: a liveness probe that waits behind generation work makes an orchestrator kill a server that
is merely busy; the mock sheds load beyond ``--max-in-flight`` (503 + Retry-After) so /health
stays fast. Figures are printed, not asserted (this is not a test).

How: the server (profile ``slow``: TTFT 0.5 s, 30 tokens at 10/s, cache off so every request
generates) runs in its own process pinned to CPU 0; the load generator (an aiohttp client in its
own process, pinned to CPU 1) keeps ``--connections`` streams going for ``--seconds``, each
connection sending its next request when one ends and pausing ``Retry-After`` on a 503. The
prober (this process; never on the load generator's CPU, see ``prober_default``) sends one
``GET /health`` every 10 ms on a keep-alive connection once the load has ramped up, and keeps
every latency; p50/p99 come from all of them. Three
phases: no load (the reference), load without a limit, load with ``--max-in-flight N``.
Loopback only, bounded in time (about a minute in all).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from suite.services import MockServerProcess, start_mock_server  # noqa: E402

SERVER_CPU, CLIENT_CPU = 0, 1
RAMP_S = 2.0
PROBE_EVERY_S = 0.01


def pin(cpu: int, pid: int = 0) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(pid, {cpu})


def prober_default() -> int:
    """The prober's CPU: never the load generator's (a busy 1,000-stream client would delay the
    prober's own wake-ups and bill them to the server). With 3+ CPUs one of its own; on 2 it
    shares the server's, which only idles when the server does (measured on 2 CPUs: p99 under
    load about half of what the load generator's CPU gave)."""
    return 2 if (os.cpu_count() or 1) >= 3 else SERVER_CPU


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of every value (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


# --- the load generator (its own process: --load) ---------------------------------------------

async def keep_streaming(session: Any, url: str, body: bytes, deadline: float,
                         counts: dict[str, int]) -> None:
    while time.monotonic() < deadline:
        try:
            async with session.post(url, data=body,
                                    headers={"Content-Type": "application/json"}) as resp:
                await resp.read()
                counts[str(resp.status)] = counts.get(str(resp.status), 0) + 1
                if resp.status == 503:
                    await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))
        except Exception as exc:  # a benchmark counts failures, it does not stop on them
            counts[type(exc).__name__] = counts.get(type(exc).__name__, 0) + 1
            await asyncio.sleep(0.1)


async def load(url: str, connections: int, seconds: float) -> dict[str, int]:
    import aiohttp

    body = orjson.dumps({"model": "slow", "stream": True,
                         "messages": [{"role": "user", "content": "Tell me a long story."}]})
    counts: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=seconds + 30)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(keep_streaming(session, url + "/v1/chat/completions", body,
                                              deadline, counts) for _ in range(connections)))
    return counts


# --- the prober and the phases (this process) -------------------------------------------------

def probe(server: MockServerProcess, seconds: float) -> list[float]:
    """Latency of one GET /health every PROBE_EVERY_S for ``seconds``, in seconds."""
    conn = HTTPConnection("127.0.0.1", server.port, timeout=30)
    out: list[float] = []
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            t0 = time.perf_counter()
            conn.request("GET", "/health")
            resp = conn.getresponse()
            resp.read()
            out.append(time.perf_counter() - t0)
            if resp.status != 200:
                raise RuntimeError(f"/health answered {resp.status}")
            time.sleep(PROBE_EVERY_S)
    finally:
        conn.close()
    return out


def phase(name: str, extra: list[str], connections: int, seconds: float,
          log_dir: Path) -> dict[str, Any]:
    server = start_mock_server(["--profiles", str(REPO / "corpora/profiles/models.yaml"),
                                "--cache", "none", *extra], log_dir / f"{name}.log")
    pin(SERVER_CPU, server.proc.pid)
    gen = None
    try:
        if connections:
            gen = subprocess.Popen([sys.executable, __file__, "--load", server.url,
                                    "--connections", str(connections), "--seconds", str(seconds)],
                                   stdout=subprocess.PIPE, cwd=REPO)
            pin(CLIENT_CPU, gen.pid)
            time.sleep(RAMP_S)
        latencies = probe(server, seconds - RAMP_S - 1.0 if connections else seconds / 2)
        counts = orjson.loads(gen.communicate(timeout=seconds + 60)[0]) if gen else {}
    finally:
        if gen is not None and gen.poll() is None:
            gen.kill()
            gen.wait()
        server.stop()
    return {"name": name, "n": len(latencies), "p50": pct(latencies, 0.50),
            "p99": pct(latencies, 0.99), "max": max(latencies), "load": counts}


def ms(value: float | None) -> str:
    return "not measured" if value is None else f"{value * 1000:8.2f} ms"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--connections", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=14.0)
    p.add_argument("--limit", type=int, default=100, help="--max-in-flight of the third phase")
    p.add_argument("--prober-cpu", type=int, default=None,
                   help="CPU of the prober (default: one of its own with 3+ CPUs, else the "
                   "server's: never the load generator's)")
    p.add_argument("--load", help=argparse.SUPPRESS)  # internal: run as the load generator
    args = p.parse_args()
    if args.load:
        print(orjson.dumps(asyncio.run(load(args.load, args.connections, args.seconds))).decode())
        return 0
    prober_cpu = args.prober_cpu if args.prober_cpu is not None else prober_default()
    pin(prober_cpu)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [phase("reference (no load)", [], 0, args.seconds, Path(tmp)),
                phase(f"{args.connections} connections, no limit", [], args.connections,
                      args.seconds, Path(tmp)),
                phase(f"{args.connections} connections, --max-in-flight {args.limit}",
                      ["--max-in-flight", str(args.limit)], args.connections, args.seconds,
                      Path(tmp))]
    print(f"/health latency, profile slow, cache off, server on CPU {SERVER_CPU}, load on CPU "
          f"{CLIENT_CPU}, prober on CPU {prober_cpu} ({os.cpu_count()} CPUs)")
    ref = rows[0]["p99"]
    for row in rows:
        ratio = "" if not ref or row["p99"] is None else f"  p99 x{row['p99'] / ref:7.1f} ref"
        print(f"  {row['name']:<40} n={row['n']:5d} p50 {ms(row['p50'])} p99 {ms(row['p99'])} "
              f"max {ms(row['max'])}{ratio}")
        if row["load"]:
            print(f"    load answers: {row['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
