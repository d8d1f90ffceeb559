"""Compiled slot fillers: each kind writes values of the declared shape, uniformly, from the seeded stream."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date

import pytest

from suite.synth import parse_spec
from suite.synth.slotfill import COMPILERS, PooledSlots
from suite.synth.streams import seeded_faker
from suite.synth.templates import SlotSpec

from .test_spec import BASE


@pytest.mark.parametrize(("slot", "shape"), [
    (SlotSpec("x", "pattern", "INV-2025-#####"), r"INV-2025-\d{5}"),
    (SlotSpec("x", "pattern", "??-#-############"), r"[A-Za-z]{2}-\d-\d{12}"),
    (SlotSpec("x", "number", (85, 98000), {"prefix": "€"}), r"€\d{1,2}(,\d{3})?|€\d{2,3}"),
    (SlotSpec("x", "number", (1, 5), {"decimals": 2, "suffix": "%"}), r"[1-5]\.\d{2}%"),
    (SlotSpec("x", "date", (date(2025, 1, 30), date(2025, 2, 2)), {"format": "%d %b"}),
     r"(30 Jan|31 Jan|01 Feb|02 Feb)"),
    (SlotSpec("x", "choices", ("a", "b")), r"[ab]"),
])
def test_each_kind_writes_its_shape(slot: SlotSpec, shape: str) -> None:
    fill = COMPILERS[slot.kind](slot, random.Random(1))
    assert all(re.fullmatch(shape, fill()) for _ in range(500))


def test_digit_runs_and_choices_are_uniform() -> None:
    rng = random.Random(2)
    digits = COMPILERS["pattern"](SlotSpec("x", "pattern", "###"), rng)
    firsts = Counter(digits()[0] for _ in range(20_000))
    assert len(firsts) == 10
    assert max(firsts.values()) < 1.1 * min(firsts.values()) + 100
    pick = COMPILERS["choices"](SlotSpec("x", "choices", tuple("abcd")), rng)
    counts = Counter(pick() for _ in range(20_000))
    assert set(counts) == set("abcd")
    assert max(counts.values()) - min(counts.values()) < 400


def test_faker_slot_pools_its_values_and_replays_with_the_seed() -> None:
    spec = parse_spec(BASE, "s.yaml")
    first = PooledSlots(spec, seeded_faker("en_US", 3))
    values = [first.value("company") for _ in range(1500)]
    assert len(set(values)) <= 1024
    assert values[1024:]
    assert set(values[1024:]) <= set(values[:1024])
    again = PooledSlots(spec, seeded_faker("en_US", 3))
    assert [again.value("company") for _ in range(1500)] == values
