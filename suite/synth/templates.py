"""Slots and templates: how a user message is written from ``"Why did {execution_id} fail?"``.

A slot is one table entry ``{kind: argument, ...options}``; filling it draws from the seeded
per-build ``Faker`` (and its own ``random.Random``), never from global state. Faker providers that
read today's date are refused: the same seed must give the same corpus on any day.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from faker import Faker

from suite.synth.validate import (
    Where,
    check_keys,
    is_number,
    mapping,
    non_empty_list,
    show,
    suggest,
    text,
    unknown_name,
)

DIGITS = string.digits
LETTERS = string.ascii_letters
# Faker providers whose output depends on the current date or time.
TIME_DEPENDENT = re.compile(r"date|time|year|month|day|century|past|future|iso8601|unix")


@dataclass(frozen=True)
class SlotSpec:
    """One named slot: ``kind`` picks the filler, ``arg`` is its main argument, ``options`` the rest."""

    name: str
    kind: str
    arg: Any
    options: Mapping[str, Any] = field(default_factory=dict)

    def fill(self, fake: Faker) -> str:
        return FILLERS[self.kind](self, fake)

    def to_dict(self) -> dict[str, Any]:
        arg = [str(d) for d in self.arg] if self.kind == "date" else self.arg
        arg = list(arg) if isinstance(arg, tuple) else arg
        return {self.kind: arg, **dict(self.options)}


def _fill_choices(slot: SlotSpec, fake: Faker) -> str:
    return str(fake.random.choice(slot.arg))


def _fill_faker(slot: SlotSpec, fake: Faker) -> str:
    return str(getattr(fake, slot.arg)(**slot.options.get("args", {})))


def _fill_pattern(slot: SlotSpec, fake: Faker) -> str:
    """``#`` → a digit, ``?`` → an ASCII letter, anything else kept (Faker's ``bothify`` rules, drawn
    straight from the seeded ``random.Random``: bothify's per-character regex callbacks cost 10x)."""
    rng = fake.random
    return "".join(DIGITS[rng.randrange(10)] if c == "#" else LETTERS[rng.randrange(52)] if c == "?" else c
                   for c in slot.arg)


def _fill_number(slot: SlotSpec, fake: Faker) -> str:
    lo, hi = slot.arg
    decimals = slot.options.get("decimals", 0)
    value = fake.random.uniform(lo, hi) if decimals else fake.random.randint(int(lo), int(hi))
    body = f"{value:,.{decimals}f}"
    return f"{slot.options.get('prefix', '')}{body}{slot.options.get('suffix', '')}"


def _fill_date(slot: SlotSpec, fake: Faker) -> str:
    start, end = slot.arg
    day = start + timedelta(days=fake.random.randint(0, (end - start).days))
    return day.strftime(slot.options.get("format", "%Y-%m-%d"))


FILLERS: dict[str, Callable[[SlotSpec, Faker], str]] = {
    "choices": _fill_choices,
    "faker": _fill_faker,
    "pattern": _fill_pattern,
    "number": _fill_number,
    "date": _fill_date,
}
SLOT_OPTIONS: dict[str, tuple[str, ...]] = {
    "choices": (),
    "faker": ("args",),
    "pattern": (),
    "number": ("decimals", "prefix", "suffix"),
    "date": ("format",),
}


def _parse_choices(raw: Any, where: Where, _opts: Mapping[str, Any], _locale: str) -> Any:
    items = non_empty_list(raw, where, "choices")
    return tuple(_choice(v, where.at(i)) for i, v in enumerate(items))


def _choice(value: Any, where: Where) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value).strip():
        raise where.error(f"{show(value)} is not a valid choice (must be a non-empty string or a number).")
    return str(value)


def _parse_faker(raw: Any, where: Where, opts: Mapping[str, Any], locale: str) -> Any:
    name = text(raw, where, "Faker provider name")
    if TIME_DEPENDENT.search(name):
        raise where.error(f"{name!r} depends on today's date, so the corpus would change from day to "
                          "day (use a date slot instead: {date: [2025-01-01, 2025-12-31]}).")
    args = dict(mapping(opts.get("args", {}), where.at("args"), "keyword arguments of the provider"))
    _check_provider(name, args, locale, where, in_mix=False)
    return name


def _check_provider(name: str, args: Mapping[str, Any], locale: str, where: Where, in_mix: bool) -> None:
    """The provider exists in ``locale`` and accepts ``args`` (``in_mix``: a locale of ``locales:``
    other than the main one, which the message names)."""
    providers = _provider_names(locale)
    where_from = f" in locale {locale!r} (of locales:)" if in_mix else ""
    fix = ("every locale of the mix needs it: use a provider all of them have, or a choices slot" if in_mix
           else "see https://faker.readthedocs.io/en/master/providers.html")
    if name not in providers:
        hint = suggest(name, providers)
        raise where.error(f"{name!r} is not a Faker provider{where_from}"
                          + (f"; did you mean {hint!r}?" if hint else "") + f" ({fix}).")
    try:
        getattr(_probe_faker(locale), name)(**args)
    except Exception as exc:  # any provider failure is a spec problem, reported with its cause
        raise where.error(f"Faker provider {name!r} rejects args {show(dict(args))}{where_from} "
                          f"({exc}).") from None


