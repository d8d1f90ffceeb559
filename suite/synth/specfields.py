"""Validators for the scenario spec's own fields — the ones no other synth module owns (version,
description, models, repeat ratio, few-shot pairs, turn and reply counts). Each raises the
``SpecError`` of ``Where.error``: field path, bad value and the fix.
"""

from __future__ import annotations

from typing import Any

from suite.synth.validate import Where, check_keys, integer, is_number, mapping, show, text, weight

SPEC_VERSION = 1


def check_version(value: Any, where: Where) -> None:
    if value != SPEC_VERSION:
        raise where.error(f"{show(value)} is not a supported spec version (this llmsuite reads version "
                          f"{SPEC_VERSION}).")


def parse_description(value: Any, where: Where) -> str:
    if not isinstance(value, str):
        raise where.error(f"{show(value)} is not a valid description (must be a string).")
    return value.strip()


def parse_repeat_ratio(value: Any, where: Where) -> float:
    if not is_number(value) or not 0 <= value < 1:
        raise where.error(f"{show(value)} is not a valid repeat ratio (must be a number >= 0 and < 1).")
    return float(value)


def parse_models(value: Any, where: Where) -> tuple[tuple[str, float], ...]:
    models = mapping(value, where, "model name -> weight")
    if not models:
        raise where.error("no models given (add at least one, e.g. gpt-4o: 1).")
    return tuple((str(name), weight(w, where.at(str(name)))) for name, w in models.items())


def parse_few_shot(value: Any, where: Where) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        raise where.error(f"{show(value)} is not a valid few-shot list (a list of {{user, assistant}}).")
    pairs = []
    for i, item in enumerate(value):
        item = mapping(item, where.at(i), "{user: ..., assistant: ...}")
        check_keys(item, where.at(i), {"user": "the example question", "assistant": "the example answer"})
        pairs.append((text(item["user"], where.at(i).at("user"), "example question"),
                      text(item["assistant"], where.at(i).at("assistant"), "example answer")))
    return tuple(pairs)


def optional_int(value: Any, where: Where, what: str) -> int | None:
    return None if value is None else integer(value, where, what, 1)


def turns_item(value: Any, where: Where) -> int:
    return integer(value, where, "number of turns per session", 1)


def reply_item(value: Any, where: Where) -> int:
    return integer(value, where, "reply length in tokens", 1)
