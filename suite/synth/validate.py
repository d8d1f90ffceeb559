"""Small helpers that check one YAML value each and fail with a message naming file, field, value and fix.

Every check takes a ``Where`` (file + field path such as ``intents[1].weight``) so a message always
reads ``<file>: <path>: <bad value> <what is wrong> (<the fix>).`` — click-style, asserted verbatim
in tests.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from suite.errors import SpecError


@dataclass(frozen=True)
class Where:
    """A position in a spec file: the file name and the dotted field path inside it."""

    file: str
    path: str = ""

    def at(self, key: str | int) -> Where:
        if isinstance(key, int):
            return Where(self.file, f"{self.path}[{key}]")
        return Where(self.file, f"{self.path}.{key}" if self.path else str(key))

    def error(self, message: str) -> SpecError:
        prefix = f"{self.file}: {self.path}: " if self.path else f"{self.file}: "
        return SpecError(prefix + message)


def show(value: Any) -> str:
    """A value as the user wrote it in YAML: ``true``/``null`` rather than Python's ``True``/``None``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return repr(value)


def suggest(word: str, known: Iterable[str]) -> str | None:
    """The closest known name to a misspelt one, or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """``unknown key 'weigth'; did you mean 'weight'? (known keys: name, templates, weight)``."""
    known = sorted(known)
    hint = suggest(name, known)
    did_you_mean = f"; did you mean {hint!r}?" if hint else ""
    return f"unknown {kind} {name!r}{did_you_mean} (known: {', '.join(known)})"


def mapping(value: Any, where: Where, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise where.error(f"expected a mapping ({what}), got {type(value).__name__} {show(value)}.")
    return value


def check_keys(value: Mapping[str, Any], where: Where, required: Mapping[str, str],
               optional: Iterable[str] = ()) -> None:
    """Reject unknown keys (with a did-you-mean) and name each missing required key with a hint."""
    known = set(required) | set(optional)
    for key in value:
        if str(key) not in known:
            raise where.error(unknown_name("key", str(key), known) + ".")
    for key, hint in required.items():
        if key not in value:
            raise where.error(f"missing required key {key!r} ({hint}).")


def non_empty_list(value: Any, where: Where, what: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise where.error(f"{show(value)} is not a valid list of {what} (must be a non-empty list).")
    return value


def text(value: Any, where: Where, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise where.error(f"{show(value)} is not a valid {what} (must be a non-empty string).")
    return value


def is_number(value: Any) -> bool:
    """True for ints and floats; YAML's booleans are ints in Python and must not pass."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def weight(value: Any, where: Where) -> float:
    if not is_number(value) or value <= 0:
        raise where.error(f"{show(value)} is not a valid weight (must be a number > 0).")
    return float(value)


def integer(value: Any, where: Where, what: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise where.error(f"{show(value)} is not a valid {what} (must be an integer >= {minimum}).")
    return value


def boolean(value: Any, where: Where, what: str) -> bool:
    if not isinstance(value, bool):
        raise where.error(f"{show(value)} is not a valid {what} (must be true or false).")
    return value
