"""Per-model latency profiles for the mock server, loaded from YAML and validated up front.

A profile is data, not code: the route only sleeps and writes what ``plan`` derives from it.
Validation is a table of (field, check, rule) rows so every bad value gets the same kind of
message — file, field path, bad value, and the fix:

    corpora/profiles/models.yaml: models.gpt-4o.tokens_per_s: -5 is not valid
    (must be a number > 0; use .inf for no per-token delay).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mock_server.batching import LoadModel, load_model
from mock_server.faults import FaultTable, fault_table
from mock_server.prefixcache import PrefixSpec, prefix_spec
from suite.errors import ModelError
from suite.models import ENCODING_BY_PREFIX, encoding_for_model, is_known_model
from suite.tokens import BPE_FILES

DEFAULT_PROFILES_PATH = Path(__file__).resolve().parents[1] / "corpora" / "profiles" / "models.yaml"
DEFAULT_MAX_OUTPUT_TOKENS = 16384


@dataclass(frozen=True)
class Profile:
    """How one model behaves: TTFT = ttft_base_s + prefill_s_per_token * prompt_tokens ± jitter,
    then one token every 1/tokens_per_s seconds (± tps_jitter as a fraction). With
    ``prefix_cache``, only the prompt tokens not in the prefix cache are prefilled."""

    name: str
    ttft_base_s: float
    ttft_jitter_s: float
    prefill_s_per_token: float
    tokens_per_s: float
    tps_jitter: float
    output_tokens_median: int
    output_tokens_spread: float
    hit_overhead_s: float
    max_output_tokens: int
    encoding: str
    token_model: str  # the catalog model name suite.tokens counts this profile's tokens with
    faults: FaultTable = ()  # (fault, probability) rows; see faults.py
    load: LoadModel | None = None  # batch, queue and rate limits; None: unlimited (batching.py)
    max_in_flight: int | None = None  # generating requests of this model at once; more: 503
    prefix_cache: PrefixSpec | None = None  # prompt-prefix (KV) cache; None: none (prefixcache.py)


@dataclass(frozen=True)
class SemanticSettings:
    """``--cache-mode semantic``: cosine threshold and where the vectors come from (None: the
    offline embedder)."""

    threshold: float = 0.90
    embeddings_url: str | None = None
    embeddings_model: str = "text-embedding-3-small"


@dataclass(frozen=True)
class MockConfig:
    """Everything the app needs besides its cache: the profiles, the seed and the body limit."""

    profiles: Mapping[str, Profile]
    seed: int = 0
    max_body_bytes: int = 8 * 1024 * 1024
    source: str = "<memory>"
    api_key: str | None = field(default=None, repr=False)  # never shown, never logged
    engine_model: str | None = None  # model of POST /api/chat (None: the first profile)
    normalize: bool = False  # lenient cache keys: case, whitespace and punctuation ignored
    read_timeout_s: float = 30.0  # a request's headers, or its body, must arrive within this
    max_in_flight: int | None = None  # generating requests at once, all models; more: 503
    semantic: SemanticSettings | None = None  # --cache-mode semantic (semstore.py)
    coalesce: bool = False  # --coalesce: single-flight on the cache key (coalesce.py)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and not math.isnan(v)


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


Check = Callable[[Any], bool]
# field -> (check, rule shown to the user, required)
FIELDS: dict[str, tuple[Check, str, bool]] = {
    "ttft_base_s": (lambda v: _number(v) and 0 <= v < math.inf, "a number of seconds >= 0", True),
    "ttft_jitter_s": (lambda v: _number(v) and 0 <= v < math.inf, "a number of seconds >= 0", True),
    "prefill_s_per_token": (lambda v: _number(v) and 0 <= v < 1, "a number of seconds >= 0 and < 1",
                            False),
    "tokens_per_s": (lambda v: _number(v) and v > 0,
                     "a number > 0; use .inf for no per-token delay", True),
    "tps_jitter": (lambda v: _number(v) and 0 <= v < 1, "a fraction >= 0 and < 1", False),
    "output_tokens": (lambda v: isinstance(v, dict), "a mapping with median and spread", True),
    "hit_overhead_s": (lambda v: _number(v) and 0 <= v < math.inf, "a number of seconds >= 0", False),
    "max_output_tokens": (lambda v: _count(v) and v >= 1, "an integer >= 1", False),
    "encoding": (lambda v: v in BPE_FILES, f"one of {', '.join(BPE_FILES)}", False),
    "faults": (lambda v: isinstance(v, dict), "a mapping of fault to probability, e.g. "
               "{\"503\": 0.01}", False),
    "load": (lambda v: isinstance(v, dict), "a mapping such as {max_batch: 16, load_factor: 2}",
             False),
    "max_in_flight": (lambda v: _count(v) and v >= 1, "an integer >= 1: generating requests of "
                      "this model at once, more are answered 503 with Retry-After", False),
    "prefix_cache": (lambda v: isinstance(v, dict), "a mapping such as {block_tokens: 16, "
                     "capacity_tokens: 200000}", False),
}
OUTPUT_FIELDS: dict[str, tuple[Check, str, bool]] = {
    "median": (lambda v: _count(v) and v >= 1, "an integer >= 1", True),
    "spread": (lambda v: _number(v) and 0 <= v <= 3,
               "a number >= 0 and <= 3 (sigma of a log-normal; 0 = always the median)", True),
}
DEFAULTS: dict[str, Any] = {"prefill_s_per_token": 0.0, "tps_jitter": 0.0, "hit_overhead_s": 0.0,
                            "max_output_tokens": DEFAULT_MAX_OUTPUT_TOKENS}


def _check_fields(raw: Any, table: dict[str, tuple[Check, str, bool]], where: str) -> dict[str, Any]:
    """Validate one mapping against a field table; return it with defaults filled in."""
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: {raw!r} is not valid (must be a mapping of fields).")
    unknown = sorted(set(raw) - set(table))
    if unknown:
        raise ModelError(f"{where}.{unknown[0]}: unknown field; known: {', '.join(table)}.")
    for name, (check, rule, required) in table.items():
        if name not in raw:
            if required:
                raise ModelError(f"{where}.{name}: missing (must be {rule}).")
            continue
        if not check(raw[name]):
            raise ModelError(f"{where}.{name}: {raw[name]!r} is not valid (must be {rule}).")
    return {**DEFAULTS, **raw}


def _representative_model(encoding: str) -> str:
    """First catalog prefix with this encoding: lets suite.tokens count for a non-catalog name."""
    return next(prefix for prefix, enc in ENCODING_BY_PREFIX if enc == encoding)


def _resolve_encoding(name: str, encoding: str | None, where: str) -> tuple[str, str]:
    """(encoding, token_model): catalog models use their own name; others must name an encoding."""
    if is_known_model(name):
        catalog = encoding_for_model(name)
        if encoding is not None and encoding != catalog:
            raise ModelError(f"{where}.encoding: {encoding!r} contradicts the model catalog "
                             f"({catalog}) for {name!r}; remove the field.")
        return catalog, name
    if encoding is None:
        raise ModelError(f"{where}.encoding: missing; {name!r} is not in the model catalog, so "
                         f"name its tokenizer (must be one of {', '.join(BPE_FILES)}).")
    return encoding, _representative_model(encoding)


def _extras(fields: dict[str, Any], where: str) -> tuple[FaultTable, LoadModel | None]:
    """The nested tables (faults, load), validated by their own modules (prefix_cache: below)."""
    try:
        faults = fault_table(fields.get("faults") or {})
    except ValueError as exc:
        raise ModelError(f"{where}.faults: {exc}.") from None
    try:
        load = load_model(fields["load"]) if "load" in fields else None
    except ValueError as exc:
        raise ModelError(f"{where}.load: {exc}.") from None
    return faults, load


def _prefix(fields: dict[str, Any], where: str) -> PrefixSpec | None:
    if "prefix_cache" not in fields:
        return None
    try:
        return prefix_spec(fields["prefix_cache"])
    except ValueError as exc:
        raise ModelError(f"{where}.prefix_cache.{exc}.") from None


def profile_from_dict(name: str, raw: Any, where: str) -> Profile:
    fields = _check_fields(raw, FIELDS, where)
    faults, load = _extras(fields, where)
    out = _check_fields(fields["output_tokens"], OUTPUT_FIELDS, f"{where}.output_tokens")
    encoding, token_model = _resolve_encoding(name, fields.get("encoding"), where)
    return Profile(
        name=name,
        ttft_base_s=float(fields["ttft_base_s"]),
        ttft_jitter_s=float(fields["ttft_jitter_s"]),
        prefill_s_per_token=float(fields["prefill_s_per_token"]),
        tokens_per_s=float(fields["tokens_per_s"]),
        tps_jitter=float(fields["tps_jitter"]),
        output_tokens_median=int(out["median"]),
        output_tokens_spread=float(out["spread"]),
        hit_overhead_s=float(fields["hit_overhead_s"]),
        max_output_tokens=int(fields["max_output_tokens"]),
        encoding=encoding,
        token_model=token_model,
        faults=faults,
        load=load,
        max_in_flight=fields.get("max_in_flight"),
        prefix_cache=_prefix(fields, where),
    )


def profiles_from_document(doc: Any, source: str) -> dict[str, Profile]:
    """Validate a parsed profiles document: ``{models: {name: {field: value}}}``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict) or not doc["models"]:
        raise ModelError(f"{source}: models: missing or empty (must be a mapping of model name to "
                         "profile, e.g. models: {gpt-4o: {ttft_base_s: 0.45, ...}}).")
    unknown = sorted(set(doc) - {"models"})
    if unknown:
        raise ModelError(f"{source}: {unknown[0]}: unknown top-level key; known: models.")
    return {
        str(name): profile_from_dict(str(name), raw, f"{source}: models.{name}")
        for name, raw in doc["models"].items()
    }


def load_profiles(path: str | Path = DEFAULT_PROFILES_PATH) -> dict[str, Profile]:
    """Read and validate a profiles YAML file; every problem is a ModelError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the profiles file ({exc.strerror}). "
                         f"Pass --profiles {DEFAULT_PROFILES_PATH}.") from None
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}). Save the profiles "
                         "file as UTF-8.") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ModelError(f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', exc)}). "
                         "Fix the syntax.") from None
    return profiles_from_document(doc, str(path))
