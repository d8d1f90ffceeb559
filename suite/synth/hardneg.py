"""Hard negatives (near misses): an earlier request's exact wording with one slot value changed.

"What is the status of order 1234?" and "What is the status of order 5678?" differ by a few
characters and have different answers: the pair a semantic cache must NOT serve from one another.
A near miss keeps its original's template, wording, context, prefix, model and parameters, and
redraws ONE slot (an id, amount, date, name or choice) until its value differs, so the text is
as close to the original as a different question can be. Values come from the build's own
near-miss stream, so the fresh requests of a corpus do not depend on how many near misses it has.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from suite.synth.slotfill import PooledSlots
from suite.synth.spec import ScenarioSpec
from suite.synth.streams import derive_seed, seeded_faker

REDRAWS = 20  # draws of a slot before it is taken to have no other value (e.g. one choice)
FALLBACKS = 20  # other originals a near miss tries when its planned one cannot be varied


def near_miss_values(values: Mapping[str, str], draw: Callable[[str], str],
                     rng: random.Random) -> dict[str, str] | None:
    """``values`` with one slot (drawn uniformly; another one if it cannot change) redrawn with
    ``draw(name)`` to a different value; None when no slot can change (a template without slots,
    or slots with a single possible value)."""
    names = list(values)
    while names:
        name = names.pop(int(rng.random() * len(names)))
        for _ in range(REDRAWS):
            value = draw(name)
            if value != values[name]:
                return {**values, name: value}
    return None


class NearMisses:
    """The build's near-miss values: slot fillers per locale on their own seeded streams."""

    def __init__(self, spec: ScenarioSpec, seed: int) -> None:
        self.spec = spec
        self.seed = seed
        self.rng = random.Random(derive_seed(seed, "near_miss"))
        self.slots: dict[str, PooledSlots] = {}

    def values(self, values: Mapping[str, str], locale: str) -> dict[str, str] | None:
        """``near_miss_values`` with the locale's near-miss fillers (None: nothing can change)."""
        if not values:
            return None
        slots = self.slots.get(locale)
        if slots is None:
            fake = seeded_faker(locale, derive_seed(self.seed, f"near_miss/{locale}"))
            slots = self.slots[locale] = PooledSlots(self.spec, fake)
        return near_miss_values(values, slots.value, self.rng)


def near_miss_sources(planned: int, i: int, rows: list[dict[str, Any]]) -> Iterator[int]:
    """The planned original, then up to ``FALLBACKS`` other fresh requests before position ``i``,
    latest first (a fresh row has no repeat_of, variant_of or near_miss_of)."""
    yield planned
    tried = 0
    for j in range(i - 1, -1, -1):
        if tried >= FALLBACKS:
            return
        row = rows[j]
        fresh = row["repeat_of"] is None and row["variant_of"] is None and "near_miss_of" not in row
        if j != planned and fresh:
            tried += 1
            yield j
