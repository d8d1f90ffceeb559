"""Which requests the target answered from its cache — one ``--cache-detect`` rule per run, compiled
once and applied per response. A contract (pure): the driver applies a rule to each response, the
analyzer re-applies one to the headers a run recorded (``analyze --cache-detect``) and names the
signal it found, so both read headers the same way.

Spec strings (``--cache-detect``):

- ``auto`` (default): every gateway preset's header signal (suite.gateways), then the common
  ``X-Cache``, ``X-Cache-Status``, ``CF-Cache-Status`` (values such as ``HIT``, ``MISS``, ``Hit
  from cloudfront``, ``EXPIRED``), else a boolean ``cached`` JSON field. A presence-style preset
  header (LiteLLM's ``x-litellm-cache-key``, sent on hits only) counts only as a hit in ``auto``:
  its absence says nothing, since the target may not be that gateway at all;
- ``header:NAME``: that header's value, read as above; ``header:NAME=V1|V2``: those values mean a
  hit, any other value a miss;
- ``present:NAME``: the header's presence means a hit, its absence a miss (gateways that add a
  cache-key header only on hits);
- ``json:PATH``: a JSON field (``cached``, ``meta.cache``): true / "hit" / a positive count → hit,
  false / "miss" / 0 → miss;
- ``none``: not detected (every record's ``cache`` is null).

Anything that cannot be read as hit or miss is None: unknown, never guessed.

``ServedRule`` (``--served-key-header``, ``--similarity-header``) names the headers that say which
cache entry a hit was served from and how similar it was; they join the allow-list so every record
keeps them, and the analyzer judges each hit against the corpus (suite.analyze.summarize.semantic).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from suite.errors import SpecError
from suite.gateways import PRESETS

AUTO_HEADERS = ("x-cache", "x-cache-status", "cf-cache-status")
AUTO_JSON_FIELD = "cached"
_HIT_WORDS = frozenset({"hit", "stale", "updating", "revalidated", "refreshhit"})
_MISS_WORDS = frozenset({"miss", "expired", "bypass", "dynamic", "none", "uncacheable"})
KINDS = ("auto", "none", "header", "present", "json")
# how a signal reads its header: a cache word, a value in a hit list, presence/absence, presence only
WORD, VALUES, PRESENCE, HIT_ONLY = "word", "values", "presence", "hit-only"

HeaderGet = Callable[[str], Any]


def header_word(value: str | None) -> str | None:
    """A cache header's value → hit / miss / None (``"HIT from proxy"``, ``"Miss from cf"``...)."""
    if not value or not value.strip():
        return None
    word = value.strip().split(None, 1)[0].rstrip(",;").lower()
    if word in _HIT_WORDS or word.endswith("hit"):
        return "hit"
    if word in _MISS_WORDS:
        return "miss"
    return None


def json_word(value: Any) -> str | None:
    """A JSON cache field → hit / miss / None; a count (``cached_tokens``) is a hit when positive."""
    if value is True:
        return "hit"
    if value is False:
        return "miss"
    if isinstance(value, int):
        return "hit" if value > 0 else "miss" if value == 0 else None
    if isinstance(value, str):
        return header_word(value)
    return None


@dataclass(frozen=True)
class Signal:
    """One header and how to read it (``mode``: WORD, VALUES, PRESENCE or HIT_ONLY)."""

    name: str  # lower case, how the client reports it
    mode: str = WORD
    hit_values: frozenset[str] = frozenset()

    def read(self, value: str | None) -> str | None:
        """hit / miss / None (no verdict: the next signal is tried) from the header's value."""
        if self.mode == PRESENCE:
            return "hit" if value is not None else "miss"
        if value is None:
            return None
        if self.mode == HIT_ONLY:
            return "hit"
        if self.mode == VALUES:
            return "hit" if value.strip().lower() in self.hit_values else "miss"
        return header_word(value)


@dataclass(frozen=True)
class CacheRule:
    """Compiled ``--cache-detect``: header signals tried in order, then a JSON field (``json_path``;
    the driver compiles it into ``json_get``, suite.driver.exchange.cachedetect)."""

    spec: str
    signals: tuple[Signal, ...] = ()
    json_path: str | None = None
    json_get: Callable[[Any], Any] | None = None

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.signals)

    def from_headers(self, get: HeaderGet) -> str | None:
        """The verdict from the response headers (``get(name)`` → value or None), or None."""
        for signal in self.signals:
            value = get(signal.name)
            if value is None:  # the usual case for most signals: no call to ``read``
                if signal.mode == PRESENCE:
                    return "miss"
                continue
            verdict = signal.read(value)
            if verdict is not None:
                return verdict
        return None

    def found(self, get: HeaderGet) -> Signal | None:
        """The signal that gave the verdict (the analyzer says which one it found), or None."""
        for signal in self.signals:
            if signal.read(get(signal.name)) is not None:
                return signal
        return None

    def from_json(self, obj: Any) -> str | None:
        """The verdict from a decoded body or chunk; a field that is absent (the getter's own
        marker) or null reads as None, like any other value that is neither hit nor miss."""
        return None if self.json_get is None else json_word(self.json_get(obj))


