"""``--cache-mode semantic`` and ``--coalesce`` against real servers: header contract, the timing
log's served keys (a hard negative served wrongly shows there), /v1/embeddings = the cache's
vectors, coalesced twins, and a semantic hit across ``--workers 2`` sharing Redis."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import orjson
import pytest
import yaml

from mock_server.embedder import cosine, embed
from tests.integration.conftest import MockServer

pytestmark = pytest.mark.integration
FLAT = {"ttft_jitter_s": 0.0, "tokens_per_s": float("inf"), "encoding": "o200k_base",
        "output_tokens": {"median": 5, "spread": 0.0}}
PROFILES = {"models": {"instant": {**FLAT, "ttft_base_s": 0.0}, "slow": {**FLAT, "ttft_base_s": 0.6}}}
PASSWORD, PARAPHRASE = "How do I reset my password?", "how can I reset my password"
ORDER, NEAR_MISS = "What is the status of order 1234?", "What is the status of order 5678?"


def connect(server: MockServer) -> HTTPConnection:
    parts = urlsplit(server.url)
    return HTTPConnection(parts.hostname, parts.port, timeout=20)


def call(conn: HTTPConnection, method: str, path: str, body: Any = None) -> tuple[dict[str, str], Any]:
    conn.request(method, path, body=None if body is None else orjson.dumps(body),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    raw = resp.read()
    assert resp.status == 200, raw
    return {k.lower(): v for k, v in resp.getheaders()}, raw


def ask(server: MockServer, text: str, model: str = "instant",
        system: str | None = None) -> tuple[dict[str, str], Any]:
    messages = ([{"role": "system", "content": system}] if system else []) + \
        [{"role": "user", "content": text}]
    conn = connect(server)
    try:
        headers, raw = call(conn, "POST", "/v1/chat/completions", {"model": model, "messages": messages})
    finally:
        conn.close()
    return headers, orjson.loads(raw)["choices"][0]["message"]["content"]


def write_profiles(tmp_path: Path) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(PROFILES))
    return path


def test_semantic_hits_hard_negative_and_coalescing(
        tmp_path: Path, mock_server_factory: Callable[..., MockServer]) -> None:
    log = tmp_path / "timing.jsonl"
    server = mock_server_factory(profiles=write_profiles(tmp_path), extra_args=[
        "--cache-mode", "semantic", "--semantic-threshold", "0.80", "--coalesce", "--timing-log", str(log)])
    first, text = ask(server, PASSWORD)
    assert first["x-cache"] == "MISS" and "x-cache-match" not in first
    para, para_text = ask(server, PARAPHRASE)
    assert (para["x-cache"], para["x-cache-match"], para["x-cache-key"]) == \
        ("HIT", "semantic", first["x-cache-key"])
    assert para["x-cache-similarity"] == f"{cosine(embed(PASSWORD), embed(PARAPHRASE)):.4f}"
    assert para_text == text  # the stored answer, served
    again, _ = ask(server, PASSWORD)
    assert (again["x-cache-match"], again["x-cache-similarity"]) == ("exact", "1.0000")
    other_context, _ = ask(server, PARAPHRASE, system="You are a pirate.")
    assert other_context["x-cache"] == "MISS"  # another context: never a hit across it
    assert ask(server, "Which trains run to Lyon on Sunday?")[0]["x-cache"] == "MISS"
    order, _ = ask(server, ORDER)
    wrong, _ = ask(server, NEAR_MISS)  # a hard negative: similar words, another answer
    assert (wrong["x-cache-match"], wrong["x-cache-key"]) == ("semantic", order["x-cache-key"])

    conn = connect(server)
    try:
        _, raw = call(conn, "POST", "/v1/embeddings",
                      {"model": "llmsuite-ngram", "input": [PARAPHRASE, ORDER]})
    finally:
        conn.close()
    vectors = np.array([d["embedding"] for d in orjson.loads(raw)["data"]], dtype=np.float32)
    assert np.array_equal(vectors, np.stack([embed(PARAPHRASE), embed(ORDER)]))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        twins = list(pool.map(lambda _: ask(server, "one slow question", "slow"), range(4)))
    assert sorted(h["x-cache"] for h, _ in twins) == ["HIT", "HIT", "HIT", "MISS"]
    assert {h.get("x-cache-match") for h, _ in twins} == {None, "coalesced"}
    assert len({t for _, t in twins}) == 1

    assert server.stop() == 0  # flushes the timing log
    lines = [orjson.loads(x) for x in log.read_bytes().splitlines()]
    served_wrongly = [r for r in lines if r["served_key"] != r["key"]]
    assert [(r["match"], r["served_key"]) for r in served_wrongly] == \
        [("semantic", first["x-cache-key"]), ("semantic", order["x-cache-key"])]
    assert sum(r["match"] == "coalesced" for r in lines) == 3


def metric(conn: HTTPConnection, model: str) -> float:
    """This connection's worker's count of answered requests for ``model`` (0 when none)."""
    _, raw = call(conn, "GET", "/metrics")
    return sum(float(line.rsplit(" ", 1)[1]) for line in raw.decode().splitlines()
               if line.startswith("mock_requests_total{") and f'model="{model}"' in line)


def test_semantic_hit_across_workers_sharing_redis(
        tmp_path: Path, mock_server_factory: Callable[..., MockServer]) -> None:
    server = mock_server_factory(cache="redis", profiles=write_profiles(tmp_path), extra_args=[
        "--cache-mode", "semantic", "--semantic-threshold", "0.8", "--workers", "2"])
    writer = connect(server)
    try:
        call(writer, "POST", "/v1/chat/completions",
             {"model": "instant", "messages": [{"role": "user", "content": PASSWORD}]})
        for _ in range(60):  # a connection the other worker accepted: it answered nothing yet
            reader = connect(server)
            if metric(reader, "instant") == 0:
                break
            reader.close()
        else:
            pytest.fail("every connection went to the worker that stored the entry")
        try:
            headers, _ = call(reader, "POST", "/v1/chat/completions",
                              {"model": "instant", "messages": [{"role": "user", "content": PARAPHRASE}]})
        finally:
            reader.close()
    finally:
        writer.close()
    assert (headers["x-cache"], headers["x-cache-match"]) == ("HIT", "semantic")
