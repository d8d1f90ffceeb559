"""The spec's intents and locales: what users ask (intents, their weights, the templates that
phrase them, per locale when given) and in which languages (``locale``, the ``locales`` mix).
Validated here for spec.py, which checks the mix against the slots once the whole spec is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from faker.config import AVAILABLE_LOCALES

from suite.synth.templates import SlotSpec, Template, parse_template
from suite.synth.validate import Where, check_keys, mapping, non_empty_list, show, suggest, text, weight

INTENT_KEYS: dict[str, str] = {
    "name": "the intent's name, e.g. workflow_status",
    "weight": "how often it is asked relative to the others, a number > 0",
    "templates": "a list of user-message templates with {slot} references",
}
# Per-locale templates: ``templates_it_IT: [...]`` next to ``templates`` (used for other locales).
LOCALE_TEMPLATES = "templates_"


@dataclass(frozen=True)
class IntentSpec:
    """One kind of question users ask, its relative weight and the templates that phrase it."""

    name: str
    weight: float
    templates: tuple[Template, ...]
    by_locale: Mapping[str, tuple[Template, ...]] = field(default_factory=dict)

    def templates_for(self, locale: str) -> tuple[Template, ...]:
        return self.by_locale.get(locale, self.templates)

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "weight": self.weight, "templates": [t.text for t in self.templates]}
        return {**out, **{LOCALE_TEMPLATES + loc: [t.text for t in ts] for loc, ts in self.by_locale.items()}}


def parse_intents(value: Any, where: Where, slots: Mapping[str, SlotSpec]) -> tuple[IntentSpec, ...]:
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
    localized = [str(k) for k in item if str(k).startswith(LOCALE_TEMPLATES)]
    check_keys({k: v for k, v in item.items() if k not in localized}, where, INTENT_KEYS)
    by_locale = {parse_locale(key.removeprefix(LOCALE_TEMPLATES), where.at(key)):
                 _templates(item[key], where.at(key), slots) for key in localized}
    return IntentSpec(
        name=text(item["name"], where.at("name"), "intent name"),
        weight=weight(item["weight"], where.at("weight")),
        templates=_templates(item["templates"], where.at("templates"), slots),
        by_locale=by_locale,
    )


def _templates(value: Any, where: Where, slots: Mapping[str, SlotSpec]) -> tuple[Template, ...]:
    items = non_empty_list(value, where, "templates")
    return tuple(parse_template(t, where.at(i), slots) for i, t in enumerate(items))


def parse_locale(value: Any, where: Where) -> str:
    if value not in AVAILABLE_LOCALES:
        hint = suggest(str(value), AVAILABLE_LOCALES)
        did_you_mean = f"; did you mean {hint!r}?" if hint else ""
        raise where.error(f"unknown locale {show(value)}{did_you_mean} (Faker's locales are listed in "
                          "faker.config.AVAILABLE_LOCALES).")
    return str(value)


def parse_locales(value: Any, where: Where, default: str) -> tuple[tuple[str, float], ...]:
    """``locales: {en_US: 0.7, it_IT: 0.3}``; absent, every request uses ``locale``."""
    if value is None:
        return ((default, 1.0),)
    mix = mapping(value, where, "locale -> weight, e.g. {en_US: 0.7, it_IT: 0.3}")
    if not mix:
        raise where.error("no locales given (add at least one, e.g. en_US: 1).")
    return tuple((parse_locale(name, where.at(str(name))), weight(w, where.at(str(name))))
                 for name, w in mix.items())
