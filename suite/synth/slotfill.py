"""Slot values for one build, with Faker's slow providers pooled."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from faker import Faker

from suite.synth.spec import ScenarioSpec

FAKER_POOL = 1024  # distinct values a Faker slot writes before reusing them


class PooledSlots:
    """Slot values for one build. A Faker slot draws from the seeded Faker until it has written
    ``FAKER_POOL`` values, then reuses them uniformly (Faker's weighted providers cost ~100 µs a call;
    1,024 distinct names or companies per slot is still far more than a corpus can exhaust)."""

    def __init__(self, spec: ScenarioSpec, fake: Faker) -> None:
        self.slots = spec.slots
        self.fake = fake
        self.pools: dict[str, list[str]] = {}
        # Non-Faker fillers only use ``.random``: hand them the Random itself, not Faker's slow proxy.
        self.plain = cast(Faker, SimpleNamespace(random=fake.random))

    def value(self, name: str) -> str:
        slot = self.slots[name]
        if slot.kind != "faker":
            return slot.fill(self.plain)
        pool = self.pools.setdefault(name, [])
        if len(pool) < FAKER_POOL:
            pool.append(slot.fill(self.fake))
            return pool[-1]
        return self.fake.random.choice(pool)

    def values(self, names: tuple[str, ...]) -> dict[str, str]:
        return {name: self.value(name) for name in names}
