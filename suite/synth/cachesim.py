"""Theoretical hit ratios of exact-match caches over a key sequence (the trace's ceiling).

- unbounded, no TTL: ``(N − U) / N`` — every key's first occurrence is a compulsory miss;
- LRU with ``capacity`` entries: a hit moves the key to the front; a miss inserts it, evicting the
  least recently used key when full;
- TTL of ``ttl`` seconds, unbounded: an entry is written on a miss and expires ``ttl`` seconds later
  (hits do not extend it — a fixed TTL, as Redis ``SET ... EX`` gives).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence


def unbounded_hit_ratio(keys: Sequence[str]) -> float:
    return (len(keys) - len(set(keys))) / len(keys) if keys else 0.0


def lru_hit_ratio(keys: Sequence[str], capacity: int) -> float:
    cache: OrderedDict[str, None] = OrderedDict()
    hits = 0
    for key in keys:
        if key in cache:
            hits += 1
            cache.move_to_end(key)
            continue
        cache[key] = None
        if len(cache) > capacity:
            cache.popitem(last=False)
    return hits / len(keys) if keys else 0.0


def ttl_hit_ratio(keys: Sequence[str], times: Sequence[float], ttl: float) -> float:
    written: dict[str, float] = {}
    hits = 0
    for key, t in zip(keys, times, strict=False):
        since = written.get(key)
        if since is not None and t - since < ttl:
            hits += 1
        else:
            written[key] = t
    return hits / len(keys) if keys else 0.0
