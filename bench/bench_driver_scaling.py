"""Does the driver scale out? Requests/s of one Locust process against ``--processes 2`` (a master
and two workers sharing the corpus), same target, same run.

The target is the bundled mock's ``instant`` model (no latency), non-streamed, so the driver is the
bottleneck — as long as the machine has a core for the mock and one per driver worker. Rates come
from the records themselves (first send to last answer, every record of every shard). Phases
alternate (1, 2, 1, 2, ...) for ``--rounds`` and the best rate of each is kept. On a machine with
fewer than ~3 free cores, the server and the workers share cores and the ratio says so; the
``cores`` line is printed beside it. Traffic goes only to 127.0.0.1; every process started is
stopped by PID.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from suite.driver import Topology, run_load
from suite.records import write_jsonl
from suite.services import start_mock_server

ROOT = Path(__file__).resolve().parent.parent


def corpus(path: Path, n: int) -> None:
    """n distinct non-streamed requests to the instant model (a cache could not short-cut them)."""
    write_jsonl(path, ({"id": f"b{i}", "t": None, "session": f"s{i}", "turn": 0, "model": "instant",
                        "messages": [{"role": "user", "content": f"hi {i}"}], "max_tokens": 16,
                        "temperature": 0.0, "stream": False, "prompt_tokens": 9, "domain": "bench",
                        "intent": "bench", "key": f"k{i}", "repeat_of": None} for i in range(n)))


def phase(target: str, workdir: Path, processes: int, users: int, seconds: float,
          name: str) -> dict[str, Any]:
    path = workdir / f"{name}.jsonl"
    corpus(path, int(12_000 * seconds))
    result = run_load(path, target, workdir / "runs", users=users, spawn_rate=users * 10,
                      duration_s=seconds, stop_timeout_s=5, run_id=name,
                      topology=Topology(processes=processes))
    records = [orjson.loads(line) for p in result.log_files for line in p.read_bytes().splitlines()]
    start = min(r["t_start"] for r in records)
    span = max(r["t_start"] + (r["e2e"] or 0.0) for r in records) - start
    return {"processes": processes or 1, "requests": len(records), "ok": sum(r["ok"] for r in records),
            "seconds": span, "req_per_s": len(records) / span, "complete": result.complete}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short phases, one round")
    ap.add_argument("--users", type=int, default=32, help="closed-loop users in each phase")
    ap.add_argument("--mock-workers", type=int, default=1, help="processes of the mock server")
    args = ap.parse_args()
    seconds, rounds = (3.0, 1) if args.quick else (8.0, 2)
    best: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        workdir = Path(tmp)
        server = start_mock_server(["--profiles", str(ROOT / "corpora/profiles/models.yaml"), "--cache",
                                    "none", "--workers", str(args.mock_workers)],
                                   workdir / f"mock-{time.monotonic_ns()}.log")
        try:
            for r in range(rounds):
                for processes in (0, 2):
                    res = phase(server.url, workdir, processes, args.users, seconds, f"p{processes}-r{r}")
                    key = res["processes"]
                    if key not in best or res["req_per_s"] > best[key]["req_per_s"]:
                        best[key] = res
        finally:
            server.stop()
    one, two = best[1], best[2]
    print(f"cores: {os.cpu_count()}; mock server processes: {args.mock_workers}; users: {args.users}")
    for res in (one, two):
        print(f"driver processes {res['processes']}: {res['req_per_s']:8.0f} req/s "
              f"({res['requests']} requests, {res['ok']} ok, {res['seconds']:.1f} s, "
              f"log complete: {res['complete']})")
    print(f"scaling 2 vs 1 process: {two['req_per_s'] / one['req_per_s']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
