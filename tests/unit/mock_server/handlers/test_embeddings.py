"""``POST /v1/embeddings`` as a pure function: deterministic unit vectors and OpenAI errors."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import orjson
import pytest

from mock_server.handlers.embeddings import embeddings_body, unit_vector
from mock_server.openai_errors import ApiError


def call(**body: Any) -> Any:
    return orjson.loads(embeddings_body(orjson.dumps({"model": "text-embedding-3-small", **body})))


def test_vectors_are_deterministic_unit_vectors() -> None:
    out = call(input=["alpha", "beta", "alpha"])
    vectors = [np.array(d["embedding"]) for d in out["data"]]
    assert [d["index"] for d in out["data"]] == [0, 1, 2]
    assert len(vectors[0]) == 1536
    assert all(abs(np.linalg.norm(v) - 1) < 1e-5 for v in vectors)
    assert np.array_equal(vectors[0], vectors[2])
    assert not np.array_equal(vectors[0], vectors[1])
    assert out["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert out["model"] == "text-embedding-3-small"
    assert out["object"] == "list"


def test_base64_and_dimensions() -> None:
    out = call(input="alpha", encoding_format="base64", dimensions=8)
    raw = np.frombuffer(base64.b64decode(out["data"][0]["embedding"]), dtype="<f4")
    assert np.array_equal(raw, unit_vector("text-embedding-3-small", "alpha", 8))
    assert len(call(input=[1, 2, 3])["data"]) == 1  # one token array


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [({"input": "x", "model": "gpt-4o"}, 404, "model", "model_not_found"),
     ({}, 400, "input", "missing_required_parameter"),
     ({"input": ""}, 400, "input", "invalid_type"),
     ({"input": [{"a": 1}]}, 400, "input", "invalid_type"),
     ({"input": "x", "dimensions": 0}, 400, "dimensions", "invalid_value"),
     ({"input": "x", "encoding_format": "hex"}, 400, "encoding_format", "invalid_value")],
)
def test_bad_embedding_requests(body: dict[str, Any], status: int, param: str, code: str) -> None:
    with pytest.raises(ApiError) as err:
        embeddings_body(orjson.dumps({"model": "text-embedding-3-small", **body}))
    assert (err.value.status, err.value.param, err.value.code) == (status, param, code)
