"""Slot values for one build: each slot compiled once into a filler bound to the build's random stream.

Building 100,000 requests fills ~250,000 slots, so per-value overhead matters: a slot is turned into a
zero-argument function when the build starts (the table lookup, option parsing and pattern scanning
happen once), and Faker's slow providers are pooled. Every value still comes from the seeded streams,
in request order, so the same seed gives the same values.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import timedelta

from faker import Faker

from suite.synth.spec import ScenarioSpec
from suite.synth.templates import LETTERS, SlotSpec

FAKER_POOL = 1024  # distinct values a Faker slot writes before reusing them
MAX_LISTED_DAYS = 20_000  # a date range up to this long is formatted once and drawn from a list
Filler = Callable[[], str]
PATTERN_TOKENS = re.compile(r"#+|\?|[^#?]+")


def _pattern(slot: SlotSpec, rng: random.Random) -> Filler:
    """``#`` → a digit, ``?`` → an ASCII letter, anything else kept. A run of k ``#`` is one draw below
    10^k, zero-padded (the same distribution as k digit draws, at a fraction of the cost)."""
    # literal text, k (a run of k digits) or -1 (one letter)
    parts = [len(t) if t[0] == "#" else -1 if t == "?" else t for t in PATTERN_TOKENS.findall(slot.arg)]
    randrange, rnd = rng.randrange, rng.random

    def digits(k: int) -> str:  # int(random() * m) is uniform to within m / 2^53 (1e-7 for 9 digits)
        return f"{int(rnd() * 10 ** k):0{k}d}" if k <= 9 else f"{randrange(10 ** k):0{k}d}"

    def fill() -> str:
        return "".join(p if isinstance(p, str) else LETTERS[int(rnd() * 52)] if p < 0 else digits(p)
                       for p in parts)
    return fill


def _number(slot: SlotSpec, rng: random.Random) -> Filler:
    lo, hi = slot.arg
    decimals = slot.options.get("decimals", 0)
    head, tail = slot.options.get("prefix", ""), slot.options.get("suffix", "")
    if decimals:
        return lambda: f"{head}{rng.uniform(lo, hi):,.{decimals}f}{tail}"
    lo_i, hi_i = int(lo), int(hi)
    return lambda: f"{head}{rng.randint(lo_i, hi_i):,}{tail}"


def _date(slot: SlotSpec, rng: random.Random) -> Filler:
    start, end = slot.arg
    span = (end - start).days
    fmt = slot.options.get("format", "%Y-%m-%d")
    if span < MAX_LISTED_DAYS:
        days = tuple((start + timedelta(days=d)).strftime(fmt) for d in range(span + 1))
        rnd, size = rng.random, len(days)
        return lambda: days[int(rnd() * size)]
    return lambda: (start + timedelta(days=rng.randint(0, span))).strftime(fmt)


def _choices(slot: SlotSpec, rng: random.Random) -> Filler:
    items, rnd = slot.arg, rng.random
    size = len(items)
    return lambda: items[int(rnd() * size)]


COMPILERS: dict[str, Callable[[SlotSpec, random.Random], Filler]] = {
    "choices": _choices,
    "pattern": _pattern,
    "number": _number,
    "date": _date,
}


class PooledSlots:
    """Slot values for one build. A Faker slot draws from the seeded Faker until it has written
    ``FAKER_POOL`` values, then reuses them uniformly (Faker's weighted providers are slow, a
    weighted draw per call; 1,024 distinct names or companies per slot is still far more than a
    corpus can exhaust)."""

    def __init__(self, spec: ScenarioSpec, fake: Faker) -> None:
        self.rng: random.Random = fake.random  # the Random itself: Faker's proxy attribute is slow
        self.fake = fake
        self.fillers: dict[str, Filler] = {
            name: self._faker(slot) if slot.kind == "faker" else COMPILERS[slot.kind](slot, self.rng)
            for name, slot in spec.slots.items()}

    def _faker(self, slot: SlotSpec) -> Filler:
        pool: list[str] = []
        rnd = self.rng.random

        def fill() -> str:
            if len(pool) < FAKER_POOL:
                pool.append(slot.fill(self.fake))
                return pool[-1]
            return pool[int(rnd() * FAKER_POOL)]
        return fill

    def value(self, name: str) -> str:
        return self.fillers[name]()

    def values(self, names: tuple[str, ...]) -> dict[str, str]:
        fillers = self.fillers
        return {name: fillers[name]() for name in names}
