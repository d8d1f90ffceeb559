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
from suite.synth.arrivals import ArrivalSpec, parse_arrival
from suite.synth.context import InputTarget, parse_input_tokens
from suite.synth.outputlen import OutputLength, parse_expected_output
from suite.synth.params import ValueSpec, max_tokens_item, parse_value, temperature_item
from suite.synth.planner import PlanConfig
from suite.synth.prefixreuse import PrefixPool, parse_pool
from suite.synth.repetition import (
    CacheModel,
    Popularity,
    ReuseWindow,
    parse_cache_model,
    parse_popularity,
    parse_ratio,
    parse_reuse_distance,
    parse_scope,
)
from suite.synth.templates import SlotSpec, Template, check_locales, parse_slots, parse_template
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
    "near_duplicate_ratio": 0.0,
    "popularity": "uniform",
    "catalog_size": None,
    "reuse_distance": None,
    "scope": "across",
    "users": 100,
    "shared_prefix": 1.0,
    "few_shot": [],
    "cache_model": {"capacity": [], "ttl": []},
    "input_tokens": None,
    "locales": None,
    "turns": 1,
    "reply_tokens": {"min": 40, "max": 160},
    "expected_output_tokens": None,
    # Hard negatives and prefix reuse: in the resolved spec only when set, so the manifests of
    # specs that do not use them keep their bytes (and spec_sha256).
    "hard_negative_ratio": 0.0,
    "system_prompts": None,
    "documents": None,
}
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
    near_duplicate_ratio: float = 0.0
    popularity: Popularity = Popularity()
    catalog_size: int | None = None
    reuse_distance: ReuseWindow | None = None
    scope: str = "across"
    users: int = 100
    shared_prefix: float = 1.0
    few_shot: tuple[tuple[str, str], ...] = ()
    cache_model: CacheModel = CacheModel()
    input_tokens: InputTarget | None = None
    locales: tuple[tuple[str, float], ...] = ()
    turns: ValueSpec = ValueSpec("constant", (1,))
    reply_tokens: ValueSpec = ValueSpec("range", (40, 160))
    expected_output_tokens: OutputLength | None = None
    hard_negative_ratio: float = 0.0
    system_prompts: PrefixPool | None = None
    documents: PrefixPool | None = None
    source: str = "<memory>"

    def locale_mix(self) -> tuple[tuple[str, float], ...]:
        return self.locales or ((self.locale, 1.0),)

    def plan_config(self) -> PlanConfig:
        return PlanConfig(n=self.n, repeat_ratio=self.repeat_ratio,
                          near_duplicate_ratio=self.near_duplicate_ratio, popularity=self.popularity,
                          catalog_size=self.catalog_size, reuse_distance=self.reuse_distance,
                          scope=self.scope, users=self.users, turns=self.turns,
                          hard_negative_ratio=self.hard_negative_ratio)

    def reuse_dict(self) -> dict[str, Any]:
        """The hard-negative and prefix-reuse knobs that are set (none: an empty dict)."""
        out: dict[str, Any] = {}
        if self.hard_negative_ratio:
            out["hard_negative_ratio"] = self.hard_negative_ratio
        if self.system_prompts is not None:
            out["system_prompts"] = self.system_prompts.to_dict(with_probability=False)
        if self.documents is not None:
            out["documents"] = self.documents.to_dict(with_probability=True)
        return out

    def repetition_dict(self) -> dict[str, Any]:
        return {
            "near_duplicate_ratio": self.near_duplicate_ratio, "popularity": self.popularity.to_value(),
            "catalog_size": self.catalog_size, "scope": self.scope, "users": self.users,
            "reuse_distance": self.reuse_distance.to_dict() if self.reuse_distance else None,
            "shared_prefix": self.shared_prefix, "cache_model": self.cache_model.to_dict(),
            "few_shot": [{"user": u, "assistant": a} for u, a in self.few_shot],
            "input_tokens": self.input_tokens.to_dict() if self.input_tokens else None,
            "locales": dict(self.locales) if self.locales else None,
            "turns": self.turns.to_dict(), "reply_tokens": self.reply_tokens.to_dict(),
            "expected_output_tokens": (self.expected_output_tokens.to_dict()
                                       if self.expected_output_tokens else None),
        }

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
            **self.repetition_dict(),
            **self.reuse_dict(),
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
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}). Save the spec as "
                        "UTF-8.") from None
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
    locales = () if value["locales"] is None else _locales(value["locales"], top.at("locales"), locale)
    # Slots are checked in full against the main locale, then against every other locale of the mix
    # (``_check_locale_mix``): a Faker slot must work in all of them.
    slots = parse_slots(value["slots"], top.at("slots"), locale)
    spec = ScenarioSpec(
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
        near_duplicate_ratio=parse_ratio(value["near_duplicate_ratio"], top.at("near_duplicate_ratio"),
                                         "near-duplicate ratio"),
        popularity=parse_popularity(value["popularity"], top.at("popularity")),
        catalog_size=_optional_int(value["catalog_size"], top.at("catalog_size"), "catalog size"),
        reuse_distance=parse_reuse_distance(value["reuse_distance"], top.at("reuse_distance")),
        scope=parse_scope(value["scope"], top.at("scope")),
        users=integer(value["users"], top.at("users"), "number of users", 1),
        shared_prefix=parse_ratio(value["shared_prefix"], top.at("shared_prefix"), "shared-prefix share",
                                  upper_inclusive=True),
        few_shot=_few_shot(value["few_shot"], top.at("few_shot")),
        cache_model=parse_cache_model(value["cache_model"], top.at("cache_model")),
        input_tokens=parse_input_tokens(value["input_tokens"], top.at("input_tokens")),
        locales=locales,
        turns=parse_value(value["turns"], top.at("turns"), _turns_item),
        reply_tokens=parse_value(value["reply_tokens"], top.at("reply_tokens"), _reply_item),
        expected_output_tokens=parse_expected_output(value["expected_output_tokens"],
                                                     top.at("expected_output_tokens")),
        hard_negative_ratio=parse_ratio(value["hard_negative_ratio"], top.at("hard_negative_ratio"),
                                        "hard-negative ratio"),
        system_prompts=parse_pool(value["system_prompts"], top.at("system_prompts"), with_probability=False),
        documents=parse_pool(value["documents"], top.at("documents"), with_probability=True),
        source=source,
    )
    _check_consistency(spec, top)
    _check_locale_mix(spec, top)
    return spec


