"""The build's random streams, and the cheap draws its hot loop uses.

Every random choice of a build comes from one of these streams, each seeded from the build seed and
its own name, so the same seed gives the same corpus and adding a knob to one concern does not
reshuffle the others.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from faker import Faker

T = TypeVar("T")


def derive_seed(seed: int, stream: str) -> int:
    """An independent 64-bit seed per named stream (stable across Python versions and runs)."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{stream}".encode()).digest()[:8], "big")


@dataclass
class Streams:
    """The build's random streams, one per concern."""

    plan: random.Random
    params: random.Random
    content: Faker
    arrival: random.Random
    prefix: random.Random
    paraphrase: random.Random
    length: random.Random
    locale: random.Random
    history: random.Random
    output: random.Random
    seed: int

    @classmethod
    def from_seed(cls, seed: int, locale: str) -> Streams:
        fake = seeded_faker(locale, derive_seed(seed, "content"))

        def rng(name: str) -> random.Random:
            return random.Random(derive_seed(seed, name))

        return cls(rng("plan"), rng("params"), fake, rng("arrival"), rng("prefix"), rng("paraphrase"),
                   rng("length"), rng("locale"), rng("history"), rng("output"), seed)

    def faker(self, locale: str, default: str) -> Faker:
        """The content Faker of ``locale``: the main one for the spec's own locale, else its own
        instance seeded from the build seed (so adding a locale does not reshuffle the others)."""
        if locale == default:
            return self.content
        return seeded_faker(locale, derive_seed(self.seed, f"content/{locale}"))


def seeded_faker(locale: str, seed: int) -> Faker:
    """A Faker for ``locale`` seeded with ``seed`` whose draws do not depend on Python's hash seed.

    Some Faker locales build their data lists from sets (it_IT's 16,559 cities), so the lists' order —
    and every draw from them — changes from one process to the next with ``PYTHONHASHSEED``. Every
    list of strings a provider holds is replaced, on this instance only, by a sorted copy: Faker draws
    from such lists uniformly, so the distribution is unchanged and the order is the same everywhere."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    for provider in fake.get_providers():
        for name in dir(provider):
            if name.startswith("_"):
                continue
            value = getattr(provider, name, None)
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                setattr(provider, name, sorted(value))
    return fake


def one_of(rng: random.Random, items: Sequence[T]) -> T:
    """A uniform draw from one ``random()`` call: a third of ``rng.choice``'s cost (its rejection
    sampling); each item's probability is within len(items) / 2^53 of exact."""
    return items[int(rng.random() * len(items))]


def pick(rng: random.Random, items: Sequence[T], cum_weights: list[float]) -> T:
    """``rng.choices(items, cum_weights=...)[0]`` without its per-call setup (the same single draw)."""
    return items[bisect.bisect(cum_weights, rng.random() * cum_weights[-1], 0, len(items) - 1)]
