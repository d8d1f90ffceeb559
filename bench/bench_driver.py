"""How accurate and how fast is the driver? Against the bundled mock on 127.0.0.1, one run.

1. Accuracy (bench/driver_accuracy.py): client TTFT minus the server's own TTFT per request,
   joined by X-Request-Id with the mock's ``--timing-log``; p50/p99 ms at 1 stream, ~64 Poisson
   streams and 64 lock-step users.
2. Capacity per driver process (bench/driver_capacity.py) against the ``instant`` model:
   non-streaming req/s with full recording (beside a plain FastHttpUser as the same-run
   reference), streamed SSE events/s parsed (ratio to a bare aiohttp + orjson client, same run),
   and the driver's own CPU per request (its ceiling on one free core).
3. In process, no network: the CPU of the exchange itself (build body, read, parse, measure,
   build and write one record) for a non-streamed and a 20-event streamed answer.

``--quick`` shortens every phase (for development); the figures are indicative on a shared
machine — ratios measured in the same run are what to compare. Traffic goes only to 127.0.0.1;
every process started is stopped by PID.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from driver_accuracy import join, print_accuracy, run_scenarios
from driver_capacity import capacity, print_capacity
from driver_inprocess import exchange_cpu_us

from suite.services import start_mock_server

ROOT = Path(__file__).resolve().parent.parent


def mock(workdir: Path, *extra: str):  # type: ignore[no-untyped-def]
    return start_mock_server(["--profiles", str(ROOT / "corpora/profiles/models.yaml"),
                              "--cache", "none", "--seed", "0", *extra],
                             workdir / f"mock-{time.monotonic_ns()}.log")


def accuracy(workdir: Path, streams: int, seconds: float) -> None:
    log = workdir / "timing.jsonl"
    server = mock(workdir, "--timing-log", str(log))
    try:
        results = run_scenarios(server.url, workdir, streams, seconds)
    finally:
        server.stop()  # flushes the timing log
    print_accuracy(join(results, log))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short phases, one round")
    ap.add_argument("--only", choices=["accuracy", "capacity", "inprocess"], default=None)
    ap.add_argument("--users", type=int, default=32, help="users of the capacity phases")
    ap.add_argument("--streams", type=int, default=64, help="concurrency of the accuracy phases")
    args = ap.parse_args()
    seconds, rounds = (3.0, 1) if args.quick else (8.0, 2)
    with tempfile.TemporaryDirectory(prefix="bench-driver-") as tmp:
        workdir = Path(tmp)
        if args.only in (None, "inprocess"):
            json_us, sse_us = exchange_cpu_us(workdir, 2000 if args.quick else 10000)
            print(f"in process: exchange CPU {json_us:.1f} us non-streamed, {sse_us:.1f} us for a "
                  f"20-event stream ({sse_us / 20:.2f} us/event) — body, read, parse, measure, record")
        if args.only in (None, "accuracy"):
            accuracy(workdir, args.streams, seconds)
        if args.only in (None, "capacity"):
            server = mock(workdir)
            try:
                res = capacity(server.url, workdir, args.users, seconds, rounds)
            finally:
                server.stop()
            print_capacity(res, args.users)
    return 0


if __name__ == "__main__":
    sys.exit(main())
