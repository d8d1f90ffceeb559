"""Timing benchmarks of the mock server: fidelity, 1,000 open streams, cache-hit path.

    .venv/bin/python bench/bench_mock_timing.py [--only fidelity|streams|hitpath] [--quick]

The server runs in its own process pinned to CPU 0, the load generator (an aiohttp client in its
own process) on CPU 1, loopback only. Figures are printed, not asserted (this is not a test).

a. Timing fidelity — profile ``fixed-200ms`` (TTFT 200 ms, 20 ms per token, 64 tokens, no
   jitter, no cache) at 1, 64 and 512 concurrent streams, with spread (Poisson) arrivals and with
   all streams released at once. The errors are the SERVER's: achieved minus configured, from its
   own ``--timing-log`` stamps (receipt -> first content chunk written; gaps between content-chunk
   writes), joined to the client's requests by X-Request-Id. The client-observed TTFT error (the
   server's plus the client's own reading delay) is shown beside it. Target: p99 TTFT error
   <= 5 ms at 64 streams with spread arrivals.
b. 1,000 open streams — profile ``slow`` (TTFT 0.5 s, 30 tokens at 10/s: ~3.4 s each), all
   opened at once; errors counted, the server's peak RSS sampled from /proc.
c. Cache-hit path — the mock on a private Redis, ``instant`` profile (hit_overhead_s 0):
   sequential non-streaming HITs over one keep-alive connection vs a raw redis-py GET of the same
   stored value, same run, same client core; the difference of the p50s is the target (<= 1 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
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

from suite.services import MockServerProcess, start_mock_server, start_redis  # noqa: E402

SERVER_CPU, CLIENT_CPU = 0, 1
FIXED, TTFT_S, ITL_S, TOKENS = "fixed-200ms", 0.2, 0.02, 64
CONTENT = b'"delta":{"content":'


def pin(cpu: int, pid: int = 0) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(pid, {cpu})


def start_pinned_mock(args: list[str], log: Path) -> MockServerProcess:
    server = start_mock_server(args, log)
    pin(SERVER_CPU, server.proc.pid)
    return server


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# ---- the streaming load generator (its own process: ``--stream-client JSON``) -------------------

async def one_stream(session: Any, url: str, body: bytes, delay: float,
                     rid: str) -> tuple[float, int, int]:
    """(client TTFT, content events read, status) of one streamed request sent after ``delay``."""
    await asyncio.sleep(delay)
    t0 = time.perf_counter()
    first, events = float("nan"), 0
    headers = {"Content-Type": "application/json", "X-Request-Id": rid}
    async with session.post(url, data=body, headers=headers) as resp:
        async for data in resp.content.iter_any():
            n = data.count(CONTENT)
            if n and not events:
                first = time.perf_counter() - t0
            events += n
        status = resp.status
    return first, events, status


def arrival_delays(n_streams: int, total: int, mode: str, mean_s: float) -> list[float]:
    """All at 0 (burst), or Poisson arrivals at the rate that keeps n_streams open on average."""
    if mode == "burst":
        return [0.0] * total
    rng, rate, t, delays = random.Random(1), n_streams / mean_s, 0.0, []
    for _ in range(total):
        t += rng.expovariate(rate)
        delays.append(t)
    return delays


async def client_main(url: str, n_streams: int, total: int, mode: str, mean_s: float, model: str,
                      tag: str) -> list[Any]:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=timeout) as session:
        tasks = []
        for i, delay in enumerate(arrival_delays(n_streams, total, mode, mean_s)):
            body = orjson.dumps({"model": model, "max_tokens": TOKENS, "stream": True,
                                 "messages": [{"role": "user", "content": f"{tag} q{i}"}]})
            tasks.append(one_stream(session, url, body, delay, f"{tag}-{i}"))
        results = await asyncio.gather(*tasks, return_exceptions=True)
    return [r if not isinstance(r, BaseException) else repr(r) for r in results]


def stream_client_args(url: str, n: int, total: int, mode: str, mean_s: float, model: str,
                       tag: str) -> list[str]:
    arg = orjson.dumps([url, n, total, mode, mean_s, model, tag]).decode()
    return [sys.executable, __file__, "--stream-client", arg]


# ---- a. timing fidelity ----------------------------------------------------------------------

def fidelity(log_dir: Path, quick: bool) -> None:
    timing = log_dir / "timing.jsonl"
    server = start_pinned_mock(["--cache", "none", "--timing-log", str(timing)],
                               log_dir / "fidelity.log")
    url = server.url + "/v1/chat/completions"
    mean_s = TTFT_S + (TOKENS - 1) * ITL_S
    client: dict[str, list[Any]] = {}
    cases = [(n, mode) for n in (1, 64, 512) for mode in ("poisson", "burst")]
    try:
        for n, mode in cases:
            total = n if mode == "burst" else max(30, n * (2 if quick else 4))
            tag = f"n{n}-{mode}"
            out = subprocess.run(stream_client_args(url, n, total, mode, mean_s, FIXED, tag),
                                 cwd=REPO, stdout=subprocess.PIPE, check=True).stdout
            client[tag] = orjson.loads(out)
    finally:
        server.stop()  # SIGTERM: the timing log's last batch is flushed
    lines = [orjson.loads(x) for x in timing.read_bytes().splitlines()]
    print(f"timing fidelity ({FIXED}: TTFT 200 ms, ITL 20 ms, {TOKENS} tokens), error = achieved "
          "- configured in ms, from the server's own stamps (--timing-log):")
    for n, mode in cases:
        tag = f"n{n}-{mode}"
        report_fidelity(tag, [r for r in lines if (r["request_id"] or "").startswith(tag + "-")],
                        client[tag])


def report_fidelity(tag: str, server: list[dict[str, Any]], client: list[Any]) -> None:
    ttft = [(r["ttft_s"] - r["ttft_target_s"]) * 1e3 for r in server if r["ttft_s"] is not None]
    itl = [(g - ITL_S) * 1e3 for r in server for g in r["itl_s"]]
    coalesced = sum(1 for r in server for g in r["itl_s"] if g == 0.0)
    ok = [r for r in client if isinstance(r, list) and r[2] == 200 and r[1] == TOKENS]
    seen = [(r[0] - TTFT_S) * 1e3 for r in ok]
    print(f"  {tag:<12} {len(client):>4} req, {len(client) - len(ok)} errors | server TTFT err "
          f"p50 {pct(ttft, 50):5.2f} p99 {pct(ttft, 99):6.2f} max {max(ttft, default=0):6.2f} | "
          f"ITL err p50 {pct(itl, 50):5.2f} p99 {pct(itl, 99):6.2f} ({coalesced} coalesced) | "
          f"client TTFT err p50 {pct(seen, 50):5.2f} p99 {pct(seen, 99):6.2f}")


# ---- b. 1,000 open streams -------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_streams(log_dir: Path, n: int = 1000) -> None:
    server = start_pinned_mock(["--cache", "none"], log_dir / "streams.log")
    idle = rss_mb(server.proc.pid)
    out = log_dir / "streams.json"  # a file, not a pipe: a full pipe would block the client
    try:
        with out.open("wb") as sink:
            client = subprocess.Popen(stream_client_args(server.url + "/v1/chat/completions", n, n,
                                                         "burst", 3.4, "slow", "open"),
                                      cwd=REPO, stdout=sink)
            peak, t0 = idle, time.perf_counter()
            while client.poll() is None:
                peak = max(peak, rss_mb(server.proc.pid))
                time.sleep(0.05)
            wall = time.perf_counter() - t0
    finally:
        server.stop()
    results = orjson.loads(out.read_bytes())
    ok = [r for r in results if isinstance(r, list) and r[2] == 200 and r[1] == 30]
    print(f"{n} streams opened at once (slow: 0.5 s + 30 tokens at 10/s): {len(ok)} complete, "
          f"{n - len(ok)} errors, wall {wall:.1f}s; server RSS idle {idle:.0f} MB, peak "
          f"{peak:.0f} MB ({(peak - idle) * 1024 / n:.0f} kB per open stream)")


# ---- c. cache-hit path vs raw redis GET ------------------------------------------------------

def timed_hits(url: str, body: bytes, n: int) -> tuple[list[float], str]:
    host, port = url.split("//")[1].split(":")
    conn = HTTPConnection(host, int(port))
    hits, key = [], ""
    for i in range(n + 1):
        t0 = time.perf_counter()
        conn.request("POST", "/v1/chat/completions", body=body,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if i:
            hits.append(time.perf_counter() - t0)
            assert resp.getheader("X-Cache") == "HIT"
        key = resp.getheader("X-Cache-Key") or key
    conn.close()
    return hits, key


def hit_path(log_dir: Path, n: int) -> None:
    import redis

    from mock_server.cache import KEY_PREFIX

    pin(CLIENT_CPU)
    store = start_redis()
    server = start_pinned_mock(["--cache", store.url], log_dir / "hitpath.log")
    try:
        body = orjson.dumps({"model": "instant", "max_tokens": 16,
                             "messages": [{"role": "user", "content": "hit path"}]})
        hits, key = timed_hits(server.url, body, n)
        client = redis.Redis.from_url(store.url)
        value = client.get(KEY_PREFIX + key)
        gets = []
        for _ in range(n):
            t0 = time.perf_counter()
            client.get(KEY_PREFIX + key)
            gets.append(time.perf_counter() - t0)
    finally:
        server.stop()
        store.stop()
    h50, g50 = statistics.median(hits) * 1e3, statistics.median(gets) * 1e3
    print(f"cache-hit path ({n} sequential non-streaming HITs, entry {len(value or b'')} B): "
          f"HIT p50 {h50:.3f} ms p99 {pct(hits, 99) * 1e3:.3f} ms; raw redis-py GET p50 "
          f"{g50:.3f} ms p99 {pct(gets, 99) * 1e3:.3f} ms; HIT - GET at p50 = {h50 - g50:.3f} ms "
          "(target <= 1 ms; includes the HTTP exchange)")


def timing_benchmarks(only: str | None, quick: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f}; python "
              f"{sys.version.split()[0]}; server on CPU {SERVER_CPU}, client on CPU {CLIENT_CPU}")
        if only in (None, "fidelity"):
            fidelity(Path(tmp), quick)
        if only in (None, "streams"):
            open_streams(Path(tmp))
        if only in (None, "hitpath"):
            hit_path(Path(tmp), 500 if quick else 2000)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=["fidelity", "streams", "hitpath"])
    p.add_argument("--quick", action="store_true", help="fewer requests per timing case")
    p.add_argument("--stream-client", help=argparse.SUPPRESS)  # internal: streaming load generator
    a = p.parse_args(argv)
    if a.stream_client:
        pin(CLIENT_CPU)
        print(orjson.dumps(asyncio.run(client_main(*orjson.loads(a.stream_client)))).decode())
        return 0
    timing_benchmarks(a.only, a.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
