"""Repetition knobs of a spec, validated: popularity, reuse distance, scope, near-duplicates, cache model.

- ``popularity``: ``uniform`` or ``zipf:S`` — how a repeat picks its original among the catalog.
- ``catalog_size``: how many distinct originals repeats may pick from (default: every fresh request).
- ``reuse_distance``: ``{requests: N}`` or ``{seconds: S}`` — a repeat reaches back at most this far
  to the previous occurrence of its key (so TTLs and eviction can be exercised); null = unbounded.
- ``scope``: ``across`` (a repeat may come from any user), ``user`` (only from the same user) or
  ``session`` (only from the user's open conversation session; see ``planner`` for what a session
  is with single- and multi-turn traffic).
- ``cache_model``: ``{capacity: [..], ttl: [..]}`` — extra theoretical hit ratios the manifest reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from suite.synth.validate import Where, check_keys, integer, is_number, mapping, show, unknown_name

SCOPES: dict[str, str] = {
    "across": "a repeat may repeat any earlier request, of any user or tenant",
    "user": "a repeat only repeats an earlier request of the same user",
    "session": "a repeat only repeats an earlier request of the same conversation session",
}
WINDOW_UNITS: dict[str, str] = {"requests": "an integer >= 1", "seconds": "a number > 0"}
WEIGHT_SCALE = 1 << 40  # integer weights keep the sampler's sums exact (no float drift)


@dataclass(frozen=True)
class Popularity:
    """``uniform`` (every original equally likely) or ``zipf`` (rank r drawn ∝ r^-s)."""

    kind: str = "uniform"
    s: float = 0.0

    def weight(self, rank: int) -> int:
        """The integer sampling weight of the original with popularity ``rank`` (1 = most popular)."""
        if self.kind == "uniform":
            return 1
        return max(1, round(WEIGHT_SCALE * rank ** -self.s))

    def to_value(self) -> str:
        return "uniform" if self.kind == "uniform" else f"zipf:{self.s:g}"


@dataclass(frozen=True)
class ReuseWindow:
    """How far back a repeat may reach: ``size`` requests or seconds (``unit``)."""

    unit: str
    size: float

    def to_dict(self) -> dict[str, Any]:
        return {self.unit: int(self.size) if self.unit == "requests" else self.size}


@dataclass(frozen=True)
class CacheModel:
    """Bounded caches whose theoretical hit ratio the manifest should report beside the unbounded one."""

    capacity: tuple[int, ...] = ()
    ttl: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"capacity": list(self.capacity), "ttl": list(self.ttl)}


def parse_popularity(raw: Any, where: Where) -> Popularity:
    if raw == "uniform":
        return Popularity()
    name, _, exponent = str(raw).partition(":")
    if name != "zipf":
        raise where.error(f"{show(raw)} is not a valid popularity (use uniform or zipf:S, e.g. zipf:1.1).")
    try:
        s = float(exponent)
    except ValueError:
        s = -1.0
    if not 0 < s <= 5:
        raise where.error(f"{show(raw)} has no valid Zipf exponent "
                          "(use zipf:S with 0 < S <= 5, e.g. zipf:1.1).")
    return Popularity("zipf", s)


def parse_reuse_distance(raw: Any, where: Where) -> ReuseWindow | None:
    if raw is None:
        return None
    raw = mapping(raw, where, "{requests: N} or {seconds: S}")
    if len(raw) != 1 or next(iter(raw)) not in WINDOW_UNITS:
        key = str(next(iter(raw), ""))
        raise where.error(unknown_name("reuse_distance unit", key, WINDOW_UNITS)
                          + " (give exactly one, e.g. {requests: 500} or {seconds: 60}).")
    unit, value = next(iter(raw.items()))
    if unit == "requests":
        return ReuseWindow(unit, integer(value, where.at(unit), "window in requests", 1))
    if not is_number(value) or value <= 0:
        raise where.at(unit).error(f"{show(value)} is not a valid window in seconds (must be a number > 0).")
    return ReuseWindow(unit, float(value))


def parse_scope(raw: Any, where: Where) -> str:
    if raw not in SCOPES:
        raise where.error(unknown_name("scope", str(raw), SCOPES) + ".")
    return str(raw)


def parse_ratio(raw: Any, where: Where, what: str, upper_inclusive: bool = False) -> float:
    ok = is_number(raw) and raw >= 0 and (raw <= 1 if upper_inclusive else raw < 1)
    if not ok:
        bound = "<= 1" if upper_inclusive else "< 1"
        raise where.error(f"{show(raw)} is not a valid {what} (must be a number >= 0 and {bound}).")
    return float(raw)


def parse_cache_model(raw: Any, where: Where) -> CacheModel:
    raw = mapping(raw, where, "{capacity: [..], ttl: [..]}")
    check_keys(raw, where, {}, ("capacity", "ttl"))
    capacity = tuple(integer(v, where.at("capacity").at(i), "cache capacity", 1)
                     for i, v in enumerate(_list(raw.get("capacity", []), where.at("capacity"))))
    ttl = []
    for i, v in enumerate(_list(raw.get("ttl", []), where.at("ttl"))):
        if not is_number(v) or v <= 0:
            raise where.at("ttl").at(i).error(f"{show(v)} is not a valid TTL (must be seconds > 0).")
        ttl.append(float(v))
    return CacheModel(capacity, tuple(ttl))


def _list(value: Any, where: Where) -> list[Any]:
    if not isinstance(value, list):
        raise where.error(f"{show(value)} is not a list (write e.g. [100, 1000]).")
    return value
