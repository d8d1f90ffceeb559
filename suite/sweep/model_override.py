"""A model-swap copy of a corpus: the same requests, in the same order, with the same ids, every one
asking ``model`` instead — written as a new corpus file so the driver replays exactly what it reads
and run.json names the file that was sent (no hidden rewrite inside the driver).

Fields that depend on the model are recomputed, not copied: ``key`` (an exact-match cache keys on
the model too), ``repeat_of`` (requests that differed only by model become exact repeats) and
``prompt_tokens`` when the new model uses another tiktoken encoding. The manifest records the
source corpus, its sha256 and the override (``derived_from``); ``llmsuite compare`` pairs runs of
copies of one source request by request.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import orjson

import suite
from suite.errors import SpecError
from suite.records import CORPUS_SCHEMA, CorpusRequest, file_sha256, manifest_path, read_corpus, request_key

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(model: str) -> str:
    """A folder-safe name for a model (``meta/llama:3`` → ``meta-llama-3``)."""
    out = _UNSAFE.sub("-", model).strip("-.")
    if not out:
        raise SpecError(f"model name {model!r} has no usable characters for a folder name.")
    return out


def override_model(requests: list[CorpusRequest], model: str) -> tuple[list[CorpusRequest], bool]:
    """The requests with ``model`` set (pure); also whether prompt tokens were recounted."""
    from suite.models import encoding_for_model
    from suite.tokens import count_chat_tokens

    new_enc = encoding_for_model(model)
    first_of: dict[str, str] = {}
    recounted = False
    out = []
    for r in requests:
        key = request_key(model, r.messages, r.max_tokens, r.temperature)
        tokens = r.prompt_tokens
        if encoding_for_model(r.model) != new_enc:
            tokens, recounted = count_chat_tokens(r.messages, model), True
        out.append(dataclasses.replace(r, model=model, key=key, repeat_of=first_of.get(key),
                                       prompt_tokens=tokens))
        first_of.setdefault(key, r.id)
    return out, recounted


def _source_manifest(corpus: Path) -> dict[str, Any] | None:
    path = manifest_path(corpus)
    try:
        return orjson.loads(path.read_bytes()) if path.exists() else None
    except orjson.JSONDecodeError:
        return None


def derived_manifest(source: Path, source_sha: str, model: str, requests: list[CorpusRequest],
                     recounted: bool, sha: str) -> dict[str, Any]:
    """Only facts true of the copy, plus the source's own manifest kept whole under ``source_manifest``."""
    n, unique = len(requests), len({r.key for r in requests})
    src = _source_manifest(source)
    root = (src or {}).get("derived_from") if isinstance(src, dict) else None
    if isinstance(root, dict) and root.get("corpus_sha256"):  # a copy of a copy: keep the first source
        source, source_sha = Path(root.get("corpus", source)), str(root["corpus_sha256"])
    requested = (src or {}).get("repeat_ratio", {}).get("requested") if isinstance(src, dict) else None
    return {
        "corpus_schema": CORPUS_SCHEMA, "corpus_sha256": sha, "n": n,
        "generator": {"name": "suite.model_override", "version": suite.__version__},
        "derived_from": {"corpus": str(source), "corpus_sha256": source_sha, "model_override": model,
                         "prompt_tokens_recounted": recounted},
        "model_mix": {"requested": {model: 1.0}, "achieved": {model: 1.0}},
        "repeat_ratio": {"requested": requested,
                         "achieved": sum(r.repeat_of is not None for r in requests) / n},
        "unique_keys": unique, "theoretical_hit_ratio": (n - unique) / n,
        "source_manifest": src,
    }


def write_model_copy(source: Path, model: str, out: Path) -> tuple[Path, dict[str, Any]]:
    """Write ``out`` (JSONL) and its manifest: ``source`` with every request asking ``model``."""
    from suite.synth.write import write_corpus_then_manifest

    requests, recounted = override_model(read_corpus(source), model)
    source_sha = file_sha256(source)
    corpus, _, manifest = write_corpus_then_manifest(
        out, requests, lambda sha: derived_manifest(source, source_sha, model, requests, recounted, sha))
    return corpus, manifest
