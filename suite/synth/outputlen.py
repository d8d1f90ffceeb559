"""Expected output length: how many completion tokens each request is expected to produce.

A scenario can say that its answers are short (``rag-long-context``) or long (a report writer):
``expected_output_tokens`` is drawn per fresh request, capped by that request's ``max_tokens`` (a
reply cannot be longer than the limit it is sent with), and written to the corpus so a mock server or
an analyzer can compare it with what the target produced. Written as a constant (``200``), a uniform
choice (``{choices: [100, 400]}``), an integer range (``{min: 50, max: 400}``) or a lognormal with a
median and a p90 (``{median: 200, p90: 600}``), like ``input_tokens``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from suite.synth.params import ValueSpec, parse_value
from suite.synth.validate import Where, check_keys, integer, show

Z90 = 1.2815515655446004  # the standard normal's 90th percentile
LOGNORMAL_KEYS = {"median": "median output tokens", "p90": "90th-percentile output tokens"}
VALUE_KEYS = ("choices", "min", "max")


@dataclass(frozen=True)
class OutputLength:
    """A lognormal (``median``/``p90``) or a ``ValueSpec`` (constant, choices, range) of tokens."""

    values: ValueSpec | None = None
    median: int = 0
    p90: int = 0

    def draw(self, rng: random.Random, max_tokens: int) -> int:
        """One expected length, at least 1 and at most ``max_tokens``."""
        if self.values is not None:
            drawn = int(self.values.sample(rng))
        else:
            sigma = math.log(self.p90 / self.median) / Z90
            drawn = max(1, round(rng.lognormvariate(math.log(self.median), sigma)))
        return min(drawn, max_tokens)

    def to_dict(self) -> Any:
        return self.values.to_dict() if self.values is not None else {"median": self.median, "p90": self.p90}


def _item(value: Any, where: Where) -> int:
    return integer(value, where, "expected output length in tokens", 1)


def parse_expected_output(raw: Any, where: Where) -> OutputLength | None:
    """None (not asked), ``N``, ``{choices: [...]}``, ``{min, max}`` or ``{median, p90}``."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or any(k in raw for k in VALUE_KEYS):
        return OutputLength(values=parse_value(raw, where, _item))
    check_keys(raw, where, LOGNORMAL_KEYS)
    median, p90 = _item(raw["median"], where.at("median")), _item(raw["p90"], where.at("p90"))
    if p90 <= median:
        raise where.at("p90").error(f"{show(p90)} is not a valid p90 (must be > median {median}).")
    return OutputLength(median=median, p90=p90)


def achieved(values: Sequence[int | None], max_tokens: Sequence[int]) -> dict[str, Any] | None:
    """Percentiles of the expected lengths written, and the share that sits at its ``max_tokens``
    (the cap bit, or the draw equalled it); None when the corpus carries none."""
    pairs = [(v, m) for v, m in zip(values, max_tokens, strict=True) if v is not None]
    if not pairs:
        return None
    arr = np.array([v for v, _ in pairs], dtype=np.int64)
    out: dict[str, Any] = {f"p{q}": float(np.percentile(arr, q)) for q in (50, 90, 99)}
    return {**out, "min": int(arr.min()), "max": int(arr.max()),
            "at_max_tokens_share": sum(v == m for v, m in pairs) / len(pairs)}
