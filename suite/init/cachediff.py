"""Cache signal discovery from three answers: a fresh request (``first``), the same request again
after the first had finished (``repeat``), and another fresh request (``other``).

Why a third request: a header or field that differs between two *fresh* requests (a request id, a
timestamp, a timing) changes on every answer and says nothing about the cache; only what is the
same on both fresh answers and different on the repeat can be a hit signal. A candidate becomes the
proposed rule when it reads as a hit word (``HIT``, ``true``) or the repeat was clearly faster,
and when the rule, compiled exactly as a run compiles it, reads the repeat as a hit and neither
fresh answer as one. ``usage...cached_tokens`` is a prompt (prefix) cache count, never a response
cache hit (suite.gateways), so it is named but not proposed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from suite.cachesignal import Signal, header_word, json_word, preset_of
from suite.init.answer import Answer, flatten, ms

# Headers that describe the transport or the clock, never the cache.
NOISE_HEADERS = frozenset({"date", "content-length", "transfer-encoding", "connection", "keep-alive",
                           "set-cookie", "expires", "last-modified", "vary", "server"})
# a repeat "clearly faster": at most this share of the faster fresh answer's time
DROP = 0.5
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# strength of a candidate's evidence, strongest first
PRESET, WORD, PRESENT, VALUES, JSON = range(5)


@dataclass(frozen=True)
class Candidate:
    """One header or field that changed on the repeat only, and the rule that would read it."""

    rule: str
    strength: int
    seen: str  # "x-acme-cache: absent, absent on the other fresh request, 'hit' on the repeat"
    preset: str | None = None


@dataclass(frozen=True)
class CacheFinding:
    """The proposed rule (None: no cache signal found), the gateway it names, and the evidence."""

    rule: str | None
    evidence: str
    preset: str | None = None
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)
    faster: bool = False


def _show(value: Any) -> str:
    return "absent" if value is None else repr(value)


def _seen(name: str, first: Any, other: Any, repeat: Any) -> str:
    return f"{name}: {_show(first)} on both fresh requests, {_show(repeat)} on the repeat"


def header_candidate(name: str, first: str | None, other: str | None, repeat: str | None) -> Candidate | None:
    """The rule a header would give, or None when it is noise or did not change on the repeat only."""
    if name in NOISE_HEADERS or first != other or repeat == first or repeat is None:
        return None
    seen = _seen(name, first, other, repeat)
    preset = preset_of(Signal(name))
    word = header_word(repeat) == "hit"
    if first is None:  # sent on hits only: its absence is a miss (header: would read it unknown)
        return Candidate(f"present:{name}", PRESET if preset else WORD if word else PRESENT, seen, preset)
    if word and header_word(first) != "hit":
        return Candidate(f"header:{name}", PRESET if preset else WORD, seen, preset)
    if _NUMBER.match(repeat.strip()) and repeat.strip() not in ("0", "1"):
        return None  # a number that happened to repeat on both fresh answers (a timing, a count)
    if "|" in repeat or "=" in name:
        return None  # cannot be written as header:NAME=VALUE
    return Candidate(f"header:{name}={repeat.strip()}", PRESET if preset else VALUES, seen, preset)


def json_candidate(path: str, first: Any, other: Any, repeat: Any) -> tuple[Candidate | None, str | None]:
    """(the rule a body field would give, or a note on a field that changed but is no rule)."""
    if first != other or repeat == first:
        return None, None
    seen = _seen(path, first, other, repeat)
    if "cached_tokens" in path:
        return None, f"{seen}: a prompt (prefix) cache count, not a response cache hit; not proposed"
    if json_word(repeat) == "hit" and json_word(first) != "hit":
        return Candidate(f"json:{path}", JSON, seen), None
    return None, f"{seen}: not readable as hit/miss"


def candidates(first: Answer, other: Answer, repeat: Answer) -> tuple[list[Candidate], list[str], list[str]]:
    """Every candidate, strongest first; notes on changes that are no rule; and the headers and
    fields that differ between the two fresh answers (they change on every answer: ignored)."""
    found: list[Candidate] = []
    notes: list[str] = []
    volatile: list[str] = []
    for name in sorted(set(first.headers) | set(other.headers) | set(repeat.headers)):
        one, two = first.headers.get(name), other.headers.get(name)
        if one != two and name not in NOISE_HEADERS:
            volatile.append(name)
        cand = header_candidate(name, one, two, repeat.headers.get(name))
        if cand is not None:
            found.append(cand)
    bodies = [a.json() for a in (first, other, repeat)]
    if all(isinstance(b, dict) for b in bodies):
        flat = [dict(flatten(b)) for b in bodies]
        for path in sorted(set().union(*flat)):
            if flat[0].get(path) != flat[1].get(path):
                volatile.append(path)
            cand, note = json_candidate(path, flat[0].get(path), flat[1].get(path), flat[2].get(path))
            if cand is not None:
                found.append(cand)
            if note:
                notes.append(note)
    found.sort(key=lambda c: c.strength)
    return found, notes, volatile


def reads(rule: str, answer: Answer) -> str | None:
    """hit / miss / None: how a run would read ``answer`` with ``rule`` (headers, then the body)."""
    from suite.driver.exchange.cachedetect import cache_rule

    compiled = cache_rule(rule)
    verdict = compiled.from_headers(answer.headers.get)
    if verdict is None:
        body = answer.json()
        if body is not None:
            verdict = compiled.from_json(body)
    return verdict


def timing(first: Answer, other: Answer, repeat: Answer) -> tuple[bool, str]:
    """(whether the repeat was clearly faster, the times as evidence)."""
    fresh = min(first.elapsed_s, other.elapsed_s)
    faster = repeat.elapsed_s <= DROP * fresh
    return faster, (f"fresh {ms(first.elapsed_s)} and {ms(other.elapsed_s)}, repeat {ms(repeat.elapsed_s)}"
                    f"{' (faster)' if faster else ' (not faster)'}")


def discover(first: Answer, repeat: Answer, other: Answer) -> CacheFinding:
    """The hit rule the three answers support, or "no cache signal found" with what was seen."""
    failed = next((a for a in (first, repeat, other) if not a.ok), None)
    if failed is not None:
        return CacheFinding(None, f"not probed: {failed.what} got {failed.status_text()}")
    found, notes, volatile = candidates(first, other, repeat)
    faster, times = timing(first, other, repeat)
    if volatile:
        shown = ", ".join(volatile[:6]) + (" …" if len(volatile) > 6 else "")
        notes.append(f"different on every answer, ignored: {shown}")
    checked = [c for c in found if reads(c.rule, repeat) == "hit"
               and "hit" not in (reads(c.rule, first), reads(c.rule, other))]
    strong = [c for c in checked if c.strength in (PRESET, WORD, JSON) or faster]
    if strong:
        best = strong[0]
        named = f" (the {best.preset} preset's signal)" if best.preset else ""
        others = f"; also changed: {', '.join(c.rule for c in strong[1:])}" if len(strong) > 1 else ""
        return CacheFinding(best.rule, f"{best.seen}{named}; {times}{others}", best.preset,
                            tuple(strong), faster)
    seen = [f"{c.seen} (repeat not faster: not proposed)" for c in checked] + notes
    why = "; ".join([times, *seen]) if seen else times
    if faster:
        why += ("; the target may cache without saying so: hits cannot be told from misses, so "
                "the run counts none (cache_detect: none)")
    return CacheFinding(None, why, None, (), faster)
