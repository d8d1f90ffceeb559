"""The synth stage's only I/O: write a corpus as JSONL and its manifest beside it.

The bytes depend only on the requests (sorted keys, one line each), so the same spec and seed give
byte-identical files. Files are written to a temporary name and renamed, so a reader never sees a
half-written corpus.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from suite.errors import CorpusError
from suite.records import CorpusRequest, dumps_line, manifest_path

LINES_PER_CHUNK = 1024  # lines joined per write and hash update (one call per line costs 3x more)


def corpus_lines(requests: Iterable[CorpusRequest]) -> Iterator[bytes]:
    """One sorted-key JSON line per request, from the instance's own field dict (``asdict``'s deep copy
    costs 5x more, a getattr per field 2x). ``near_miss_of`` is written only when set: a reader takes
    its absence as null, and corpora without hard negatives keep the bytes they had before it."""
    for request in requests:
        fields = vars(request)
        if fields["near_miss_of"] is None:
            fields = fields.copy()
            del fields["near_miss_of"]
        yield dumps_line(fields)


def corpus_chunks(requests: Iterable[CorpusRequest]) -> Iterator[bytes]:
    """The corpus bytes, ``LINES_PER_CHUNK`` lines at a time."""
    lines = corpus_lines(requests)
    while chunk := b"".join(islice(lines, LINES_PER_CHUNK)):
        yield chunk


def corpus_sha256(requests: Iterable[CorpusRequest]) -> str:
    """The sha256 the written JSONL file will have (the manifest records it)."""
    digest = hashlib.sha256()
    for chunk in corpus_chunks(requests):
        digest.update(chunk)
    return digest.hexdigest()


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def _atomic_write(path: Path, chunks: Iterable[bytes]) -> str:
    """Write through a temporary file and rename; returns the sha256 of what was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    digest = hashlib.sha256()
    with tmp.open("wb") as fh:
        for chunk in chunks:
            digest.update(chunk)
            fh.write(chunk)
    tmp.replace(path)
    return digest.hexdigest()


def write_corpus(path: str | Path, requests: list[CorpusRequest],
                 manifest: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``path`` (JSONL) and ``<name>.manifest.json`` beside it; returns both paths.

    The manifest must describe these requests: its ``corpus_sha256`` is checked against the bytes
    written, so a manifest can never vouch for a different corpus.
    """
    path = Path(path)
    if not path.name.endswith(".jsonl"):
        raise CorpusError(f"{path}: a corpus file name must end in .jsonl (e.g. {path.stem}.jsonl).")
    written = _atomic_write(path, corpus_chunks(requests))
    if manifest.get("corpus_sha256") != written:
        raise CorpusError(f"{path}: the manifest's corpus_sha256 does not match the requests written; "
                          "build the manifest from the same requests (build_manifest(spec, seed, requests)).")
    mpath = manifest_path(path)
    _atomic_write(mpath, [manifest_bytes(manifest)])
    return path, mpath


def write_corpus_then_manifest(path: str | Path, requests: list[CorpusRequest],
                               manifest_for: Callable[[str], dict[str, Any]]
                               ) -> tuple[Path, Path, dict[str, Any]]:
    """Like ``write_corpus``, serializing each line once: the JSONL is written first and its sha256
    handed to ``manifest_for`` (e.g. ``lambda sha: build_manifest(spec, seed, requests, corpus_sha=sha)``)."""
    path = Path(path)
    if not path.name.endswith(".jsonl"):
        raise CorpusError(f"{path}: a corpus file name must end in .jsonl (e.g. {path.stem}.jsonl).")
    manifest = manifest_for(_atomic_write(path, corpus_chunks(requests)))
    mpath = manifest_path(path)
    _atomic_write(mpath, [manifest_bytes(manifest)])
    return path, mpath, manifest
