"""Capacity of one driver process against the mock's ``instant`` model (helper of bench_driver.py).

Phases, each in its own process (one core each; the mock on the other), same server, same run:

- driver, non-streaming: req/s with full recording (one JSONL record per request);
- driver, streaming: SSE events parsed per second (each timestamped, JSON-decoded, measured);
- reference: a bare aiohttp client that POSTs the same streamed requests and parses the same
  events with orjson (``BARE_CLIENT``), nothing recorded;
- reference: a plain Locust FastHttpUser doing bare non-streaming POSTs (``PLAIN_LOCUSTFILE``) —
  what the same server and machine allow a Locust process, measured in the same run.

Rates are completed requests (or events) over the window from the first send to the last answer.
On a shared machine the server and the neighbours limit those rates, so the driver's own CPU per
request is measured too (``resource.RUSAGE_CHILDREN`` of the Locust process, minus a short run of
the same corpus for start-up): 1e6 / that = the driver's ceiling on one core.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from suite.driver import run_load
from suite.driver.control.loadopts import LoadOptions
from suite.records import write_jsonl
from suite.services import stop_pid

BARE_CLIENT = r'''
import asyncio, json, sys, time
import aiohttp, orjson
url, users, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def body(i):
    return orjson.dumps({"model": "instant", "messages": [{"role": "user", "content": f"bare {i}"}],
                         "max_tokens": 16, "temperature": 0.0, "stream": True,
                         "stream_options": {"include_usage": True}})
async def main():
    counts = {"requests": 0, "events": 0}
    seq = iter(range(10**9))
    conn = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=conn) as s:
        end = time.perf_counter() + seconds
        async def worker():
            while time.perf_counter() < end:
                async with s.post(url, data=body(next(seq)),
                                  headers={"Content-Type": "application/json"}) as r:
                    async for line in r.content:
                        if line.startswith(b"data: "):
                            counts["events"] += 1
                            if line[6:].strip() != b"[DONE]":
                                orjson.loads(line[6:])
                counts["requests"] += 1
        t0, c0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(users)))
        counts["seconds"] = time.perf_counter() - t0
        counts["cpu_s"] = time.process_time() - c0
    print(json.dumps(counts))
asyncio.run(main())
'''


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
                   "max_tokens": 16, "temperature": 0.0, "stream": False}).encode()
class PlainUser(FastHttpUser):
    wait_time = constant(0)
    @task
    def post(self):
        self.client.post("/v1/chat/completions", data=BODY,
                         headers={"Content-Type": "application/json"}, name="instant")
'''


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _plain_run(target: str, workdir: Path, users: int, seconds: float) -> tuple[int, float, float]:
    """(requests, req/s, CPU seconds of the Locust process)."""
    locustfile, out = workdir / "plain_locustfile.py", workdir / "plain.json"
    locustfile.write_text(PLAIN_LOCUSTFILE)
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users),
           "-r", str(users * 10), "-t", f"{max(1, round(seconds))}s", "--host", target,
           "--only-summary", "--stop-timeout", "5", "--exit-code-on-error", "0"]
    cpu0 = children_cpu()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir,
                            env={**os.environ, "BENCH_OUT": str(out)})
    try:
        proc.wait(timeout=seconds + 60)
    finally:
        stop_pid(proc)
    w = json.loads(out.read_text())
    return w["requests"], w["requests"] / (w["ended"] - w["started"]), children_cpu() - cpu0


def plain_phase(target: str, workdir: Path, users: int, seconds: float) -> dict[str, Any]:
    n, rate, cpu = _plain_run(target, workdir, users, seconds)
    n_base, _, cpu_base = _plain_run(target, workdir, users, 1)  # start-up + 1 s
    out: dict[str, Any] = {"requests": n, "req_per_s": rate}
    if n > n_base:
        out["cpu_us_per_request"] = (cpu - cpu_base) / (n - n_base) * 1e6
    return out


def instant_corpus(path: Path, n: int, stream: bool) -> None:
    """n distinct requests (distinct prompts: a caching server could not short-cut them)."""
    write_jsonl(path, ({"id": f"b{i}", "t": None, "session": f"s{i}", "turn": 0, "model": "instant",
                        "messages": [{"role": "user", "content": f"hi {i}"}], "max_tokens": 16,
                        "temperature": 0.0, "stream": stream, "prompt_tokens": 9, "domain": "bench",
                        "intent": "bench", "key": f"k{i}", "repeat_of": None} for i in range(n)))


def window(records: list[dict[str, Any]]) -> float:
    """First send to last answer, from the records themselves."""
    start = min(r["t_start"] for r in records)
    return max(r["t_start"] + (r["e2e"] or 0.0) for r in records) - start


def driver_phase(target: str, workdir: Path, users: int, seconds: float, stream: bool,
                 name: str) -> dict[str, Any]:
    corpus = workdir / f"{name}.jsonl"
    instant_corpus(corpus, int(10_000 * seconds), stream)
    cpu0 = children_cpu()
    result = run_load(corpus, target, workdir / "runs", users=users, spawn_rate=users * 10,
                      duration_s=seconds, stop_timeout_s=5, run_id=name)
    cpu = children_cpu() - cpu0
    records = [orjson.loads(line) for line in result.requests_path.read_bytes().splitlines()]
    ok = [r for r in records if r["ok"]]
    span = window(records)
    out: dict[str, Any] = {"requests": len(records), "ok": len(ok), "seconds": span,
                           "req_per_s": len(records) / span, "cpu_s": cpu}
    if stream:
        out["content_chunks_per_s"] = sum(r["chunks"] or 0 for r in ok) / span
    # start-up (corpus, tiktoken, Locust): the same corpus, 50 requests
    cpu0 = children_cpu()
    base = run_load(corpus, target, workdir / "runs", users=users, spawn_rate=users * 10,
                    duration_s=seconds, stop_timeout_s=5, run_id=f"{name}-base",
                    load=LoadOptions(max_requests=50))
    base_cpu = children_cpu() - cpu0
    if len(records) > base.records:
        out["cpu_us_per_request"] = (cpu - base_cpu) / (len(records) - base.records) * 1e6
    return out


def bare_phase(target: str, workdir: Path, users: int, seconds: float) -> dict[str, Any]:
    script = workdir / "bare_client.py"
    script.write_text(BARE_CLIENT)
    proc = subprocess.Popen([sys.executable, str(script), target + "/v1/chat/completions",
                             str(users), str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=seconds + 60)
    finally:
        stop_pid(proc)
    counts = json.loads(out)
    return {**counts, "req_per_s": counts["requests"] / counts["seconds"],
            "events_per_s": counts["events"] / counts["seconds"],
            "events_per_cpu_s": counts["events"] / counts["cpu_s"]}


def events_per_response(target: str) -> int:
    """SSE data events (content, role/finish/usage chunks, [DONE]) in one instant answer."""
    import urllib.request

    body = orjson.dumps({"model": "instant", "messages": [{"role": "user", "content": "count"}],
                         "max_tokens": 16, "stream": True, "stream_options": {"include_usage": True}})
    req = urllib.request.Request(target + "/v1/chat/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as resp:
        return sum(1 for line in resp.read().splitlines() if line.startswith(b"data: "))


def capacity(target: str, workdir: Path, users: int, seconds: float, rounds: int) -> dict[str, Any]:
    """Alternate the phases ``rounds`` times; keep each phase's best round (noise only slows)."""
    per_event = events_per_response(target)
    runs: dict[str, list[dict[str, Any]]] = {"plain_json": [], "driver_json": [], "driver_sse": [],
                                              "bare_sse": []}
    t0 = time.perf_counter()
    for i in range(rounds):
        runs["plain_json"].append(plain_phase(target, workdir, users, seconds))
        runs["driver_json"].append(driver_phase(target, workdir, users, seconds, False, f"json{i}"))
        runs["bare_sse"].append(bare_phase(target, workdir, users, seconds))
        runs["driver_sse"].append(driver_phase(target, workdir, users, seconds, True, f"sse{i}"))
    best = {k: max(v, key=lambda r: r["req_per_s"]) for k, v in runs.items()}
    ds = best["driver_sse"]
    ds["events_per_s"] = ds["req_per_s"] * per_event
    cpu_ratio = None
    if "cpu_us_per_request" in ds:
        ds["events_per_cpu_s"] = per_event / ds["cpu_us_per_request"] * 1e6
        cpu_ratio = ds["events_per_cpu_s"] / best["bare_sse"]["events_per_cpu_s"]
    return {"sse_cpu_ratio": cpu_ratio,"events_per_response": per_event, "best": best, "all": runs,
            "wall_s": time.perf_counter() - t0,
            "sse_ratio": best["driver_sse"]["events_per_s"] / best["bare_sse"]["events_per_s"]}


