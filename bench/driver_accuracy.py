"""TTFT accuracy of the driver against the server's own clock (helper of bench_driver.py).

The mock's ``fixed-200ms`` profile (TTFT 200 ms, 20 ms per token, no jitter) with ``--timing-log``
writes, per request, its own receipt → first-content-chunk time (``ttft_s``) keyed by the
``X-Request-Id`` the driver sent. Per request: client TTFT (the record) minus server TTFT; p50 and
p99 in ms, for three ways of loading the server:

- ``1 stream``: one closed-loop user (no queueing anywhere);
- ``poisson``: open loop at the rate that keeps ~``streams`` requests in flight, Poisson arrivals;
- ``lock-step``: ``streams`` closed-loop users released together, every answer the same length,
  so they keep sending and receiving in bursts (the worst case for a client's event loop).

Reference, same server, same run: a bare aiohttp client (``BARE_TTFT_CLIENT``) sending the Poisson
scenario and stamping the first content chunk the same way. On a busy machine both suffer the
same CPU contention; the difference between the two is the driver's own share.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from suite.driver import run_load
from suite.driver.control.loadopts import LoadOptions
from suite.records import write_jsonl
from suite.services import stop_pid

MODEL = "fixed-200ms"
MAX_TOKENS = 8  # 200 ms + 8 x 20 ms = 0.36 s per answer: TTFT is what is measured


def accuracy_corpus(path: Path, n: int, prefix: str) -> None:
    write_jsonl(path, ({"id": f"{prefix}{i:05d}", "t": None, "session": f"{prefix}{i}", "turn": 0,
                        "model": MODEL, "messages": [{"role": "user", "content": f"{prefix} {i}"}],
                        "max_tokens": MAX_TOKENS, "temperature": 0.0, "stream": True,
                        "prompt_tokens": 8, "domain": "bench", "intent": "bench", "key": f"{prefix}{i}",
                        "repeat_of": None} for i in range(n)))


BARE_TTFT_CLIENT = r'''
import asyncio, json, random, sys, time
import aiohttp, orjson
url, rate, n, prefix, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = []
async def one(s, i):
    body = orjson.dumps({"model": "fixed-200ms", "messages": [{"role": "user", "content": f"{prefix} {i}"}],
                         "max_tokens": 8, "temperature": 0.0, "stream": True})
    rid = f"{prefix}{i:05d}"
    t0 = time.perf_counter()
    ttft = None
    async with s.post(url, data=body, headers={"Content-Type": "application/json", "X-Request-Id": rid}) as r:
        async for line in r.content:
            if ttft is None and line.startswith(b"data: {"):
                c = orjson.loads(line[6:])["choices"]
                if c and c[0].get("delta", {}).get("content"):
                    ttft = time.perf_counter() - t0
    rows.append({"id": rid, "ttft": ttft})
async def main():
    rng = random.Random(7)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        tasks, t = [], time.perf_counter()
        for i in range(n):
            t += rng.expovariate(rate)
            await asyncio.sleep(max(0.0, t - time.perf_counter()))
            tasks.append(asyncio.create_task(one(s, i)))
        await asyncio.gather(*tasks)
    with open(out, "w") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows))
asyncio.run(main())
'''


def bare_poisson(target: str, workdir: Path, rate: float, n: int) -> dict[str, Any]:
    """The reference client on the Poisson scenario: its records, shaped like the driver's."""
    script, out = workdir / "bare_ttft.py", workdir / "bare_ttft.jsonl"
    script.write_text(BARE_TTFT_CLIENT)
    proc = subprocess.Popen([sys.executable, str(script), target + "/v1/chat/completions", str(rate),
                             str(n), "bare-", str(out)])
    try:
        proc.wait(timeout=n / rate + 60)
    finally:
        stop_pid(proc)
    rows = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    return {"name": "reference: bare aiohttp, Poisson", "records":
            [{"id": r["id"], "ttft": r["ttft"], "ok": r["ttft"] is not None} for r in rows]}


