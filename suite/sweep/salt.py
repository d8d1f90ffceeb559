"""Fresh traffic for a real target: a salted copy of a corpus, so a cache that outlives one run
(a gateway's Redis within its TTL) has never seen any of its prompts.

Why a salt and not new seeds: a second sweep inside the target's cache TTL replays the same
prompts (all hits, a gain of 0.86× reported as a measurement); neighbouring seeds share keys; and
slot-less templates ("Is the platform healthy right now?") are identical in every corpus whatever
the seed. A salt fixes all three, and keeps what the step measures: the tag is a pure function of
each message, so identical requests stay identical (same key in → same key out: the corpus's repeat
and variant structure, its unique keys and theoretical hit ratio are unchanged) and distinct ones
stay distinct.

Where the tag goes: the first message of every request (the system prompt or the first user turn:
every request changes, slot-less ones too) and every user message (a cache keyed on the last user
message changes too). History is made of earlier messages tagged the same way, so multi-turn
sessions stay coherent. ``key`` and ``prompt_tokens`` are recomputed (the tag costs a few tokens).

``write_salted`` writes the copy and its manifest: the source's statistics, the recomputed prompt
token figures, and ``derived_from: {corpus, corpus_sha256, salt}``. ``--salt S`` reproduces a copy
byte for byte.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

from suite.errors import SpecError
from suite.records import CorpusRequest, file_sha256, read_corpus, request_key

SALT_GENERATOR = "suite.sweep.salt"
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def new_salt() -> str:
    """8 hex characters from the OS's randomness: a new salt per invocation, never a seed's."""
    return os.urandom(4).hex()


def check_salt(salt: str) -> str:
    """``salt`` unchanged when it can be used (``--salt``), else SpecError naming the fix."""
    if not _VALID.match(salt):
        raise SpecError(f"--salt: {salt!r} is not a salt; use 1-64 letters, digits, '.', '_' or '-' "
                        "(e.g. the value a previous sweep.json recorded under salt.value).")
    return salt


def step_salt(salt: str, i: int) -> str:
    """Step ``i``'s own salt: steps of one sweep never share a key, even with the same seed."""
    return f"{salt}-{i}"


def tag(salt: str) -> str:
    return f"[llmsuite salt {salt}]"


def _salted(messages: list[dict[str, str]], mark: str) -> list[dict[str, str]]:
    return [{**m, "content": f"{mark}\n{m['content']}"} if i == 0 or m.get("role") == "user" else m
            for i, m in enumerate(messages)]


def salt_requests(requests: list[CorpusRequest], salt: str) -> list[CorpusRequest]:
    """The requests with ``salt`` in their messages (pure; see the module docstring), ``key`` and
    ``prompt_tokens`` recomputed; ids, order, sessions, ``repeat_of`` and ``variant_of`` kept."""
    from suite.synth.tokencount import PrefixMemo, count_prompts

    mark = tag(check_salt(salt))
    salted = [_salted(r.messages, mark) for r in requests]
    first: dict[str, int] = {}  # one count per distinct request: repeats share their original's
    for i, r in enumerate(requests):
        first.setdefault(r.key, i)
    order = list(first.values())
    counted = count_prompts([(requests[i].model, salted[i]) for i in order], PrefixMemo())
    tokens = {requests[i].key: n for i, n in zip(order, counted, strict=True)}
    return [dataclasses.replace(r, messages=m, prompt_tokens=tokens[r.key],
                                key=request_key(r.model, m, r.max_tokens, r.temperature))
            for r, m in zip(requests, salted, strict=True)]


def salted_manifest(source: Path, source_sha: str, salt: str, requests: list[CorpusRequest],
                    sha: str) -> dict[str, Any]:
    """The source's manifest (its statistics hold for the copy: the salt keeps the repeat structure),
    with this copy's sha256 and prompt-token figures, and where it came from."""
    from suite.sweep.model_override import _source_manifest
    from suite.synth.manifest import token_stats

    src = _source_manifest(source) or {}
    n, unique = len(requests), len({r.key for r in requests})
    derived: dict[str, Any] = {"corpus": str(source), "corpus_sha256": source_sha, "salt": salt,
                               "generator": SALT_GENERATOR}
    if isinstance(src.get("derived_from"), dict):
        derived["source_derived_from"] = src["derived_from"]
    out = {**src, "corpus_sha256": sha, "n": n, "prompt_tokens": token_stats(requests),
           "derived_from": derived}
    if "theoretical_hit_ratio" not in src:  # a manifest-less source: the copy's own figures
        out.update(unique_keys=unique, theoretical_hit_ratio=(n - unique) / n if n else None)
    return out


def write_salted_manifest(src: Path, dst: Path, salt: str) -> tuple[Path, dict[str, Any]]:
    """``write_salted``, also returning the manifest written (a sweep step's rows read it)."""
    from suite.synth.write import write_corpus_then_manifest

    src, dst = Path(src), Path(dst)
    requests = salt_requests(read_corpus(src), salt)
    source_sha = file_sha256(src)
    path, _, manifest = write_corpus_then_manifest(
        dst, requests, lambda sha: salted_manifest(src, source_sha, salt, requests, sha))
    return path, manifest


def write_salted(src: Path, dst: Path, salt: str) -> Path:
    """Write ``dst`` (JSONL) and its manifest: ``src`` salted with ``salt``; returns ``dst``."""
    return write_salted_manifest(src, dst, salt)[0]
