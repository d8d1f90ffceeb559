"""Would polars or DuckDB beat numpy/pandas for the summary at 10M records? (issue 17; not run by
run_all: it needs ``pip install polars duckdb``, which the suite does not depend on.)

The summary's heavy kernels on synthetic data held in memory (no reading): per (model × cache
outcome), per model and overall p50/p90/p95/p99 + mean of TTFT and E2E, and the pooled
inter-token-gap percentiles (16 gaps per record). ``numpy`` is a full sort, then picks (the
suite's way until issue 17), ``npsel`` the same picks by ``np.partition`` (the suite's way now:
suite.analyze.summarize.stats.select_percentiles, same numbers bit for bit), ``polars`` group_by +
quantile, ``duckdb`` grouping sets + quantile_cont. Wall and CPU seconds, peak RSS, each engine in
its own process.

    .venv/bin/python bench/summary_engines.py [N]      # default 10000000
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

Q = [0.5, 0.9, 0.95, 0.99]


def data(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    ttft = rng.lognormal(-1, 0.3, n)
    return {"model": rng.integers(0, 2, n).astype(np.int32), "cache": rng.integers(0, 3, n).astype(np.int32),
            "ttft": ttft, "e2e": ttft + rng.exponential(2, n), "gaps": rng.exponential(0.012, n * 16)}


def by_numpy(d: dict[str, np.ndarray], partition: bool) -> Any:
    def pick(v: np.ndarray) -> list[float]:
        k = sorted({int(q * (len(v) - 1)) for q in Q})
        s = np.partition(v, k) if partition else np.sort(v)
        return [float(s[i]) for i in k] + [float(v.mean())]
    out: dict[Any, Any] = {}
    for col in ("ttft", "e2e"):
        v = d[col]
        for m in range(2):
            for c in range(3):
                out[(col, m, c)] = pick(v[(d["model"] == m) & (d["cache"] == c)])
            out[(col, m)] = pick(v[d["model"] == m])
        out[col] = pick(v.copy())
    out["itl"] = pick(d["gaps"])
    return out


def by_polars(d: dict[str, np.ndarray]) -> Any:
    import polars as pl
    df = pl.DataFrame({k: d[k] for k in ("model", "cache", "ttft", "e2e")})
    aggs = [pl.col(c).quantile(q, "linear").alias(f"{c}{q}") for c in ("ttft", "e2e") for q in Q]
    aggs += [pl.col("ttft").mean(), pl.col("e2e").mean()]
    gaps = pl.Series(d["gaps"])
    return (df.group_by(["model", "cache"]).agg(aggs), df.group_by("model").agg(aggs), df.select(aggs),
            [gaps.quantile(q, "linear") for q in Q])


def by_duckdb(d: dict[str, np.ndarray]) -> Any:
    import duckdb
    import pyarrow as pa
    con = duckdb.connect()
    con.register("t", pa.table({k: d[k] for k in ("model", "cache", "ttft", "e2e")}))
    con.register("g", pa.table({"g": d["gaps"]}))
    qs = "[0.5, 0.9, 0.95, 0.99]"
    grouped = (f"select model, cache, quantile_cont(ttft, {qs}), quantile_cont(e2e, {qs}), avg(ttft), "
               "avg(e2e) from t group by grouping sets ((model, cache), (model), ())")
    return (con.execute(grouped).fetchall(),
            con.execute(f"select quantile_cont(g, {qs}) from g").fetchall())


def child(engine: str, n: int) -> None:
    d = data(n)
    t0, c0 = time.perf_counter(), time.process_time()
    {"numpy": lambda: by_numpy(d, False), "npsel": lambda: by_numpy(d, True),
     "polars": lambda: by_polars(d), "duckdb": lambda: by_duckdb(d)}[engine]()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{engine:7s} {n:,} records: wall {wall:6.2f} s, CPU {cpu:6.2f} s, peak RSS {rss:,.0f} MB "
          "(data included)", flush=True)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        return 0
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    for engine in ("numpy", "npsel", "polars", "duckdb"):
        code = subprocess.call([sys.executable, __file__, "--child", engine, str(n)])
        if code:
            print(f"{engine}: failed (exit {code}); polars and duckdb need `pip install polars duckdb`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
