"""The semantic cache's pure part: what is embedded, the scope a hit may not cross, and the
vector index (faiss HNSW, exact below ``ANN_MIN`` entries).

What is embedded: the request's last message content (chat) or its prompt (completions) — the
new question. Everything else that makes the answer differ is the *scope*: model, the earlier
messages (system prompt and history), the last message's role, max_tokens, temperature, stop and
the endpoint. An entry is only ever searched by requests of the same scope, so a hit never crosses
contexts (a question asked under another system prompt or with another max_tokens is a miss).

The index (one per scope): an exact inner-product scan over the stored unit vectors while the scope
holds fewer than ``ANN_MIN`` entries, then faiss ``IndexHNSWFlat`` (inner product, M=32,
efConstruction 64, efSearch 64; chosen by measurement, docs/mock-server.md). The ANN's top
``RERANK_K`` candidates are re-scored exactly against the stored vectors and the best wins, ties
to the earliest entry: results depend only on the entries and their insertion order (faiss is
single-threaded here, and its HNSW level draws use a fixed seed), never on timing.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import orjson

from mock_server.validate import ChatRequest

if TYPE_CHECKING:
    import faiss

ANN_MIN = 2048  # entries per scope from which the HNSW index is used (exact scan below)
RERANK_K = 8
HNSW_M = 32
EF_CONSTRUCTION = 64
EF_SEARCH = 64
EXACT, SEMANTIC, COALESCED = "exact", "semantic", "coalesced"



class Served(NamedTuple):
    """Which stored entry answered a hit, and how (exact key, semantic neighbour, or the answer
    of an identical request in flight)."""

    key: str
    match: str  # EXACT | SEMANTIC | COALESCED
    similarity: float

    def headers(self) -> dict[str, str]:
        return {"X-Cache-Match": self.match, "X-Cache-Key": self.key,
                "X-Cache-Similarity": f"{self.similarity:.4f}"}


def query_text(request: ChatRequest) -> str:
    """The text a semantic lookup embeds: the prompt, or the last message's content."""
    if request.prompt is not None:
        return request.prompt
    return request.messages[-1].get("content", "") if request.messages else ""


def scope_of(request: ChatRequest) -> str:
    """Hash of everything but the embedded text that shapes the answer (see the docstring)."""
    last = request.messages[-1] if request.messages else {}
    context = {"model": request.model, "before": request.messages[:-1],
               "last": {k: v for k, v in last.items() if k != "content"},
               "max_tokens": request.max_tokens, "temperature": request.temperature,
               "stop": request.stop, "completions": request.prompt is not None}
    return hashlib.sha256(orjson.dumps(context, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


@cache
def _faiss() -> Any:
    """faiss, imported on the first index (the exact-only mock never loads it), single-threaded:
    deterministic builds, and the mock answers on one core per worker."""
    import faiss

    faiss.omp_set_num_threads(1)
    return faiss


def new_hnsw(dims: int) -> faiss.IndexHNSWFlat:
    lib = _faiss()
    index = lib.IndexHNSWFlat(dims, HNSW_M, lib.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    index.hnsw.efSearch = EF_SEARCH
    return index


class ScopeIndex:
    """The vectors of one scope: a growing matrix (the truth, used for exact scans and
    re-ranking) and, from ``ann_min`` entries on, a faiss HNSW index over the same rows."""

    def __init__(self, dims: int, ann_min: int = ANN_MIN) -> None:
        self.dims = dims
        self.ann_min = ann_min
        self.keys: list[str] = []
        self._known: set[str] = set()
        self._rows = np.zeros((64, dims), dtype=np.float32)
        self._ann: faiss.IndexHNSWFlat | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: str, vector: np.ndarray) -> bool:
        """Store ``vector`` under ``key``; False (nothing stored) for a key already present."""
        if key in self._known or vector.shape != (self.dims,):
            return False
        n = len(self.keys)
        if n == len(self._rows):
            self._rows = np.concatenate([self._rows, np.zeros_like(self._rows)])
        self._rows[n] = vector
        self.keys.append(key)
        self._known.add(key)
        if self._ann is not None:
            self._ann.add(self._rows[n:n + 1])
        elif n + 1 >= self.ann_min:
            self._ann = new_hnsw(self.dims)
            self._ann.add(self._rows[:n + 1])
        return True

    def extend(self, keys: list[str], vectors: np.ndarray) -> int:
        """``add`` for many rows at once (one faiss call: a stream catch-up, a bench's build);
        deterministic for the same rows in the same order. How many were new."""
        if (vectors.shape != (len(keys), self.dims) or len(set(keys)) != len(keys)
                or not self._known.isdisjoint(keys)):  # the one-by-one rules decide each row
            return sum(self.add(k, v) for k, v in zip(keys, vectors, strict=False))
        n, m = len(self.keys), len(keys)
        while len(self._rows) < n + m:
            self._rows = np.concatenate([self._rows, np.zeros_like(self._rows)])
        self._rows[n:n + m] = vectors
        self.keys.extend(keys)
        self._known.update(keys)
        if self._ann is not None:
            self._ann.add(self._rows[n:n + m])
        elif n + m >= self.ann_min:
            self._ann = new_hnsw(self.dims)
            self._ann.add(self._rows[:n + m])
        return m

    def nearest(self, vector: np.ndarray) -> tuple[int, float] | None:
        """(row, cosine) of the most similar entry (earliest on ties), None when empty."""
        n = len(self.keys)
        if n == 0:
            return None
        if self._ann is None:
            sims = self._rows[:n] @ vector
            best = int(np.argmax(sims))  # argmax: the first maximum, so the earliest entry
            return best, float(sims[best])
        _, ids = self._ann.search(vector.reshape(1, -1), RERANK_K)
        rows = np.unique(ids[0][ids[0] >= 0])  # sorted: ties go to the earliest row
        sims = self._rows[rows] @ vector
        best = int(np.argmax(sims))
        return int(rows[best]), float(sims[best])


class SemanticIndex:
    """Per-scope indexes of one cache (a scope's index is created by its first entry)."""

    def __init__(self, ann_min: int = ANN_MIN) -> None:
        self.ann_min = ann_min
        self.scopes: dict[str, ScopeIndex] = {}

    def __len__(self) -> int:
        return sum(len(s) for s in self.scopes.values())

    def add(self, scope: str, key: str, vector: np.ndarray) -> bool:
        index = self.scopes.get(scope)
        if index is None:
            index = self.scopes[scope] = ScopeIndex(len(vector), self.ann_min)
        return index.add(key, vector)

    def search(self, scope: str, vector: np.ndarray, threshold: float) -> tuple[str, float] | None:
        """(key, cosine) of the nearest entry of ``scope`` when its cosine reaches ``threshold``."""
        index = self.scopes.get(scope)
        if index is None or vector.shape != (index.dims,) or not vector.any():
            return None
        found = index.nearest(vector)
        if found is None or found[1] < threshold:
            return None
        return index.keys[found[0]], found[1]

    def clear(self) -> None:
        self.scopes.clear()
