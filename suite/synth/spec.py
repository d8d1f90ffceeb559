"""Scenario spec: the YAML a user writes to describe traffic, validated into frozen dataclasses.

``load_spec(path)`` is the only door in: every field is checked once here, so the builder can
trust its input. Errors are ``SpecError`` messages naming the file, the field path, the bad value
and the fix; unknown keys get a did-you-mean. ``ScenarioSpec.to_dict()`` is the *resolved* spec
(defaults filled in) that the manifest records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from faker.config import AVAILABLE_LOCALES

from suite.errors import SpecError
from suite.synth.params import (
    ArrivalSpec,
    ValueSpec,
    max_tokens_item,
    parse_arrival,
    parse_value,
    temperature_item,
)
from suite.synth.templates import SlotSpec, Template, parse_slots, parse_template
from suite.synth.validate import (
    Where,
    boolean,
    check_keys,
    integer,
    is_number,
    mapping,
    non_empty_list,
    show,
    suggest,
    text,
    weight,
)

SPEC_VERSION = 1
REQUIRED: dict[str, str] = {
    "domain": "the scenario's name, e.g. ops-assistant",
    "system_prompt": "the system message every request starts with",
    "models": "model name -> weight, e.g. {gpt-4o: 0.5, gpt-5-mini: 0.5}",
    "intents": "a list of intents with name, weight and templates",
}
DEFAULTS: dict[str, Any] = {
    "version": SPEC_VERSION,
    "description": "",
    "seed": 0,
    "n": 1000,
    "locale": "en_US",
    "repeat_ratio": 0.0,
    "max_tokens": 512,
    "temperature": 0.0,
    "stream": True,
    "arrival": {"process": "closed"},
    "slots": {},
}
INTENT_KEYS: dict[str, str] = {
    "name": "the intent's name, e.g. workflow_status",
    "weight": "how often it is asked relative to the others, a number > 0",
    "templates": "a list of user-message templates with {slot} references",
}


@dataclass(frozen=True)
class IntentSpec:
    """One kind of question users ask, its relative weight and the templates that phrase it."""

    name: str
    weight: float
    templates: tuple[Template, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "weight": self.weight, "templates": [t.text for t in self.templates]}


@dataclass(frozen=True)
class ScenarioSpec:
    """A validated scenario: everything ``build_corpus`` needs, nothing it must re-check."""

    domain: str
    system_prompt: str
    models: tuple[tuple[str, float], ...]
    intents: tuple[IntentSpec, ...]
    slots: Mapping[str, SlotSpec] = field(default_factory=dict)
    version: int = SPEC_VERSION
    description: str = ""
    seed: int = 0
    n: int = 1000
    locale: str = "en_US"
    repeat_ratio: float = 0.0
    max_tokens: ValueSpec = ValueSpec("constant", (512,))
    temperature: ValueSpec = ValueSpec("constant", (0.0,))
    stream: bool = True
    arrival: ArrivalSpec = ArrivalSpec("closed")
    source: str = "<memory>"

    def to_dict(self) -> dict[str, Any]:
        """The resolved spec (defaults filled in), as recorded in the corpus manifest."""
        return {
            "version": self.version, "domain": self.domain, "description": self.description,
            "seed": self.seed, "n": self.n, "locale": self.locale, "repeat_ratio": self.repeat_ratio,
            "models": dict(self.models), "max_tokens": self.max_tokens.to_dict(),
            "temperature": self.temperature.to_dict(), "stream": self.stream,
            "arrival": self.arrival.to_dict(), "system_prompt": self.system_prompt,
            "slots": {name: slot.to_dict() for name, slot in self.slots.items()},
            "intents": [intent.to_dict() for intent in self.intents],
        }


def load_spec(path: str | Path, overrides: Mapping[str, Any] | None = None) -> ScenarioSpec:
    """Read and validate a scenario YAML; ``overrides`` (e.g. ``{"n": 5000, "seed": 7}`` from the
    command line) replace top-level keys before validation, so they are checked the same way.
    An override whose value is None is ignored (an option the user did not give)."""
    raw = read_yaml(Path(path))
    merged = {**raw, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    return parse_spec(merged, str(path))


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec ({exc.strerror}). Check the path; "
                        "bundled specs live in corpora/scenarios/.") from None
    try:
        raw = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{path}: not valid YAML ({at}{problem}). Fix the syntax.") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a spec must be a YAML mapping of keys (domain, models, intents, ...), "
                        f"got {type(raw).__name__}.")
    return raw


def parse_spec(raw: Mapping[str, Any], source: str = "<memory>") -> ScenarioSpec:
    """Validate a spec mapping (already parsed from YAML) into a ``ScenarioSpec``."""
    top = Where(source)
    check_keys(raw, top, REQUIRED, DEFAULTS)
    value = {**DEFAULTS, **raw}
    _check_version(value["version"], top.at("version"))
    locale = _locale(value["locale"], top.at("locale"))
    slots = parse_slots(value["slots"], top.at("slots"), locale)
    return ScenarioSpec(
        domain=text(value["domain"], top.at("domain"), "domain name"),
        system_prompt=text(value["system_prompt"], top.at("system_prompt"), "system prompt"),
        models=_models(value["models"], top.at("models")),
        intents=_intents(value["intents"], top.at("intents"), slots),
        slots=slots,
        description=_description(value["description"], top.at("description")),
        seed=integer(value["seed"], top.at("seed"), "seed", 0),
        n=integer(value["n"], top.at("n"), "request count", 1),
        locale=locale,
        repeat_ratio=_repeat_ratio(value["repeat_ratio"], top.at("repeat_ratio")),
        max_tokens=parse_value(value["max_tokens"], top.at("max_tokens"), max_tokens_item),
        temperature=parse_value(value["temperature"], top.at("temperature"), temperature_item),
        stream=boolean(value["stream"], top.at("stream"), "stream flag"),
        arrival=parse_arrival(value["arrival"], top.at("arrival")),
        source=source,
    )


def _check_version(value: Any, where: Where) -> None:
    if value != SPEC_VERSION:
        raise where.error(f"{show(value)} is not a supported spec version (this llmsuite reads version "
                          f"{SPEC_VERSION}).")


def _description(value: Any, where: Where) -> str:
    if not isinstance(value, str):
        raise where.error(f"{show(value)} is not a valid description (must be a string).")
    return value.strip()


def _locale(value: Any, where: Where) -> str:
    if value not in AVAILABLE_LOCALES:
        hint = suggest(str(value), AVAILABLE_LOCALES)
        did_you_mean = f"; did you mean {hint!r}?" if hint else ""
        raise where.error(f"unknown locale {show(value)}{did_you_mean} (Faker's locales are listed in "
                          "faker.config.AVAILABLE_LOCALES).")
    return str(value)


def _repeat_ratio(value: Any, where: Where) -> float:
    if not is_number(value) or not 0 <= value < 1:
        raise where.error(f"{show(value)} is not a valid repeat ratio (must be a number >= 0 and < 1).")
    return float(value)


def _models(value: Any, where: Where) -> tuple[tuple[str, float], ...]:
    models = mapping(value, where, "model name -> weight")
    if not models:
        raise where.error("no models given (add at least one, e.g. gpt-4o: 1).")
    return tuple((str(name), weight(w, where.at(str(name)))) for name, w in models.items())


def _intents(value: Any, where: Where, slots: Mapping[str, SlotSpec]) -> tuple[IntentSpec, ...]:
    items = non_empty_list(value, where, "intents")
    intents = tuple(_intent(item, where.at(i), slots) for i, item in enumerate(items))
    seen: set[str] = set()
    for i, intent in enumerate(intents):
        if intent.name in seen:
            raise where.at(i).at("name").error(f"{intent.name!r} is a duplicate intent name "
                                               "(each intent needs its own name).")
        seen.add(intent.name)
    return intents


def _intent(value: Any, where: Where, slots: Mapping[str, SlotSpec]) -> IntentSpec:
    item = mapping(value, where, "an intent with name, weight and templates")
    check_keys(item, where, INTENT_KEYS)
    templates = non_empty_list(item["templates"], where.at("templates"), "templates")
    return IntentSpec(
        name=text(item["name"], where.at("name"), "intent name"),
        weight=weight(item["weight"], where.at("weight")),
        templates=tuple(parse_template(t, where.at("templates").at(i), slots)
                        for i, t in enumerate(templates)),
    )