def check_locales(slots: Mapping[str, SlotSpec], locales: Iterable[str], main: str, where: Where) -> None:
    """Every Faker slot must work in every locale of the mix, not only in the main one (checked while
    parsing): a request written in another locale fills its slots with that locale's Faker."""
    for locale in locales:
        if locale == main:
            continue
        for slot in slots.values():
            if slot.kind == "faker":
                _check_provider(slot.arg, slot.options.get("args", {}), locale,
                                where.at(slot.name).at("faker"), in_mix=True)


def _parse_pattern(raw: Any, where: Where, _opts: Mapping[str, Any], _locale: str) -> Any:
    return text(raw, where, "pattern (# is a digit, ? a letter)")


def _parse_number(raw: Any, where: Where, opts: Mapping[str, Any], _locale: str) -> Any:
    ok = isinstance(raw, list) and len(raw) == 2 and all(is_number(v) for v in raw) and raw[0] <= raw[1]
    if not ok:
        raise where.error(f"{show(raw)} is not a valid number range (must be [min, max] with min <= max).")
    decimals = opts.get("decimals", 0)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
        raise where.at("decimals").error(f"{show(decimals)} is not valid (must be an integer from 0 to 6).")
    return (raw[0], raw[1])


def _as_date(value: Any, where: Where) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise where.error(f"{show(value)} is not a valid date (must be YYYY-MM-DD).") from None


def _parse_date(raw: Any, where: Where, _opts: Mapping[str, Any], _locale: str) -> Any:
    if not isinstance(raw, list) or len(raw) != 2:
        raise where.error(f"{show(raw)} is not a valid date range (must be [start, end]).")
    start, end = _as_date(raw[0], where.at(0)), _as_date(raw[1], where.at(1))
    if end < start:
        raise where.error(f"{show(raw)} is not a valid date range (end must not be before start).")
    return (start, end)


SLOT_PARSERS: dict[str, Callable[[Any, Where, Mapping[str, Any], str], Any]] = {
    "choices": _parse_choices,
    "faker": _parse_faker,
    "pattern": _parse_pattern,
    "number": _parse_number,
    "date": _parse_date,
}


@cache
def _probe_faker(locale: str) -> Faker:
    """A throwaway instance used only to check providers and args during validation."""
    probe = Faker(locale)
    probe.seed_instance(0)
    return probe


@cache
def _provider_names(locale: str) -> tuple[str, ...]:
    probe = _probe_faker(locale)
    names = {n for p in probe.get_providers() for n in dir(p) if not n.startswith("_")}
    return tuple(sorted(n for n in names if callable(getattr(probe, n, None))))


def slot_kind(raw: Mapping[str, Any], where: Where) -> str:
    """The one kind key of a slot mapping; a misspelt kind gets a did-you-mean."""
    kinds = [str(k) for k in raw if k in SLOT_PARSERS]
    if len(kinds) > 1:
        raise where.error(f"a slot takes exactly one kind, got {' and '.join(kinds)} (keep one).")
    if not raw:
        raise where.error(f"the slot is empty (give it one kind: {', '.join(SLOT_PARSERS)}).")
    if not kinds:
        raise where.error(unknown_name("slot kind", str(next(iter(raw))), SLOT_PARSERS) + ".")
    return kinds[0]


def parse_slot(name: str, raw: Any, where: Where, locale: str) -> SlotSpec:
    raw = mapping(raw, where, "one of " + ", ".join(SLOT_PARSERS))
    kind = slot_kind(raw, where)
    check_keys(raw, where, {kind: "its argument"}, SLOT_OPTIONS[kind])
    options = {k: v for k, v in raw.items() if k != kind}
    arg = SLOT_PARSERS[kind](raw[kind], where.at(kind), options, locale)
    return SlotSpec(name, kind, arg, options)


def parse_slots(raw: Any, where: Where, locale: str) -> dict[str, SlotSpec]:
    raw = mapping(raw, where, "slot name -> slot")
    return {str(k): parse_slot(str(k), v, where.at(str(k)), locale) for k, v in raw.items()}


@dataclass(frozen=True)
class Template:
    """A user-message template and the slot names it uses, in order of first use."""

    text: str
    slots: tuple[str, ...]

    def fill(self, slots: Mapping[str, SlotSpec], fake: Faker) -> str:
        return self.render(self.values(slots, fake))

    def values(self, slots: Mapping[str, SlotSpec], fake: Faker) -> dict[str, str]:
        """One value per slot the template uses, drawn in order of first use."""
        return {name: slots[name].fill(fake) for name in self.slots}

    def render(self, values: Mapping[str, str]) -> str:
        return self.text.format_map(values)


def parse_template(raw: Any, where: Where, slots: Mapping[str, SlotSpec]) -> Template:
    body = text(raw, where, "template")
    try:
        fields = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise where.error(f"{body!r} is not a valid template ({exc}; "
                          "write a literal brace as {{ or }}).") from None
    names: list[str] = []
    for _literal, name, spec, conv in fields:
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise where.error(f"{{{name}}} is not a valid slot reference (write {{slot_name}} only).")
        if name not in slots:
            hint = suggest(name, slots)
            did_you_mean = f"; did you mean {hint!r}?" if hint else ""
            raise where.error(f"slot {{{name}}} is not defined{did_you_mean} (define it under slots:).")
        if name not in names:
            names.append(name)
    return Template(body, tuple(names))
