"""Which unmeasured values are normal for the kind of run, and which are really missing.

A closed-loop run has no schedule to lag behind, a one-model run nothing to compare, a corpus
without streaming requests no TTFT: listing those beside a lost log or an unpriced model hides the
gaps a reader must act on. Each ``missing`` item gets ``expected`` (true: a consequence of how the
run was set up, not a fault); anything not recognised here stays "really missing" — when unsure,
the report shows more, never less.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from suite.analyze.schema import Missing


@dataclass(frozen=True)
class RunShape:
    """What the run was asked to do, as far as the records show it."""

    streamed: bool  # at least one request asked for a streamed answer


# (start of the ``why``, whether it is expected for a run of this shape)
_EXPECTED: tuple[tuple[str, Callable[[RunShape], bool]], ...] = (
    ("closed-loop run", lambda shape: True),  # no scheduled send times: nothing to lag behind
    ("one model in this run", lambda shape: True),
    ("fewer than two models", lambda shape: True),
    # TTFT needs a streamed answer; a corpus of non-streaming requests never has one
    ("no successful streaming", lambda shape: not shape.streamed),
    # the driver tiktoken-counts only a sample of replies (run option), so a short run may have none
    ("no request carries both a usage count and a tiktoken count", lambda shape: True),
)


def is_expected(why: str, shape: RunShape) -> bool:
    return any(why.startswith(start) and rule(shape) for start, rule in _EXPECTED)


def classify(found: list[tuple[str, str]], shape: RunShape) -> list[Missing]:
    """``(path, why)`` pairs as ``missing`` items with their ``expected`` flag."""
    return [{"path": path, "why": why, "expected": is_expected(why, shape)} for path, why in found]
