"""Semantic-cache lookup cost: the mock's index search against faiss's own raw query, same run.

    .venv/bin/python bench/bench_semantic.py [--sizes 10000,100000] [--queries 2000]

For each size N, one scope holds N entries (vectors of synthetic prompts from the offline
embedder, built in one faiss call); then per lookup, timed one by one:

* raw:  ``IndexHNSWFlat.search(q, 1)`` on the very index the mock built (faiss alone);
* ours: ``SemanticIndex.search(scope, q, threshold)`` — scope lookup, the HNSW top-8, exact
  re-ranking against the stored rows (determinism: earliest entry on ties), the threshold.

Queries: half are near-duplicates of stored entries (what a cache hit looks like), half new
prompts. Printed: p50/p99 per lookup in microseconds, the ratio raw/ours of the p50s (target
>= 0.5), our recall@1 against an exact scan on the near-duplicates, and the offline embedder's
texts/s (the other cost of every lookup). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mock_server.embedder import DIMS, embed  # noqa: E402
from mock_server.semantic import ScopeIndex, SemanticIndex  # noqa: E402

WORDS = ("order status refund invoice account password reset shipping delivery customer report "
         "summary quarterly payment card address change cancel subscription plan upgrade error "
         "login email phone number support ticket open close update price discount").split()


def prompts(n: int, rng: random.Random) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12))) + f" #{rng.randrange(10**6)}"
            for _ in range(n)]


def embed_rate(texts: list[str]) -> float:
    t = time.perf_counter()
    for text in texts:
        embed(text)
    return len(texts) / (time.perf_counter() - t)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def run_size(n: int, n_queries: int, seed: int) -> None:
    rng = random.Random(seed)
    t = time.perf_counter()
    rows = np.stack([embed(p) for p in prompts(n, rng)])
    t_embed = time.perf_counter() - t
    index = SemanticIndex()
    t = time.perf_counter()
    scope = index.scopes["s"] = ScopeIndex(DIMS)
    scope.extend([f"k{i}" for i in range(n)], rows)
    t_build = time.perf_counter() - t
    near = rows[rng.sample(range(n), n_queries // 2)]
    noise = np.random.default_rng(seed).standard_normal(near.shape).astype(np.float32) * np.float32(0.03)
    near = near + noise
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    fresh = np.stack([embed(p) for p in prompts(n_queries - len(near), rng)])
    queries = np.concatenate([near, fresh]).astype(np.float32)
    raw_index = scope._ann
    assert raw_index is not None, "the bench needs N >= ANN_MIN"
    raw, ours, got = [], [], []
    for i, q in enumerate(queries):  # interleaved, alternating who goes first: same machine load
        q2 = q.reshape(1, -1)
        if i % 2:
            t0 = time.perf_counter()
            raw_index.search(q2, 1)
            t1 = time.perf_counter()
            found = index.search("s", q, 0.0)
            t2 = time.perf_counter()
            raw.append((t1 - t0) * 1e6)
            ours.append((t2 - t1) * 1e6)
        else:
            t0 = time.perf_counter()
            found = index.search("s", q, 0.0)
            t1 = time.perf_counter()
            raw_index.search(q2, 1)
            t2 = time.perf_counter()
            ours.append((t1 - t0) * 1e6)
            raw.append((t2 - t1) * 1e6)
        got.append(found[0] if found else None)
    truth = [f"k{i}" for i in np.argmax(near @ rows.T, axis=1)]
    recall = sum(a == b for a, b in zip(got[:len(near)], truth, strict=True)) / len(near)
    (r50, r99), (o50, o99) = percentiles(raw), percentiles(ours)
    print(f"N={n:>7,}: embed {n / t_embed:,.0f} texts/s, HNSW build {t_build:.1f} s")
    print(f"  raw faiss search   p50 {r50:7.1f} us  p99 {r99:8.1f} us")
    print(f"  ours (mock search) p50 {o50:7.1f} us  p99 {o99:8.1f} us  ratio raw/ours {r50 / o50:.2f} "
          f"(target >= 0.5)  recall@1 near-duplicates {recall:.3f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--queries", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    rate = embed_rate(prompts(5000, random.Random(args.seed)))
    print(f"offline embedder ({DIMS} dims): {rate:,.0f} texts/s")
    for n in (int(x) for x in args.sizes.split(",")):
        run_size(n, args.queries, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
