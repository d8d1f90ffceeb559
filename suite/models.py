"""Model catalog: which tiktoken encoding a model name uses.

A table, not branches: the first matching prefix wins. An unknown model falls back to o200k_base
with one warning per model name (the encoding modern OpenAI-compatible models share) — the fallback
is announced, never silent.
"""

from __future__ import annotations

import warnings

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

_warned: set[str] = set()


class UnknownModelWarning(UserWarning):
    """An unknown model was tokenized with the default encoding."""


def encoding_for_model(model: str) -> str:
    for prefix, encoding in ENCODING_BY_PREFIX:
        if model.startswith(prefix):
            return encoding
    if model not in _warned:
        _warned.add(model)
        warnings.warn(
            f"model {model!r} is not in the catalog; counting its tokens with {DEFAULT_ENCODING}",
            UnknownModelWarning,
            stacklevel=2,
        )
    return DEFAULT_ENCODING


def is_known_model(model: str) -> bool:
    return any(model.startswith(p) for p, _ in ENCODING_BY_PREFIX)
