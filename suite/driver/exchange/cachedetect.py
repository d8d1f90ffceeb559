"""Which requests the target answered from its cache: a header's value, a header's presence, or a
JSON field — one rule per run, compiled once (``cache_rule``) and applied per response.

Spec strings (``--cache-detect``):

- ``auto`` (default): the common headers ``X-Cache``, ``X-Cache-Status``, ``CF-Cache-Status``
  (values such as ``HIT``, ``MISS``, ``Hit from cloudfront``, ``EXPIRED``), else a boolean
  ``cached`` JSON field;
- ``header:NAME``: that header's value, read as above; ``header:NAME=V1|V2``: those values mean a
  hit, any other value a miss;
- ``present:NAME``: the header's presence means a hit, its absence a miss (gateways that add a
  cache-key header only on hits);
- ``json:PATH``: a JSON field (``cached``, ``meta.cache``): true / "hit" → hit, false / "miss" →
  miss;
- ``none``: not detected (every record's ``cache`` is null).

Anything that cannot be read as hit or miss is None: unknown, never guessed. So with
``present:X-Cache-Key`` an answer carrying ``x-cache-key`` is a hit and one without it a miss;
with ``auto``, ``X-Cache: Hit from cloudfront`` is a hit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from suite.driver.exchange.fieldpath import MISSING, Getter, compile_path
from suite.errors import SpecError

AUTO_HEADERS = ("x-cache", "x-cache-status", "cf-cache-status")
AUTO_JSON_FIELD = "cached"
_HIT_WORDS = frozenset({"hit", "stale", "updating", "revalidated", "refreshhit"})
_MISS_WORDS = frozenset({"miss", "expired", "bypass", "dynamic", "none", "uncacheable"})
KINDS = ("auto", "none", "header", "present", "json")

HeaderGet = Callable[[str], Any]


def header_word(value: str | None) -> str | None:
    """A cache header's value → hit / miss / None (``"HIT from proxy"``, ``"Miss from cf"``...)."""
    if not value:
        return None
    word = value.strip().split(None, 1)[0].rstrip(",;").lower() if value.strip() else ""
    if word in _HIT_WORDS or word.endswith("hit"):
        return "hit"
    if word in _MISS_WORDS:
        return "miss"
    return None


def json_word(value: Any) -> str | None:
    """A JSON cache field → hit / miss / None."""
    if value is True:
        return "hit"
    if value is False:
        return "miss"
    if isinstance(value, str):
        return header_word(value)
    return None


@dataclass(frozen=True)
class CacheRule:
    """Compiled ``--cache-detect``. Header names are lower case (how the client reports them)."""

    spec: str
    headers: tuple[str, ...] = ()
    hit_values: frozenset[str] | None = None  # header:NAME=V1|V2
    presence: bool = False
    json_get: Getter | None = None

    def from_headers(self, get: HeaderGet) -> str | None:
        """The verdict from the response headers (``get(name)`` → value or None), or None."""
        for name in self.headers:
            value = get(name)
            if self.presence:
                return "hit" if value is not None else "miss"
            if value is None:
                continue
            if self.hit_values is not None:
                return "hit" if value.strip().lower() in self.hit_values else "miss"
            word = header_word(value)
            if word is not None:
                return word
        return None

    def from_json(self, obj: Any) -> str | None:
        if self.json_get is None:
            return None
        value = self.json_get(obj)
        return None if value is MISSING else json_word(value)


def cache_rule(spec: str) -> CacheRule:
    """Compile a ``--cache-detect`` spec; SpecError naming the spec and the accepted forms."""
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "auto" and not arg:
        return CacheRule(spec, AUTO_HEADERS, json_get=compile_path(AUTO_JSON_FIELD))
    if kind == "none" and not arg:
        return CacheRule(spec)
    if kind in ("header", "present", "json") and arg.strip():
        return _with_arg(spec, kind, arg.strip())
    raise SpecError(f"--cache-detect: {spec!r} is not a cache rule; use auto, none, header:NAME, "
                    f"header:NAME=HIT1|HIT2, present:NAME or json:FIELD.PATH")


def _with_arg(spec: str, kind: str, arg: str) -> CacheRule:
    if kind == "json":
        return CacheRule(spec, json_get=compile_path(arg, f"--cache-detect {spec!r}"))
    name, eq, values = arg.partition("=")
    name = name.strip().lower()
    if not name or (eq and not values.strip()):
        raise SpecError(f"--cache-detect: {spec!r} needs a header name (and values after '='), "
                        f"e.g. header:X-Cache=HIT|STALE")
    if kind == "present":
        return CacheRule(spec, (name,), presence=True)
    hits = frozenset(v.strip().lower() for v in values.split("|") if v.strip()) if eq else None
    return CacheRule(spec, (name,), hit_values=hits)
