"""``POST /v1/embeddings``: deterministic unit vectors, so RAG-style engines can be stood in for.

A vector is a pure function of (input, dimensions): the offline embedder's hashed word unigrams
and character trigrams (embedder.py), the same for every model. Equal inputs give equal vectors;
texts sharing words and word pieces are close (lexical similarity, no meaning). Model
``llmsuite-ngram`` (256 dims), or any -3 model with ``dimensions: 256``, returns exactly the
vectors the mock's semantic cache indexes. Not cached, not paced (embedding calls are short), never
faulted. ``encoding_format`` ``float`` (default) or ``base64``
(little-endian float32, what the openai SDK asks for by default).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import orjson
from aiohttp import web

from mock_server import fields
from mock_server.embedder import DIMS, embed
from mock_server.handlers.chat import ClientClosed, read_body
from mock_server.openai_errors import ApiError, invalid
from mock_server.state import STATE
from mock_server.write import CLIENT_CLOSED, error_response
from suite.tokens import count_tokens

# model -> native dimensions (OpenAI's published sizes); -3 models accept smaller `dimensions`.
EMBEDDING_MODELS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072,
                    "text-embedding-ada-002": 1536, "llmsuite-ngram": DIMS}
MAX_INPUTS = 2048


def unit_vector(model: str, text: str, dims: int) -> np.ndarray:
    """``text``'s vector (the model only sets the native size: the embedder is the same)."""
    return embed(text, dims)


def _inputs(obj: dict[str, Any]) -> list[str]:
    """Strings, or token arrays (keyed by their JSON); one or a list of up to MAX_INPUTS."""
    value = obj.get("input")
    if value is None:
        raise invalid("input", "you must provide an input parameter.", "missing_required_parameter")
    items = value if isinstance(value, list) and value and not isinstance(value[0], int) else [value]
    if not items or len(items) > MAX_INPUTS:
        raise invalid("input", f"input must hold 1 to {MAX_INPUTS} items, got {len(items)}.")
    out = []
    for i, item in enumerate(items):
        ok_tokens = isinstance(item, list) and item and all(type(t) is int for t in item)
        if not (isinstance(item, str) and item) and not ok_tokens:
            raise invalid("input", f"input[{i}] must be a non-empty string or array of token "
                          f"ids, got {fields.kind(item)}.", "invalid_type")
        out.append(item if isinstance(item, str) else orjson.dumps(item).decode())
    return out


def _dimensions(obj: dict[str, Any], model: str) -> int:
    native = EMBEDDING_MODELS[model]
    value = obj.get("dimensions")
    if value is None:
        return native
    if model in ("text-embedding-ada-002", "llmsuite-ngram"):
        raise invalid("dimensions", f"dimensions is not supported by {model}.")
    if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= native):
        raise invalid("dimensions", f"dimensions must be an integer from 1 to {native} for {model}, "
                      f"got {value!r}.")
    return value


def _model(obj: dict[str, Any]) -> str:
    model = obj.get("model")
    if not isinstance(model, str):
        raise invalid("model", "you must provide a model parameter (a string).",
                      "missing_required_parameter")
    if model not in EMBEDDING_MODELS:
        raise ApiError(404, f"The model '{model}' does not exist on this mock server; embedding "
                       f"models: {', '.join(EMBEDDING_MODELS)}.", param="model",
                       code="model_not_found")
    return model


def _format(obj: dict[str, Any]) -> str:
    fmt = obj.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise invalid("encoding_format", f"encoding_format must be float or base64, got {fmt!r}.")
    return str(fmt)


def embeddings_body(body: bytes) -> bytes:
    """The whole endpoint as a pure function: request bytes -> response bytes (or ApiError)."""
    obj = fields.decode(body)
    model = _model(obj)
    texts, dims, fmt = _inputs(obj), _dimensions(obj, model), _format(obj)
    data = []
    for i, text in enumerate(texts):
        v = unit_vector(model, text, dims)
        emb: Any = base64.b64encode(v.tobytes()).decode() if fmt == "base64" else v.tolist()
        data.append({"object": "embedding", "index": i, "embedding": emb})
    tokens = sum(count_tokens(t, "text-embedding-3-small") for t in texts)
    return orjson.dumps({"object": "list", "data": data, "model": model,
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


async def embeddings(request: web.Request) -> web.Response:
    """The route: read, answer with ``embeddings_body``, count it in /metrics."""
    st = request.app[STATE]
    try:
        body = embeddings_body(await read_body(request, st))
    except ClientClosed:
        st.metrics.answered("-", CLIENT_CLOSED, "-")
        return web.Response(status=CLIENT_CLOSED)  # never sent: the socket is gone
    except ApiError as err:
        st.metrics.answered("-", err.status, "-")
        resp = error_response(err)
        if err.status == 408:
            resp.force_close()
        return resp
    st.metrics.answered("embeddings", 200, "off")
    return web.Response(body=body, content_type="application/json")