def _check_locale_mix(spec: ScenarioSpec, top: Where) -> None:
    """Slots and per-locale templates against every locale of the mix, not only the main one."""
    names = [loc for loc, _ in spec.locale_mix()]
    check_locales(spec.slots, names, spec.locale, top.at("slots"))
    for i, intent in enumerate(spec.intents):
        for loc in intent.by_locale:
            if loc not in names:
                raise top.at("intents").at(i).at(LOCALE_TEMPLATES + loc).error(
                    f"locale {loc!r} is not in the locale mix ({', '.join(names)}), so these templates "
                    f"would never be used (add {loc}: WEIGHT under locales:, or remove them).")


def _turns_item(value: Any, where: Where) -> int:
    return integer(value, where, "number of turns per session", 1)


def _reply_item(value: Any, where: Where) -> int:
    return integer(value, where, "reply length in tokens", 1)


def _optional_int(value: Any, where: Where, what: str) -> int | None:
    return None if value is None else integer(value, where, what, 1)


def _few_shot(value: Any, where: Where) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        raise where.error(f"{show(value)} is not a valid few-shot list (a list of {{user, assistant}}).")
    pairs = []
    for i, item in enumerate(value):
        item = mapping(item, where.at(i), "{user: ..., assistant: ...}")
        check_keys(item, where.at(i), {"user": "the example question", "assistant": "the example answer"})
        pairs.append((text(item["user"], where.at(i).at("user"), "example question"),
                      text(item["assistant"], where.at(i).at("assistant"), "example answer")))
    return tuple(pairs)


def _check_consistency(spec: ScenarioSpec, top: Where) -> None:
    """Rules across keys: the ratios leave room for fresh requests; seconds need timestamps."""
    total = spec.repeat_ratio + spec.near_duplicate_ratio
    if total >= 1:
        raise top.at("near_duplicate_ratio").error(
            f"{show(spec.near_duplicate_ratio)} plus repeat_ratio {show(spec.repeat_ratio)} is {total:g} "
            "(the two must add up to less than 1, leaving room for fresh requests).")
    if spec.hard_negative_ratio and total + spec.hard_negative_ratio >= 1:
        raise top.at("hard_negative_ratio").error(
            f"{show(spec.hard_negative_ratio)} plus repeat_ratio and near_duplicate_ratio is "
            f"{total + spec.hard_negative_ratio:g} (the three must add up to less than 1, leaving room "
            "for fresh requests).")
    timed = spec.arrival.process != "closed"
    if spec.reuse_distance and spec.reuse_distance.unit == "seconds" and not timed:
        raise top.at("reuse_distance").error(
            "a window in seconds needs timestamps, but arrival is closed (use {requests: N}, or an "
            "open-loop arrival such as {process: poisson, rate: 5}).")
    if spec.cache_model.ttl and not timed:
        raise top.at("cache_model").at("ttl").error(
            "a TTL needs timestamps, but arrival is closed (use an open-loop arrival such as "
            "{process: poisson, rate: 5}, or drop ttl).")


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
    localized = [str(k) for k in item if str(k).startswith(LOCALE_TEMPLATES)]
    check_keys({k: v for k, v in item.items() if k not in localized}, where, INTENT_KEYS)
    by_locale = {_locale(key.removeprefix(LOCALE_TEMPLATES), where.at(key)):
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


def _locales(value: Any, where: Where, default: str) -> tuple[tuple[str, float], ...]:
    """``locales: {en_US: 0.7, it_IT: 0.3}``; absent, every request uses ``locale``."""
    if value is None:
        return ((default, 1.0),)
    mix = mapping(value, where, "locale -> weight, e.g. {en_US: 0.7, it_IT: 0.3}")
    if not mix:
        raise where.error("no locales given (add at least one, e.g. en_US: 1).")
    return tuple((_locale(name, where.at(str(name))), weight(w, where.at(str(name))))
                 for name, w in mix.items())
