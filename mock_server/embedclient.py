"""Where the semantic cache gets its vectors: the offline embedder (embedder.py), or any
OpenAI-compatible ``POST /v1/embeddings`` (``--embeddings-url``).

A remote embedder is probed once before serving (``check_embeddings_url``: a clear one-line
error when it is unreachable or answers something that is not an embedding); while serving, a
failed call is a ``CacheBackendError`` and the planner fails open (a miss), like a Redis outage.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any, Protocol

import aiohttp
import numpy as np
import orjson

from mock_server.embedder import DIMS, embed
from suite.errors import CacheBackendError, TargetError

TIMEOUT_S = 5.0


class Embedder(Protocol):
    name: str

    async def embed(self, text: str) -> np.ndarray: ...
    async def close(self) -> None: ...


class OfflineEmbedder:
    """embedder.py's hashed n-grams at ``dims``: what ``POST /v1/embeddings`` of this mock returns
    for model ``llmsuite-ngram`` (and any model with ``dimensions`` = ``dims``)."""

    def __init__(self, dims: int = DIMS) -> None:
        self.dims = dims
        self.name = f"offline hashed n-grams ({dims} dims)"

    async def embed(self, text: str) -> np.ndarray:
        return embed(text, self.dims)

    async def close(self) -> None:
        return None


def endpoint(url: str) -> str:
    """``http://host:port``, ``…/v1`` or ``…/v1/embeddings``: the embeddings endpoint."""
    url = url.rstrip("/")
    if url.endswith("/embeddings"):
        return url
    return url + ("/embeddings" if url.endswith("/v1") else "/v1/embeddings")


def parse_vector(raw: bytes) -> np.ndarray:
    """The first embedding of an OpenAI embeddings answer, L2-normalized (ValueError if none)."""
    try:
        data: Any = orjson.loads(raw)["data"][0]["embedding"]
        v = np.asarray(data, dtype=np.float64)
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"not an embeddings answer ({exc.__class__.__name__}: {exc})") from None
    if v.ndim != 1 or not v.size or not np.isfinite(v).all():
        raise ValueError("the embedding is not a non-empty vector of numbers")
    norm = float(np.linalg.norm(v))
    return (v / norm if norm > 0 else v).astype("<f4")


def request_body(model: str, text: str) -> bytes:
    return orjson.dumps({"model": model, "input": text, "encoding_format": "float"})


class RemoteEmbedder:
    """Vectors from an OpenAI-compatible endpoint (one call per lookup; the session is opened
    on first use, inside the serving loop)."""

    def __init__(self, url: str, model: str) -> None:
        self.url = endpoint(url)
        self.model = model
        self.name = f"{self.url} ({model})"
        self._session: aiohttp.ClientSession | None = None

    async def embed(self, text: str) -> np.ndarray:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        try:
            async with self._session.post(self.url, data=request_body(self.model, text),
                                          headers={"Content-Type": "application/json"}) as resp:
                raw = await resp.read()
                if resp.status != 200:
                    raise ValueError(f"HTTP {resp.status}")
            return parse_vector(raw)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise CacheBackendError(f"embeddings {self.url}: {exc}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def check_embeddings_url(url: str, model: str) -> int:
    """One blocking call before serving; the vector's dimensions, or TargetError in one line."""
    target = endpoint(url)
    req = urllib.request.Request(target, data=request_body(model, "llmsuite probe"),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            return len(parse_vector(resp.read()))
    except urllib.error.HTTPError as exc:
        why = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        why = str(getattr(exc, "reason", exc))
    except ValueError as exc:
        why = str(exc)
    raise TargetError(f"--embeddings-url: {target} did not answer an embeddings request for model "
                      f"{model!r} ({why}); pass the URL of an OpenAI-compatible /v1/embeddings "
                      "(and --embeddings-model), or leave it out for the offline embedder.")
