"""Injected faults — a table of kinds, one parser for the header and the profiles file, pure draws.

A fault is ``KIND`` or ``KIND=ARG``, the same syntax in both places:

    X-Mock-Fault: 503                 (per request; overrides the profile's draw)
    models.gpt-4o.faults: {"503": 0.02, "stall_first=2": 0.01}   (per model: kind -> probability)

| kind          | arg               | effect                                                      |
|---------------|-------------------|-------------------------------------------------------------|
| 500, 503      | —                 | that status, OpenAI ``server_error`` body, nothing generated  |
| 429           | —                 | 429 ``rate_limit_exceeded`` with ``Retry-After: 1``         |
| stall_first   | seconds (> 0)     | wait that long before the first byte (headers included)     |
| stall_mid     | seconds (> 0)     | pause that long half-way through the tokens                 |
| disconnect    | chunks K (>= 0)   | stream: K token chunks (the role chunk rides with the first), |
|               |                   | then the connection is cut;                                 |
|               |                   | non-streaming: cut before any byte                          |
| malformed     | chunk K (>= 1)    | stream: token chunk K is broken JSON (the rest is fine)     |

Per model, at most one fault is drawn per request: one uniform draw from the server's seeded
``random.Random`` against the cumulative probabilities (rates must sum to <= 1). Every fault that
fires is counted in ``/metrics`` as ``mock_faults_total{model, kind}``. A faulted answer is never
written to the response cache.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

ERROR_KINDS = ("500", "503", "429")
# Arguments are plain ASCII decimals, read by these patterns before any conversion: Python's own
# int()/float() also accept "1_0", "inf", "nan", "1e3", " 5", "+5" and non-ASCII digits.
SECONDS = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
COUNT = re.compile(r"[0-9]+")
# kind -> (argument rule or None when it takes none, pattern of the argument)
KINDS: dict[str, tuple[str | None, re.Pattern[str]]] = {
    "500": (None, COUNT),
    "503": (None, COUNT),
    "429": (None, COUNT),
    "stall_first": ("a plain decimal number of seconds > 0, e.g. 2 or 0.5", SECONDS),
    "stall_mid": ("a plain decimal number of seconds > 0, e.g. 2 or 0.5", SECONDS),
    "disconnect": ("a plain whole number of chunks >= 0, e.g. 3", COUNT),
    "malformed": ("a plain whole chunk number >= 1, e.g. 2", COUNT),
}
MIN_ARG = {"stall_first": 0.0, "stall_mid": 0.0, "disconnect": -1, "malformed": 0}
MAX_STALL_S = 3600.0
MALFORMED_EVENT = b'data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"ind\n\n'


@dataclass(frozen=True)
class Fault:
    kind: str
    arg: float = 0.0  # seconds (stalls) or a chunk count/number (disconnect, malformed)


def _arg(kind: str, raw: str) -> float:
    rule, pattern = KINDS[kind]
    if pattern.fullmatch(raw) is None or len(raw) > 32:
        raise ValueError(f"{kind}={raw}: {raw!r} is not valid; the argument must be {rule}")
    value = float(raw)  # safe now: the pattern admits plain decimals only
    if not (math.isfinite(value) and MIN_ARG[kind] < value <= MAX_STALL_S * 1000):
        raise ValueError(f"{kind}={raw}: {raw!r} is not valid; the argument must be {rule}")
    if kind.startswith("stall") and value > MAX_STALL_S:
        raise ValueError(f"{kind}={raw}: stalls are capped at {MAX_STALL_S:g} s")
    return float(value)


def parse_fault(text: str) -> Fault:
    """``"503"`` / ``"stall_first=2.5"`` -> Fault; ValueError naming the text and the fix."""
    kind, sep, raw = text.strip().partition("=")
    if kind not in KINDS:
        raise ValueError(f"{text!r} is not a fault; known: {', '.join(KINDS)} "
                         "(e.g. 503, stall_first=2, disconnect=3)")
    rule = KINDS[kind][0]
    if rule is None:
        if sep:
            raise ValueError(f"{text!r}: {kind} takes no argument")
        return Fault(kind)
    if not sep:
        raise ValueError(f"{text!r}: {kind} needs an argument ({kind}=N, N {rule})")
    return Fault(kind, _arg(kind, raw))


FaultTable = tuple[tuple[Fault, float], ...]


def fault_table(raw: Mapping[str, object]) -> FaultTable:
    """Validate a profile's ``faults`` mapping (fault -> probability); ValueError on bad rows."""
    rows: list[tuple[Fault, float]] = []
    for text, rate in raw.items():
        fault = parse_fault(str(text))
        if not (isinstance(rate, int | float) and not isinstance(rate, bool) and 0 <= rate <= 1):
            raise ValueError(f"{text}: {rate!r} is not a probability (must be a number in [0, 1])")
        rows.append((fault, float(rate)))
    total = sum(rate for _, rate in rows)
    if total > 1 + 1e-9:
        raise ValueError(f"the probabilities sum to {total:g} (must be <= 1: one fault per request)")
    return tuple(rows)


def draw_fault(table: FaultTable, rng: random.Random) -> Fault | None:
    """At most one fault per request: one uniform draw against the cumulative rates."""
    u = rng.random()
    for fault, rate in table:
        if u < rate:
            return fault
        u -= rate
    return None


def fault_bodies(bodies: list[bytes], fault: Fault | None) -> tuple[list[bytes], bool]:
    """The SSE events a streamed fault writes, and whether the connection is cut after them."""
    if fault is None:
        return bodies, False
    if fault.kind == "disconnect":
        return bodies[: int(fault.arg)], True
    if fault.kind == "malformed" and 1 <= fault.arg <= len(bodies):
        i = int(fault.arg) - 1
        return [*bodies[:i], MALFORMED_EVENT, *bodies[i + 1:]], False
    return bodies, False


def stall_mid_gaps(itl: tuple[float, ...], stall_s: float) -> tuple[float, ...]:
    """Add the stall to the gap in the middle of the token gaps (after the first token when there
    is only one gap; nothing to stall when there is none)."""
    if not itl:
        return itl
    mid = len(itl) // 2
    return (*itl[:mid], itl[mid] + stall_s, *itl[mid + 1:])