def scenarios(streams: int, seconds: float) -> list[dict[str, Any]]:
    per_answer = 0.2 + MAX_TOKENS * 0.02
    rate = streams / per_answer  # Little's law: ~streams in flight
    return [
        {"name": "1 stream", "users": 1, "n": max(10, int(1.5 * seconds / per_answer)), "load": None},
        {"name": f"~{streams} Poisson streams", "users": streams, "n": int(rate * seconds),
         "load": LoadOptions(mode="open", rate=rate, arrival="poisson", seed=7)},
        {"name": f"{streams} lock-step users", "users": streams,
         "n": streams * max(3, int(seconds / per_answer)), "load": None},
    ]


def run_scenarios(target: str, workdir: Path, streams: int, seconds: float) -> list[dict[str, Any]]:
    """Run each scenario; return them with their records (joined later with the server's log)."""
    out = []
    for i, sc in enumerate(scenarios(streams, seconds)):
        corpus = workdir / f"acc{i}.jsonl"
        accuracy_corpus(corpus, sc["n"], f"a{i}-")
        result = run_load(corpus, target, workdir / "runs", users=sc["users"],
                          spawn_rate=max(1000, sc["users"]), duration_s=seconds * 4 + 10,
                          stop_timeout_s=5, run_id=f"acc{i}", load=sc["load"])
        records = [orjson.loads(x) for x in result.requests_path.read_bytes().splitlines()]
        out.append({**sc, "records": records})
    poisson = out[1]
    out.append(bare_poisson(target, workdir, poisson["load"].rate, poisson["n"]))
    return out


def _ms_quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p99 * 1000


def join(results: list[dict[str, Any]], timing_log: Path) -> list[dict[str, Any]]:
    server, recv = {}, {}
    for line in timing_log.read_bytes().splitlines():
        row = orjson.loads(line)
        if row.get("request_id") and row.get("ttft_s") is not None:
            server[row["request_id"]] = row["ttft_s"]
            recv[row["request_id"]] = row["t_recv"]
    rows = []
    for sc in results:
        ok = [r for r in sc["records"] if r["ok"] and r["ttft"] is not None]
        diffs = [r["ttft"] - server[r["id"]] for r in ok if r["id"] in server]
        row = {"name": sc["name"], "requests": len(sc["records"]), "joined": len(diffs),
               "p50_ms": None, "p99_ms": None, "client_ttft_p50_ms": None}
        if diffs:
            row["p50_ms"], row["p99_ms"] = _ms_quantiles(diffs)
            row["client_ttft_p50_ms"] = _ms_quantiles([r["ttft"] for r in ok])[0]
        # where the difference is: send -> the server's receipt (our send path, the wire, the
        # server picking the request up), and the rest (server write -> our stamp)
        up = [recv[r["id"]] - r["t_start"] for r in ok if r["id"] in recv and "t_start" in r]
        if up:
            row["up_ms"] = _ms_quantiles(up)
        rows.append(row)
    return rows


def print_accuracy(rows: list[dict[str, Any]]) -> None:
    print(f"accuracy (client TTFT - server TTFT per request, joined by X-Request-Id; mock {MODEL}):")
    for r in rows:
        if r["p50_ms"] is None:
            print(f"  {r['name']:34s}: no request joined ({r['requests']} sent) - is --timing-log there?")
            continue
        print(f"  {r['name']:34s}: p50 {r['p50_ms']:+7.2f} ms  p99 {r['p99_ms']:+7.2f} ms  "
              f"({r['joined']}/{r['requests']} joined; client TTFT p50 {r['client_ttft_p50_ms']:.1f} ms)")
        if "up_ms" in r:
            print(f"  {'':34s}  of which send -> server receipt: p50 {r['up_ms'][0]:.2f} ms, "
                  f"p99 {r['up_ms'][1]:.2f} ms")
    print("  [targets at ~64 Poisson streams: |p50| <= 1 ms, p99 <= 5 ms]")
