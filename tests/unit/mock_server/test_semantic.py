"""The semantic cache's pure parts: embedder, scope, index (exact and HNSW), threshold, the
memory-backed SemanticCache, single-flight, and the remote embedder's parsing."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import orjson
import pytest

from mock_server.answer import HIT, MISS, AnswerPlanner
from mock_server.cache import Completion, MemoryCache
from mock_server.coalesce import Flights
from mock_server.config import DEFAULT_PROFILES_PATH, MockConfig, SemanticSettings, load_profiles
from mock_server.embedclient import OfflineEmbedder, endpoint, parse_vector
from mock_server.embedder import DIMS, cosine, embed, embed_many
from mock_server.handlers.embeddings import unit_vector
from mock_server.metrics import Metrics
from mock_server.semantic import SEMANTIC, ScopeIndex, SemanticIndex, query_text, scope_of
from mock_server.semstore import SemanticCache
from mock_server.validate import ChatRequest, parse_chat_request

DONE = Completion((1, 2), ("a", "b"), "stop", 5)
PASSWORD = "How do I reset my password?"


def chat(text: str, *, system: str | None = None, max_tokens: int = 64, model: str = "m",
         key: str | None = None) -> ChatRequest:
    messages = ([{"role": "system", "content": system}] if system else []) + \
        [{"role": "user", "content": text}]
    return ChatRequest(model, messages, max_tokens, 1.0, (), False, False, key or f"k:{text}")


def test_embedder_is_deterministic_unit_and_orders_by_similarity() -> None:
    v = embed("How do I reset my password?")
    assert v.dtype == np.dtype("<f4") and v.shape == (DIMS,)
    assert np.array_equal(v, embed("How do I reset my password?"))
    assert abs(float(np.linalg.norm(v)) - 1) < 1e-5
    para = cosine(v, embed("how can I reset my password"))
    near = cosine(v, embed("How do I reset my email?"))
    far = cosine(v, embed("What is the capital of France?"))
    assert 1 > para > near > far
    assert cosine(embed("!!!"), embed("!!!")) == pytest.approx(1.0)  # no words: still a unit vector
    assert np.array_equal(unit_vector("text-embedding-3-small", "alpha", DIMS), embed("alpha"))
    assert np.array_equal(embed_many(["a b", "c"]), np.stack([embed("a b"), embed("c")]))


def test_scope_is_the_context_and_the_text_is_the_last_message() -> None:
    base = chat("reset password")
    assert query_text(base) == "reset password"
    assert scope_of(base) == scope_of(chat("another question"))
    assert scope_of(base) != scope_of(chat("reset password", system="be brief"))
    assert scope_of(base) != scope_of(chat("reset password", max_tokens=65))
    assert scope_of(base) != scope_of(chat("reset password", model="other"))


def test_threshold_and_scope_decide_a_hit() -> None:
    index = SemanticIndex()
    index.add("s", "k1", embed("How do I reset my password?"))
    query = embed("how can I reset my password")
    sim = cosine(query, embed("How do I reset my password?"))
    assert index.search("s", query, sim - 1e-4) == ("k1", pytest.approx(sim, abs=1e-5))
    assert index.search("s", query, sim + 1e-4) is None  # just above: a miss
    assert index.search("other", query, 0.0) is None  # another scope never answers
    assert not index.add("s", "k1", query)  # a key is indexed once


def test_hnsw_path_is_deterministic_and_finds_the_exact_best() -> None:
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((600, 32)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    queries = rows[:50] + np.float32(0.05) * rng.standard_normal((50, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    def build() -> ScopeIndex:
        index = ScopeIndex(32, ann_min=100)
        for i, row in enumerate(rows):
            index.add(f"k{i}", row)
        return index

    a, b = build(), build()
    assert a._ann is not None
    found = [a.nearest(q) for q in queries]
    assert found == [b.nearest(q) for q in queries]  # same entries, same order => same answers
    assert [f[0] for f in found if f] == list(np.argmax(queries @ rows.T, axis=1))
    tie = ScopeIndex(32, ann_min=100)
    for i in range(3):
        tie.add(f"dup{i}", rows[0])
    assert tie.nearest(rows[0])[0] == 0  # ties go to the earliest entry


def test_semantic_cache_serves_the_neighbours_stored_answer() -> None:
    async def go() -> None:
        exact = MemoryCache()
        cache = SemanticCache(exact, 0.8, OfflineEmbedder())
        first = chat("How do I reset my password?")
        assert await cache.lookup(first) is None
        exact.put_now(first.key, DONE)
        await cache.add(first)
        found = await cache.lookup(chat("how can I reset my password"))
        assert found is not None
        completion, served = found
        assert (completion, served.key, served.match) == (DONE, first.key, SEMANTIC)
        assert served.headers()["X-Cache-Similarity"] == f"{served.similarity:.4f}"
        await exact.clear()  # payload gone: the neighbour is not served
        assert await cache.lookup(chat("how can I reset my password")) is None
        await cache.clear()
        assert len(cache.index) == 0

    asyncio.run(go())


def test_flights_single_flight() -> None:
    async def go() -> None:
        flights = Flights()
        assert flights.join("k") is None  # the leader
        waiting = [flights.join("k") for _ in range(3)]
        assert all(w is waiting[0] for w in waiting) and waiting[0] is not None
        got = asyncio.gather(*(flights.wait(w) for w in waiting if w is not None))
        flights.land("k", DONE)
        flights.land("k", None)  # the release after the store: no effect
        assert await got == [DONE] * 3
        assert len(flights) == 0
        assert flights.join("k") is None  # landed: the next miss leads a new flight
        follower = flights.join("k")
        flights.land("k", None)  # a leader that failed: followers generate themselves
        assert follower is not None and await flights.wait(follower) is None

    asyncio.run(go())


def test_remote_embedder_parsing() -> None:
    assert endpoint("http://h:1") == "http://h:1/v1/embeddings"
    assert endpoint("http://h:1/v1/") == "http://h:1/v1/embeddings"
    assert endpoint("http://h:1/x/embeddings") == "http://h:1/x/embeddings"
    v = parse_vector(b'{"data":[{"embedding":[3,4]}]}')
    assert v.tolist() == pytest.approx([0.6, 0.8])
    for bad in (b"nope", b'{"data":[]}', b'{"data":[{"embedding":["x"]}]}', b'{"data":[{"embedding":[]}]}'):
        with pytest.raises(ValueError, match="embedd"):
            parse_vector(bad)


def test_command_line_semantic_and_coalesce_settings() -> None:
    from mock_server.__main__ import build_config, parse_args
    from suite.errors import SpecError

    config = build_config(parse_args(["--cache-mode", "semantic", "--semantic-threshold", "0.85",
                                      "--coalesce"]))
    assert (config.semantic, config.coalesce) == (SemanticSettings(0.85), True)
    assert build_config(parse_args([])).semantic is None
    for argv, why in ((["--cache-mode", "semantic", "--semantic-threshold", "1.5"], "--semantic-threshold"),
                      (["--cache-mode", "semantic", "--cache", "none"], "needs a cache"),
                      (["--embeddings-url", "http://127.0.0.1:9"], "--embeddings-url")):
        with pytest.raises(SpecError, match=why):
            build_config(parse_args(argv))


def test_embed_is_the_documented_signed_feature_hashing() -> None:
    import zlib

    from mock_server.embedder import features

    for text in ("How do I reset my password?", "a a a b", "order 1234 status"):
        v = np.zeros(DIMS)
        for feature, weight in features(text).items():
            h = zlib.crc32(feature.encode())
            v[h % DIMS] += weight if (h >> 31) & 1 else -weight
        assert np.allclose(embed(text), v / np.linalg.norm(v), atol=1e-6)


def planner_with(**settings: object) -> AnswerPlanner:
    config = MockConfig(load_profiles(DEFAULT_PROFILES_PATH), **settings)  # type: ignore[arg-type]
    return AnswerPlanner(config, MemoryCache(), Metrics(), logging.getLogger("test.semantic"))


def instant(text: str) -> ChatRequest:
    body = {"model": "instant", "messages": [{"role": "user", "content": text}], "max_tokens": 8}
    return parse_chat_request(orjson.dumps(body), load_profiles(DEFAULT_PROFILES_PATH))


def test_planner_serves_semantic_and_exact_hits_with_their_headers() -> None:
    async def go() -> None:
        eng = planner_with(semantic=SemanticSettings(0.8))
        first = await eng.answer(instant(PASSWORD))
        assert first.cache == MISS and first.served is None
        await eng.store(instant(PASSWORD), first)
        para = await eng.answer(instant("how can I reset my password"))
        assert (para.cache, para.completion, para.served.match, para.served.key) == \
            (HIT, first.completion, SEMANTIC, instant(PASSWORD).key)
        assert para.headers["X-Cache-Key"] == instant(PASSWORD).key
        again = await eng.answer(instant(PASSWORD))
        assert again.headers["X-Cache-Match"] == "exact"
        assert (eng.metrics.counts.hits, eng.metrics.counts.misses) == (2, 1)
        assert (await eng.answer(instant("What is the capital of France?"))).cache == MISS

    asyncio.run(go())


def test_planner_coalesces_twins_and_releases_a_failed_leader() -> None:
    async def go() -> None:
        eng = planner_with(coalesce=True)
        lead = await eng.answer(instant("twin"))
        twins = [asyncio.ensure_future(eng.answer(instant("twin"))) for _ in range(2)]
        await asyncio.sleep(0)
        assert lead.flight == instant("twin").key and not any(t.done() for t in twins)
        await eng.store(instant("twin"), lead)
        got = await asyncio.gather(*twins)
        assert [(a.cache, a.served.match, a.completion) for a in got] == \
            [(HIT, "coalesced", lead.completion)] * 2
        failed = await eng.answer(instant("lost"))
        waiting = asyncio.ensure_future(eng.answer(instant("lost")))
        await asyncio.sleep(0)
        eng.release(failed)  # the leader ended without storing: its twin generates
        assert (await waiting).cache == MISS

    asyncio.run(go())
