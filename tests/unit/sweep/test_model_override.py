"""The model-override copy of a corpus (``llmsuite swap``): keys, repeats, manifest, folder names."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.records import CorpusRequest, file_sha256, request_key, write_jsonl
from suite.sweep.model_override import override_model, slug, write_model_copy


def corpus_request(i: int, model: str, text: str) -> CorpusRequest:
    messages = [{"role": "user", "content": text}]
    return CorpusRequest(id=f"q{i}", t=None, session=f"s{i}", turn=1, model=model, messages=messages,
                         max_tokens=16, temperature=0.0, stream=True, prompt_tokens=9, domain="d", intent="i",
                         key=request_key(model, messages, 16, 0.0))


def test_override_recomputes_keys_and_repeats() -> None:
    # same prompt for two models: distinct requests before, an exact repeat once both ask one model
    reqs = [corpus_request(0, "gpt-4o", "hello"), corpus_request(1, "gpt-4.1", "hello")]
    out, recounted = override_model(reqs, "gpt-5-mini")
    assert [r.id for r in out] == ["q0", "q1"]
    assert {r.model for r in out} == {"gpt-5-mini"}
    assert out[0].key == out[1].key == request_key("gpt-5-mini", reqs[0].messages, 16, 0.0)
    assert (out[0].repeat_of, out[1].repeat_of) == (None, "q0")
    assert recounted is False  # every model here uses o200k_base


def test_model_copy_manifest_names_its_source(tmp_path: Path) -> None:
    src = tmp_path / "c.jsonl"
    write_jsonl(src, [corpus_request(i, "gpt-4o", f"prompt {i % 3}").to_dict() for i in range(6)])
    copy, manifest = write_model_copy(src, "gpt-5-mini", tmp_path / "m" / "c.jsonl")
    assert manifest["derived_from"] == {"corpus": str(src), "corpus_sha256": file_sha256(src),
                                        "model_override": "gpt-5-mini", "prompt_tokens_recounted": False}
    assert manifest["corpus_sha256"] == file_sha256(copy)
    assert manifest["theoretical_hit_ratio"] == 0.5
    again, m2 = write_model_copy(copy, "gpt-4o", tmp_path / "n" / "c.jsonl")  # a copy of a copy
    assert m2["derived_from"]["corpus_sha256"] == file_sha256(src)


@pytest.mark.parametrize("model, expected", [("gpt-4o", "gpt-4o"), ("meta/llama:3", "meta-llama-3")])
def test_slug(model: str, expected: str) -> None:
    assert slug(model) == expected