def print_capacity(res: dict[str, Any], users: int) -> None:
    b = res["best"]
    print(f"capacity ({users} users, one process each, best of {len(res['all']['driver_json'])} "
          f"alternating rounds, {res['wall_s']:.0f} s):")
    dj, pj = b["driver_json"], b["plain_json"]
    print(f"  plain FastHttpUser, bare POST (ref.) : {pj['req_per_s']:8.0f} req/s")
    print(f"  driver non-streaming, full recording : {dj['req_per_s']:8.0f} req/s "
          f"({dj['ok']}/{dj['requests']} ok; {dj['req_per_s'] / b['plain_json']['req_per_s']:.2f} "
          f"of plain)  [target >= 5000]")
    if "cpu_us_per_request" in pj:
        print(f"  plain CPU per request (ref.)         : {pj['cpu_us_per_request']:8.0f} us "
              f"=> {1e6 / pj['cpu_us_per_request']:.0f} req/s on one free core")
    if "cpu_us_per_request" in dj:
        print(f"  driver CPU per non-streamed request  : {dj['cpu_us_per_request']:8.0f} us "
              f"=> {1e6 / dj['cpu_us_per_request']:.0f} req/s on one free core")
    ds = b["driver_sse"]
    if "cpu_us_per_request" in ds:
        print(f"  driver CPU per streamed request      : {ds['cpu_us_per_request']:8.0f} us "
              f"({res['events_per_response']} events) => "
              f"{1e6 / ds['cpu_us_per_request'] * res['events_per_response']:.0f} events/s on one core")
    print(f"  driver streaming                     : {b['driver_sse']['events_per_s']:8.0f} events/s "
          f"= {b['driver_sse']['req_per_s']:.0f} req/s x {res['events_per_response']} events "
          f"({b['driver_sse']['content_chunks_per_s']:.0f} content chunks/s)")
    print(f"  bare aiohttp + orjson, same events   : {b['bare_sse']['events_per_s']:8.0f} events/s "
          f"({b['bare_sse']['req_per_s']:.0f} req/s)")
    print(f"  ratio driver / bare aiohttp (SSE)    : {res['sse_ratio']:8.2f}  [target >= 1.0]")
    if res["sse_cpu_ratio"] is not None:
        print(f"  same, per CPU second (events/CPU-s)  : {res['sse_cpu_ratio']:8.2f}  (driver "
              f"{b['driver_sse']['events_per_cpu_s']:.0f}, bare {b['bare_sse']['events_per_cpu_s']:.0f}; "
              f"robust to a busy machine)")
