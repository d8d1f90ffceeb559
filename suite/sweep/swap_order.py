"""The order in which a model swap sends its requests: pure functions, no I/O.

Why an order at all: a target drifts (cold start, a neighbour's load, an autoscaler), so whichever
model runs first or last takes that drift as if it were the model's. Reversing the order of a
sequential swap flipped "significant" results. Three orders:

``abba``        the corpus split in two halves by session (a multi-turn session stays whole); the
                models run on the first half in order and on the second half in reverse (A·h1, B·h1,
                B·h2, A·h2): a linear drift lands on both models alike.
``interleave``  one run in which every model's copy of every request is mixed in a seeded random
                order (whole sessions are the shuffled unit), so both models meet the same target
                at the same moments. Ids and sessions get a per-model tag (``id@model``) so the
                driver's one-record-per-id proof holds; ``untag`` maps them back for pairing.
``sequential``  each model's whole run after the other (the old behaviour).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

from suite.errors import SpecError
from suite.records import CorpusRequest

ORDERS = ("abba", "interleave", "sequential")
TAG_SEP = "@"  # model slugs never hold it (suite.sweep.model_override.slug), so the last one splits


def by_session(requests: Sequence[CorpusRequest]) -> list[list[CorpusRequest]]:
    """Requests grouped by session, sessions in order of first appearance, turns in corpus order."""
    groups: dict[str, list[CorpusRequest]] = {}
    for req in requests:
        groups.setdefault(req.session, []).append(req)
    return list(groups.values())


def split_halves(requests: Sequence[CorpusRequest]) -> tuple[list[CorpusRequest], list[CorpusRequest]]:
    """Two halves of the corpus by whole sessions, each in corpus order, as near n/2 requests each as
    whole sessions allow (the earlier sessions in the first half)."""
    sessions = by_session(requests)
    if len(sessions) < 2:
        raise SpecError(f"--order abba splits the corpus into two halves by session, but its {len(requests)} "
                        "request(s) form one session; use --order interleave or --order sequential.")
    total, best, best_gap, count = len(requests), 1, float("inf"), 0
    for cut in range(1, len(sessions)):
        count += len(sessions[cut - 1])
        if abs(count - total / 2) < best_gap:
            best, best_gap = cut, abs(count - total / 2)
    first = {req.session for group in sessions[:best] for req in group}
    return ([r for r in requests if r.session in first], [r for r in requests if r.session not in first])


def schedule(models: Sequence[str], order: str) -> list[tuple[str, str]]:
    """The runs of a swap, in the order they are made: ``(model, part)`` with part ``h1``/``h2`` (abba),
    ``all`` (sequential) or ``interleaved`` (one run for every model, model ``*``)."""
    if order == "abba":
        return [(m, "h1") for m in models] + [(m, "h2") for m in reversed(models)]
    if order == "sequential":
        return [(m, "all") for m in models]
    if order == "interleave":
        return [("*", "interleaved")]
    raise SpecError(f"--order: {order!r} is not one of {', '.join(ORDERS)}.")


def tag(value: str, model_tag: str) -> str:
    return f"{value}{TAG_SEP}{model_tag}"


def untag(value: str) -> tuple[str, str]:
    """``"q-7@gpt-4o"`` → ``("q-7", "gpt-4o")``."""
    original, sep, model_tag = value.rpartition(TAG_SEP)
    if not sep:
        raise ValueError(f"{value!r} carries no model tag")
    return original, model_tag


def interleave(copies: Sequence[Sequence[CorpusRequest]], tags: Sequence[str],
               seed: int) -> list[CorpusRequest]:
    """Every model's copy of the corpus in one corpus: whole (model, session) blocks in a random order
    drawn from ``seed``; ids, sessions, ``variant_of`` and ``near_miss_of`` tagged with the model's tag;
    ``repeat_of`` recomputed in the merged order (an exact copy sent earlier in this run); closed loop
    (``t`` null)."""
    if len(copies) != len(tags) or len(set(tags)) != len(tags):
        raise ValueError("one distinct tag per model copy")
    units = [(k, group) for k, copy in enumerate(copies) for group in by_session(copy)]
    random.Random(seed).shuffle(units)
    first_of: dict[str, str] = {}
    out = []
    for k, group in units:
        for req in group:
            rid = tag(req.id, tags[k])
            out.append(dataclasses.replace(
                req, id=rid, session=tag(req.session, tags[k]), t=None, repeat_of=first_of.get(req.key),
                variant_of=None if req.variant_of is None else tag(req.variant_of, tags[k]),
                near_miss_of=None if req.near_miss_of is None else tag(req.near_miss_of, tags[k])))
            first_of.setdefault(req.key, rid)
    return out
