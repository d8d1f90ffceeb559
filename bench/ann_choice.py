"""How the semantic cache's index library was chosen (docs/mock-server.md, "Why faiss"): faiss
HNSW, hnswlib and usearch against an exact scan, on 256-dim vectors of the offline embedder:
build time, single-query p50/p99, recall@1 on near-duplicate and on new queries. Not run by
run_all.py (it needs the two other libraries, which are not dependencies):

    .venv/bin/pip install hnswlib usearch
    OMP_NUM_THREADS=1 .venv/bin/python bench/ann_choice.py [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mock_server.embedder import DIMS, embed_many  # noqa: E402

WORDS = [f"w{i}" for i in range(3000)] + "order status reset password account refund".split()
Search = Callable[[np.ndarray], int]


def texts(n: int, rng: random.Random) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 14))) + f" {i}" for i in range(n)]


def measure(search: Search, queries: np.ndarray, truth: np.ndarray) -> str:
    lat, got = [], []
    for q in queries:
        t = time.perf_counter()
        got.append(search(q))
        lat.append((time.perf_counter() - t) * 1e6)
    ok = np.array(got) == truth
    half = len(queries) // 2
    return (f"query p50 {np.percentile(lat, 50):8.1f} us p99 {np.percentile(lat, 99):8.1f} us  "
            f"recall@1 near-dup {ok[:half].mean():.3f} new {ok[half:].mean():.3f}")


def builders(rows: np.ndarray) -> dict[str, Callable[[], Search]]:
    import faiss
    import hnswlib
    import usearch.index

    faiss.omp_set_num_threads(1)

    def flat() -> Search:
        index = faiss.IndexFlatIP(DIMS)
        index.add(rows)
        return lambda q: int(index.search(q[None], 1)[1][0, 0])

    def hnsw() -> Search:
        index = faiss.IndexHNSWFlat(DIMS, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = index.hnsw.efSearch = 64
        index.add(rows)
        return lambda q: int(index.search(q[None], 1)[1][0, 0])

    def hnswlib_index() -> Search:
        index = hnswlib.Index("ip", DIMS)
        index.init_index(len(rows), M=16, ef_construction=64, random_seed=1)
        index.set_num_threads(1)
        index.add_items(rows, np.arange(len(rows)))
        index.set_ef(64)
        return lambda q: int(index.knn_query(q, 1)[0][0, 0])

    def usearch_index() -> Search:
        index = usearch.index.Index(ndim=DIMS, metric="ip", dtype="f32", connectivity=16,
                                    expansion_add=64, expansion_search=64)
        index.add(np.arange(len(rows)), rows, threads=1)
        return lambda q: int(index.search(q, 1, threads=1).keys[0])

    return {"faiss flat (exact)": flat, "faiss HNSW": hnsw, "hnswlib": hnswlib_index,
            "usearch": usearch_index}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000")
    args = p.parse_args()
    rng = random.Random(7)
    for n in (int(x) for x in args.sizes.split(",")):
        rows = embed_many(texts(n, rng))
        queries = embed_many(texts(1000, rng))
        noise = np.random.default_rng(1).standard_normal((500, DIMS)).astype(np.float32)
        queries[:500] = rows[rng.sample(range(n), 500)] + np.float32(0.05) * noise
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        truth = np.argmax(queries @ rows.T, axis=1)
        print(f"N={n:,}")
        for name, build in builders(rows).items():
            t = time.perf_counter()
            search = build()
            print(f"  {name:18s} build {time.perf_counter() - t:6.2f} s  {measure(search, queries, truth)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
