"""The semantic cache at run time: embed, search the scope's index, fetch the payload.

Payloads are the exact cache's entries (memory or Redis): a semantic hit serves the completion
stored under the neighbour's key, so there is one copy of every answer and an evicted or expired
entry simply stops being served (the lookup is then a miss).

Workers (``--workers N`` with ``--cache redis://…``): every new entry is appended to one Redis
stream (``LOG_KEY``: scope, key, vector) instead of being indexed directly, and each worker reads
the stream from where it left off before each lookup (one non-blocking XREAD). So all workers
index the same entries in the same order (the stream's), and a paraphrase of an answer generated
by another worker is a hit. With the memory cache each worker has its own index and payloads.

A flush (``/admin/cache/flush``) empties the flushing worker's index and deletes the stream;
other workers keep their index until their entries' payloads are found missing (misses).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from mock_server.cache import Completion, MemoryCache, ResponseCache
from mock_server.embedclient import Embedder
from mock_server.semantic import ANN_MIN, SEMANTIC, SemanticIndex, Served, query_text, scope_of
from mock_server.validate import ChatRequest
from suite.errors import CacheBackendError

LOG_KEY = "llmsuite:mocksem:log"  # not under the exact cache's prefix: its SCAN never sees it
READ_BATCH = 1000
PENDING_MAX = 4096  # vectors of misses not yet stored (a faulted miss is never stored)
LOG_MAXLEN = 1_000_000


class SemanticCache:
    def __init__(self, exact: ResponseCache, threshold: float, embedder: Embedder, *,
                 shared: aioredis.Redis | None = None, ann_min: int = ANN_MIN) -> None:
        self.exact = exact
        self.threshold = threshold
        self.embedder = embedder
        self.shared = shared
        self.index = SemanticIndex(ann_min)
        self._memory = exact if type(exact) is MemoryCache else None
        self._pending: OrderedDict[str, tuple[str, np.ndarray]] = OrderedDict()
        self._last_id = b"0-0"

    async def lookup(self, request: ChatRequest) -> tuple[Completion, Served] | None:
        """The stored answer of the nearest same-scope entry at or above the threshold."""
        text = query_text(request)
        if not text:
            return None
        vector = await self.embedder.embed(text)
        scope = scope_of(request)
        self._pending[request.key] = (scope, vector)
        while len(self._pending) > PENDING_MAX:
            self._pending.popitem(last=False)
        if self.shared is not None:
            await self.catch_up()
        found = self.index.search(scope, vector, self.threshold)
        if found is None:
            return None
        key, similarity = found
        completion = await self._payload(key)
        if completion is None:
            return None
        return completion, Served(key, SEMANTIC, min(1.0, round(similarity, 4)))

    async def _payload(self, key: str) -> Completion | None:
        if self._memory is not None:
            return self._memory.get_now(key)
        return await self.exact.get(key)

    async def add(self, request: ChatRequest) -> None:
        """Index a stored answer (its vector was taken by its lookup; re-embedded if dropped)."""
        pending = self._pending.pop(request.key, None)
        if pending is None:
            text = query_text(request)
            if not text:
                return
            pending = (scope_of(request), await self.embedder.embed(text))
        scope, vector = pending
        if self.shared is None:
            self.index.add(scope, request.key, vector)
            return
        try:
            await self.shared.xadd(LOG_KEY, {"s": scope, "k": request.key, "v": vector.tobytes()},
                                   maxlen=LOG_MAXLEN, approximate=True)
        except (RedisError, OSError) as exc:
            raise CacheBackendError(f"redis semantic log: {exc.__class__.__name__}: {exc}") from None

    async def catch_up(self) -> int:
        """Index every stream entry added since the last read (by any worker); how many."""
        assert self.shared is not None
        added = 0
        try:
            while True:
                got = await self.shared.xread({LOG_KEY: self._last_id}, count=READ_BATCH)
                entries = got[0][1] if got else []
                for entry_id, fields in entries:
                    self._last_id = entry_id
                    vector = np.frombuffer(fields[b"v"], dtype="<f4")
                    added += self.index.add(fields[b"s"].decode(), fields[b"k"].decode(), vector)
                if len(entries) < READ_BATCH:
                    return added
        except (RedisError, OSError, KeyError) as exc:
            raise CacheBackendError(f"redis semantic log: {exc.__class__.__name__}: {exc}") from None

    async def clear(self) -> None:
        self.index.clear()
        self._pending.clear()
        if self.shared is not None:
            try:
                await self.shared.delete(LOG_KEY)
            except (RedisError, OSError) as exc:
                raise CacheBackendError(f"redis semantic log: {exc}") from None

    async def close(self) -> None:
        await self.embedder.close()
