"""What does the columnar mirror cost the driver? The request-log writer alone, in process.

The same 100,000 records written by ``BatchWriter`` with the mirror off and on, alternating, under
gevent's monkey-patching as in the Locust child: CPU per record of the driver's own thread (what
caps its req/s: one core per process) and of the whole process (the mirror's parsing thread
included). bench_driver.py's capacity phase measures the same thing end to end, but on a shared
machine its per-request CPU swings by more than the mirror costs; here nothing else runs.

    .venv/bin/python bench/bench_sink.py [--n 100000] [--rounds 3]

Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402 - after patching, as in the Locust child
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from suite.cachesignal import allowlist  # noqa: E402
from suite.driver.inlocust.sink import BatchWriter  # noqa: E402
from suite.records import RequestRecord  # noqa: E402


def records(n: int) -> list[RequestRecord]:
    """Streamed answers with 16 gaps and a cache header: the driver's usual record."""
    return [RequestRecord(id=f"r{i}", model="gpt-4o", target="http://127.0.0.1:8000", worker="host:1",
                          user=i % 32, t_start=1.7e9 + i, ttft=0.2, e2e=0.4, itl=[0.012] * 16,
                          prompt_tokens=215, completion_tokens=17, tokens_source="usage", status=200,
                          ok=True, cache="miss", response_id=f"chatcmpl-{i}", repeat=False, stream=True,
                          chunks=17, cache_headers={"x-cache": "MISS"}, key=f"k{i:031d}")
            for i in range(n)]


def process_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def one(recs: list[RequestRecord], mirror: bool) -> tuple[float, float]:
    """(µs of the writing thread's CPU per record, µs of the process's CPU per record)."""
    with tempfile.TemporaryDirectory(prefix="bench-sink-") as tmp:
        writer = BatchWriter(Path(tmp) / "requests.jsonl", headers=allowlist() if mirror else None)
        own, whole = time.thread_time(), process_cpu()
        for rec in recs:
            writer.write(rec)
        writer.close()
        return ((time.thread_time() - own) / len(recs) * 1e6, (process_cpu() - whole) / len(recs) * 1e6)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.environ.pop("LLMSUITE_COLUMNAR_LOG", None)
    recs = records(args.n)
    best: dict[bool, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for mirror in (False, True):
            got = one(recs, mirror)
            best[mirror] = min(best.get(mirror, got), got)
    off, on = best[False], best[True]
    print(f"request-log writer, {args.n:,} records, best of {args.rounds} alternating rounds:")
    print(f"  JSONL only        : {off[0]:5.2f} us/record on the driver's thread, {off[1]:5.2f} us in all")
    print(f"  JSONL + .arrows   : {on[0]:5.2f} us/record on the driver's thread, {on[1]:5.2f} us in all")
    print(f"  mirror's cost     : {on[0] - off[0]:+5.2f} us/record on the driver's thread "
          f"(its ~200 us/request budget), {on[1] - off[1]:+5.2f} us in all (the parsing thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
