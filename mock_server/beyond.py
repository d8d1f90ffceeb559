"""What the planner tries after an exact-cache miss, before generating: a semantic neighbour
(``--cache-mode semantic``, semstore.py), then an identical request in flight (``--coalesce``,
coalesce.py). Kept out of answer.py so the exact path stays as it was when both are off.

Headers: with either mode on, every hit says how it matched — ``X-Cache-Match: exact`` (the
request's own key, ``X-Cache-Similarity: 1.0000``), ``semantic`` (``X-Cache-Key`` is the key of
the entry served, ``X-Cache-Similarity`` its cosine, 4 decimals) or ``coalesced`` (the request's
own key, answered by its twin in flight; similarity 1.0000). A miss keeps its own ``X-Cache-Key``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.cache import Completion, RedisCache, ResponseCache
from mock_server.coalesce import Flights
from mock_server.config import MockConfig
from mock_server.embedclient import Embedder, OfflineEmbedder, RemoteEmbedder
from mock_server.semantic import COALESCED, EXACT, Served
from mock_server.semstore import SemanticCache
from mock_server.validate import ChatRequest
from suite.errors import CacheBackendError

if TYPE_CHECKING:
    from mock_server.answer import Answer, AnswerPlanner
    from mock_server.faults import Fault


def build_embedder(config: MockConfig) -> Embedder:
    settings = config.semantic
    if settings is None or settings.embeddings_url is None:
        return OfflineEmbedder()
    return RemoteEmbedder(settings.embeddings_url, settings.embeddings_model)


class Beyond:
    def __init__(self, semantic: SemanticCache | None, flights: Flights | None) -> None:
        self.semantic = semantic
        self.flights = flights

    @classmethod
    def build(cls, config: MockConfig, cache: ResponseCache) -> Beyond | None:
        """None when neither mode is on (the planner then never calls in here)."""
        semantic = None
        if config.semantic is not None:
            shared = cache.client if isinstance(cache, RedisCache) else None
            semantic = SemanticCache(cache, config.semantic.threshold, build_embedder(config),
                                     shared=shared)
        flights = Flights() if config.coalesce else None
        if semantic is None and flights is None:
            return None
        return cls(semantic, flights)

    @staticmethod
    def exact(key: str) -> Served:
        return Served(key, EXACT, 1.0)

    async def miss(self, planner: AnswerPlanner, request: ChatRequest,
                   fault: Fault | None) -> Answer:
        """The answer to an exact miss: a semantic hit, a coalesced hit, or a generated answer
        (whose ``flight`` the planner lands when it is stored or released)."""
        if self.semantic is not None:
            try:
                found = await self.semantic.lookup(request)
            except CacheBackendError as exc:
                planner.failed(exc)
                found = None
            if found is not None:
                return planner.served_hit(request, found[0], found[1], fault)
        if self.flights is None:
            return await planner.plan_miss(request, fault)
        flight = self.flights.join(request.key)
        if flight is not None:
            completion = await self.flights.wait(flight)
            if completion is not None:
                return planner.served_hit(request, completion, Served(request.key, COALESCED, 1.0),
                                          fault)
            return await planner.plan_miss(request, fault)
        try:
            answer = await planner.plan_miss(request, fault)
        except BaseException:
            self.flights.land(request.key, None)
            raise
        return answer._replace(flight=request.key)

    async def stored(self, planner: AnswerPlanner, request: ChatRequest,
                     completion: Completion) -> None:
        """A generated answer was written to the exact cache: index it, release its twins."""
        if self.flights is not None:
            self.flights.land(request.key, completion)
        if self.semantic is not None:
            try:
                await self.semantic.add(request)
            except CacheBackendError as exc:
                planner.failed(exc)

    def released(self, flight: str) -> None:
        if self.flights is not None:
            self.flights.land(flight, None)

    async def clear(self) -> None:
        if self.semantic is not None:
            await self.semantic.clear()

    async def close(self) -> None:
        if self.semantic is not None:
            await self.semantic.close()
