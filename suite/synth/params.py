"""Request parameters and arrival processes of a spec: small value models, each a table entry.

A parameter (``max_tokens``, ``temperature``) is written as a constant (``512``), a uniform choice
(``{choices: [256, 512]}``) or a uniform integer range (``{min: 64, max: 1024}``).
(Arrival processes live in ``arrivals.py``.)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from suite.synth.validate import Where, check_keys, is_number, non_empty_list, show

Number = int | float
ItemCheck = Callable[[Any, Where], Number]


@dataclass(frozen=True)
class ValueSpec:
    """How one request parameter is drawn: ``constant``, ``choices`` (uniform) or ``range`` (int)."""

    kind: str
    values: tuple[Number, ...]

    def sample(self, rng: random.Random) -> Number:
        if self.kind == "choices":  # one random() call: a third of rng.choice's cost, as uniform
            return self.values[int(rng.random() * len(self.values))]
        if self.kind == "range":
            return rng.randint(int(self.values[0]), int(self.values[1]))
        return self.values[0]

    def to_dict(self) -> Any:
        if self.kind == "choices":
            return {"choices": list(self.values)}
        if self.kind == "range":
            return {"min": self.values[0], "max": self.values[1]}
        return self.values[0]


def parse_value(raw: Any, where: Where, check: ItemCheck) -> ValueSpec:
    """A constant, ``{choices: [...]}`` or ``{min: a, max: b}``; each item passes ``check``."""
    if not isinstance(raw, dict):
        return ValueSpec("constant", (check(raw, where),))
    if "choices" in raw:
        check_keys(raw, where, {"choices": "a list of values"})
        items = non_empty_list(raw["choices"], where.at("choices"), "values")
        return ValueSpec("choices", tuple(check(v, where.at("choices").at(i)) for i, v in enumerate(items)))
    check_keys(raw, where, {"min": "the smallest value", "max": "the largest value"})
    lo, hi = check(raw["min"], where.at("min")), check(raw["max"], where.at("max"))
    if hi < lo:
        raise where.at("max").error(f"{show(hi)} is not a valid max (must be >= min {show(lo)}).")
    return ValueSpec("range", (lo, hi))


def max_tokens_item(value: Any, where: Where) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise where.error(f"{show(value)} is not a valid max_tokens (must be an integer >= 1).")
    return value


def temperature_item(value: Any, where: Where) -> float:
    if not is_number(value) or not 0 <= value <= 2:
        raise where.error(f"{show(value)} is not a valid temperature (must be a number from 0 to 2).")
    return float(value)
