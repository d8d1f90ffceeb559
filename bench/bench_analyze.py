"""How fast is analysis? load + summarize a synthetic 200k-record request log, against pandas.read_json.

The log is made up in-process (seeded; two models, streaming, cache hits on repeats, 2 % failures,
16 inter-token gaps per request) and written to a temporary run directory; nothing is timed until
it is on disk. The reference is ``pandas.read_json(lines=True)`` on the same file in the same run —
it only parses, so the ratio is conservative. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from suite.analyze.load import load_run
from suite.analyze.pipeline import write_reports
from suite.analyze.summary import summarize

MODELS = ("gpt-4o", "gpt-5-mini")


def synthetic_records(n: int, seed: int) -> list[dict]:
    """n request-log records with realistic shapes (not realistic values: only speed is measured)."""
    rng = np.random.default_rng(seed)
    model = rng.integers(0, 2, n)
    repeat = rng.random(n) < 0.3
    ok = rng.random(n) > 0.02
    ttft = np.where(repeat, 0.004, rng.lognormal(np.log(0.3 + 0.25 * model), 0.2))
    tokens = rng.integers(20, 400, n)
    e2e = ttft + np.where(repeat, 0.002, 0.012 * tokens)
    gaps = np.round(rng.exponential(0.012, (n, 16)), 6)
    return [record(i, MODELS[model[i]], bool(repeat[i]), bool(ok[i]), float(ttft[i]), float(e2e[i]),
                   int(tokens[i]), gaps[i].tolist()) for i in range(n)]


def record(i: int, model: str, repeat: bool, ok: bool, ttft: float, e2e: float, tokens: int,
           itl: list[float]) -> dict:
    return {
        "id": f"r{i:07d}", "model": model, "target": "http://127.0.0.1:8000", "worker": f"w{i % 4}",
        "user": i % 200, "t_start": 1.7e9 + i * 0.005, "scheduled": None, "ttft": ttft if ok else None,
        "e2e": e2e, "itl": itl if ok else None, "prompt_tokens": 215,
        "completion_tokens": tokens if ok else None,
        "tokens_source": "usage", "status": 200 if ok else 503, "ok": ok,
        "error": None if ok else {"kind": "http_5xx", "message": "503 overloaded"},
        "cache": ("hit" if repeat else "miss") if ok else None, "cached_tokens": None,
        "response_id": f"chatcmpl-{i}", "repeat": repeat, "stream": True,
    }


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200_000, help="records in the synthetic log (default 200000)")
    ap.add_argument("--repeats", type=int, default=2, help="timed repetitions, best reported")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        path = run_dir / "requests.jsonl"
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in synthetic_records(args.n, 1)))
        size_mb = path.stat().st_size / 1e6
        load_s, run = best_of(lambda: load_run(run_dir), args.repeats)
        summ_s, summary = best_of(lambda: summarize(run), args.repeats)
        ref_s, _ = best_of(lambda: pd.read_json(path, lines=True), args.repeats)
        write_s, _ = best_of(lambda: write_reports(run_dir, summary, run.requests), 1)
    total = load_s + summ_s
    print(f"log: {args.n} records, {size_mb:.0f} MB; best of {args.repeats}")
    print(f"load (orjson -> typed columns)   : {load_s:6.2f} s  {args.n / load_s:10.0f} records/s")
    print(f"summarize (all metrics)          : {summ_s:6.2f} s  {args.n / summ_s:10.0f} records/s")
    print(f"load + summarize                 : {total:6.2f} s  {args.n / total:10.0f} records/s")
    print(f"pandas.read_json(lines=True) ref : {ref_s:6.2f} s  {args.n / ref_s:10.0f} records/s (parse only)")
    print(f"ratio read_json / load           : {ref_s / load_s:6.2f}")
    print(f"ratio read_json / load+summarize : {ref_s / total:6.2f}")
    print(f"write_reports (json, csv, 2 PNG, html): {write_s:6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