def parse_signal(spec: str, kind: str, arg: str) -> Signal:
    """``NAME`` / ``NAME=V1|V2`` of a header or present rule → its Signal."""
    name, eq, values = arg.partition("=")
    name = name.strip().lower()
    if not name or (eq and not values.strip()) or (eq and kind == "present"):
        raise SpecError(f"--cache-detect: {spec!r} needs a header name (and values after '=' for "
                        f"header:), e.g. header:X-Cache=HIT|STALE or present:X-Cache-Key")
    if kind == "present":
        return Signal(name, PRESENCE)
    if eq:
        return Signal(name, VALUES, frozenset(v.strip().lower() for v in values.split("|") if v.strip()))
    return Signal(name)


def _valid_path(spec: str, path: str) -> str:
    if any(not part for part in path.split(".")):
        raise SpecError(f"--cache-detect {spec!r}: {path!r} is not a field path; write keys "
                        f"separated by dots, list positions as numbers, e.g. meta.cache")
    return path


def auto_signals() -> tuple[Signal, ...]:
    """Every preset's header signal (a presence rule as hit-only), then the common CDN headers."""
    out: list[Signal] = []
    for preset in PRESETS.values():
        kind, _, arg = preset.cache_detect.partition(":")
        if kind not in ("header", "present"):
            continue
        signal = parse_signal(preset.cache_detect, kind, arg)
        if signal.mode == PRESENCE:
            signal = Signal(signal.name, HIT_ONLY)
        if signal.name not in AUTO_HEADERS and all(s.name != signal.name for s in out):
            out.append(signal)
    return (*out, *(Signal(name) for name in AUTO_HEADERS))


def parse_rule(spec: str) -> CacheRule:
    """Compile a ``--cache-detect`` spec (its JSON path not yet compiled); SpecError naming the spec
    and the accepted forms."""
    kind, _, arg = spec.partition(":")
    kind, arg = kind.strip().lower(), arg.strip()
    if kind == "auto" and not arg:
        return CacheRule(spec, auto_signals(), AUTO_JSON_FIELD)
    if kind == "none" and not arg:
        return CacheRule(spec)
    if kind == "json" and arg:
        return CacheRule(spec, json_path=_valid_path(spec, arg))
    if kind in ("header", "present") and arg:
        return CacheRule(spec, (parse_signal(spec, kind, arg),))
    raise SpecError(f"--cache-detect: {spec!r} is not a cache rule; use auto, none, header:NAME, "
                    f"header:NAME=HIT1|HIT2, present:NAME or json:FIELD.PATH")


SERVED_KEY_HEADER = "x-cache-key"
SIMILARITY_HEADER = "x-cache-similarity"


@dataclass(frozen=True)
class ServedRule:
    """Which response headers name the cache entry a hit was served from (its key) and how similar
    it was (``--served-key-header``, ``--similarity-header``; "" = not read). The served key is what
    lets the analyzer judge a hit against the corpus (suite.analyze.summarize.semantic)."""

    key: str = SERVED_KEY_HEADER
    similarity: str = SIMILARITY_HEADER

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.key, self.similarity) if n)


def served_rule(key: str | None = SERVED_KEY_HEADER,
                similarity: str | None = SIMILARITY_HEADER) -> ServedRule:
    """Header names checked and lower-cased; ``none`` (or empty) reads no header."""
    def one(option: str, name: str | None) -> str:
        name = (name or "").strip().lower()
        if name in ("", "none"):
            return ""
        if any(c in name for c in " :\r\n\t"):
            raise SpecError(f"{option}: {name!r} is not a header name; write e.g. {option} x-cache-key "
                            f"(or none).")
        return name
    return ServedRule(one("--served-key-header", key), one("--similarity-header", similarity))


def allowlist(rule: CacheRule | None = None, served: ServedRule | None = None) -> tuple[str, ...]:
    """The response headers a record keeps (``cache_headers``): every header ``auto`` reads (each
    preset's and the common ones), plus the one ``rule`` names and the ``served`` key/similarity."""
    names = [s.name for s in auto_signals()]
    extra = [s.name for s in rule.signals] if rule is not None else []
    for name in (*extra, *(served.names if served is not None else ())):
        if name not in names:
            names.append(name)
    return tuple(names)


def capture(names: tuple[str, ...], get: HeaderGet) -> dict[str, str] | None:
    """``{name: value}`` of the ``names`` the response carries, or None when it carries none (hot
    path: one lookup per name)."""
    out: dict[str, str] | None = None
    for name in names:
        value = get(name)
        if value is not None:
            if out is None:
                out = {}
            out[name] = value
    return out


def preset_of(signal: Signal) -> str | None:
    """The preset whose documented signal this header is (None: a common CDN header)."""
    for preset in PRESETS.values():
        kind, _, arg = preset.cache_detect.partition(":")
        if kind in ("header", "present") and arg.split("=", 1)[0].strip().lower() == signal.name:
            return preset.name
    return None


def headers_get(headers: Mapping[str, str] | None) -> HeaderGet:
    """``get`` over a recorded ``cache_headers`` dict (None: no header recorded)."""
    return (headers or {}).get
