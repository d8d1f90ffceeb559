"""Dotted paths into decoded JSON (``choices.0.message.content``): compiled once, read per request.

Targets, cache detection and content checks all name a place in a response the same way: keys
separated by dots, a part made only of digits indexes a list. Compiling turns the path into a tuple
so the per-request lookup is a plain loop with no string work: ``compile_path("choices.0.message.
content")`` reads ``"hi"`` from ``{"choices": [{"message": {"content": "hi"}}]}`` and ``MISSING``
from ``{"choices": []}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from suite.errors import SpecError

MISSING: Any = object()  # "no such field" — distinct from a JSON null

Getter = Callable[[Any], Any]


def parse_path(path: str, what: str) -> tuple[str | int, ...]:
    """``"a.0.b"`` → ``("a", 0, "b")``; SpecError naming ``what`` when a part is empty."""
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise SpecError(f"{what}: {path!r} is not a field path; write keys separated by dots, "
                        f"list positions as numbers, e.g. choices.0.message.content")
    return tuple(int(p) if p.isdigit() else p for p in parts)


def compile_path(path: str, what: str = "field path") -> Getter:
    """A function reading ``path`` from a decoded JSON value, or MISSING when it is not there."""
    steps = parse_path(path, what)
    if len(steps) == 1 and isinstance(steps[0], str):
        key = steps[0]
        return lambda obj: obj.get(key, MISSING) if type(obj) is dict else MISSING
    return lambda obj: _walk(obj, steps)


def _walk(obj: Any, steps: tuple[str | int, ...]) -> Any:
    for step in steps:
        if type(step) is int:
            if type(obj) is not list or step >= len(obj):
                return MISSING
        elif type(obj) is not dict or step not in obj:
            return MISSING
        obj = obj[step]
    return obj
