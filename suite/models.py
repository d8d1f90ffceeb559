"""Model catalog: which tiktoken encoding a model name uses.

A table, not branches: the first matching prefix wins. A name outside the table that a bundled mock
profile declares an ``encoding`` for (corpora/profiles/models.yaml: llama-3.1-8b, claude-sonnet, ...)
uses that encoding: the profile already states the approximation, so the demo's own models never
warn. Any other model falls back to o200k_base with one warning per model name (the encoding modern
OpenAI-compatible models share) — the fallback is announced, never silent, and in one line: the
source line Python prints under a warning points into this suite, which tells the user nothing.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from suite.errors import ModelError

# (prefix, encoding) — checked in order, longest/most specific prefixes first.
ENCODING_BY_PREFIX: tuple[tuple[str, str], ...] = (
    ("gpt-4o", "o200k_base"),
    ("gpt-4.1", "o200k_base"),
    ("gpt-4.5", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("o1", "o200k_base"),
    ("o3", "o200k_base"),
    ("o4", "o200k_base"),
    ("gpt-4", "cl100k_base"),
    ("gpt-3.5", "cl100k_base"),
    ("text-embedding-3", "cl100k_base"),
    ("text-embedding-ada", "cl100k_base"),
)
DEFAULT_ENCODING = "o200k_base"

BUNDLED_PROFILES_FILE = Path(__file__).resolve().parent.parent / "corpora" / "profiles" / "models.yaml"

_warned: set[str] = set()


class UnknownModelWarning(UserWarning):
    """An unknown model was tokenized with the default encoding."""


@functools.cache
def bundled_encodings(path: Path = BUNDLED_PROFILES_FILE) -> dict[str, str]:
    """``{model: encoding}`` the bundled profiles declare. Unreadable → empty: the mock's own loader
    reports a broken profiles file; here it only means those names warn like any unknown model."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    models = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(models, dict):
        return {}
    return {str(name): str(raw["encoding"]) for name, raw in models.items()
            if isinstance(raw, dict) and isinstance(raw.get("encoding"), str)}


def encoding_for_model(model: str) -> str:
    for prefix, encoding in ENCODING_BY_PREFIX:
        if model.startswith(prefix):
            return encoding
    declared = bundled_encodings().get(model)
    if declared is not None:
        return declared
    if model not in _warned:
        _warned.add(model)
        warnings.warn(
            f"model {model!r} is not in the catalog; counting its tokens with {DEFAULT_ENCODING}",
            UnknownModelWarning,
            stacklevel=2,
        )
    return DEFAULT_ENCODING


def is_known_model(model: str) -> bool:
    """In the catalog proper (a bundled profile's declared encoding does not count: a profiles
    file must still declare it for names outside the catalog)."""
    return any(model.startswith(p) for p, _ in ENCODING_BY_PREFIX)


def _install_one_line_format() -> None:
    """Only this category changes; every other warning keeps Python's format (and earlier hooks)."""
    previous = warnings.formatwarning
    if getattr(previous, "one_line_unknown_model", False):
        return

    def formatwarning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      line: str | None = None) -> str:
        if issubclass(category, UnknownModelWarning):
            return f"warning: {message}\n"
        return previous(message, category, filename, lineno, line)

    setattr(formatwarning, "one_line_unknown_model", True)  # noqa: B010 (an attribute mypy allows)
    warnings.formatwarning = formatwarning


_install_one_line_format()


# --- prices: a dated, editable table (corpora/prices.yaml), read by the analyzer -------------------

PRICES_FILE = Path(__file__).resolve().parent.parent / "corpora" / "prices.yaml"
_DATED_SUFFIX = re.compile(r"^-\d")  # "gpt-4o-2024-08-06" is a snapshot of gpt-4o; "o3-mini" is not o3


@dataclass(frozen=True)
class Price:
    input_per_1m: float
    output_per_1m: float
    cached_input_per_1m: float | None = None  # cached prompt tokens, where the provider prices them


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, Price]
    as_of: str
    source: str
    path: str

    def lookup(self, model: str) -> tuple[str, Price] | None:
        """Exact name, else the longest catalog name it is a dated snapshot of; None when unpriced."""
        if model in self.prices:
            return model, self.prices[model]
        names = sorted((n for n in self.prices
                        if model.startswith(n) and _DATED_SUFFIX.match(model[len(n):])),
                       key=len, reverse=True)
        return (names[0], self.prices[names[0]]) if names else None


def _price(raw: Any, where: str) -> Price:
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: expected {{input_per_1m: X, output_per_1m: Y}} (USD per 1M tokens).")
    values = []
    for key in ("input_per_1m", "output_per_1m"):
        v = raw.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            raise ModelError(f"{where}.{key}: {v!r} is not a price (a number >= 0, USD per 1M tokens).")
        values.append(float(v))
    cached = raw.get("cached_input_per_1m")
    if cached is not None and (isinstance(cached, bool) or not isinstance(cached, int | float)
                               or cached < 0):
        raise ModelError(f"{where}.cached_input_per_1m: {cached!r} is not a price (a number >= 0, "
                         "USD per 1M cached input tokens; omit it when the provider has none).")
    return Price(*values, None if cached is None else float(cached))


def load_price_table(path: str | Path | None = None) -> PriceTable:
    """Read the price table; a malformed one is a ModelError naming the entry and the fix."""
    path = Path(path) if path is not None else PRICES_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"price table {path} does not exist. Restore corpora/prices.yaml or pass "
                         "another file.") from None
    except yaml.YAMLError as exc:
        raise ModelError(f"{path}: not valid YAML ({exc}).") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), dict):
        raise ModelError(f"{path}: expected a mapping with "
                         "'models: {name: {input_per_1m, output_per_1m}}'.")
    for key in ("as_of", "source"):
        if not raw.get(key):
            raise ModelError(f"{path}: '{key}' is missing; a price table must say when and where its "
                             "prices were read.")
    prices = {str(n): _price(v, f"{path}: models.{n}") for n, v in raw["models"].items()}
    return PriceTable(prices, str(raw["as_of"]), str(raw["source"]), str(path))


def price_table_or_why() -> tuple[PriceTable | None, str | None]:
    """The bundled price table, or why there is none: an analysis prices what it can and says why it
    could not, instead of failing over a broken prices file."""
    try:
        return load_price_table(), None
    except ModelError as exc:
        return None, str(exc)
