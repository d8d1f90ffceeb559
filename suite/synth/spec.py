"""Scenario spec: the YAML a user writes to describe traffic, validated into frozen dataclasses.

``load_spec(path)`` is the only door in: every field is checked once here, so the builder can
trust its input. Errors are ``SpecError`` messages naming the file, the field path, the bad value
and the fix; unknown keys get a did-you-mean. ``ScenarioSpec.to_dict()`` is the *resolved* spec
(defaults filled in) that the manifest records. Intents and locales are parsed in intents.py, the
spec's own scalar fields in specfields.py; the other knobs by the module that uses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from suite.errors import SpecError
from suite.synth.arrivals import ArrivalSpec, parse_arrival
from suite.synth.context import InputTarget, parse_input_tokens
from suite.synth.intents import LOCALE_TEMPLATES, IntentSpec, parse_intents, parse_locale, parse_locales
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
from suite.synth.specfields import (
    SPEC_VERSION,
    check_version,
    optional_int,
    parse_description,
    parse_few_shot,
    parse_models,
    parse_repeat_ratio,
    reply_item,
    turns_item,
)
from suite.synth.templates import SlotSpec, check_locales, parse_slots
from suite.synth.validate import Where, boolean, check_keys, integer, show, text

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
    check_version(value["version"], top.at("version"))
    locale = parse_locale(value["locale"], top.at("locale"))
    locales = () if value["locales"] is None else parse_locales(value["locales"], top.at("locales"), locale)
    # Slots are checked in full against the main locale, then against every other locale of the mix
    # (``_check_locale_mix``): a Faker slot must work in all of them.
    slots = parse_slots(value["slots"], top.at("slots"), locale)
    spec = ScenarioSpec(
        domain=text(value["domain"], top.at("domain"), "domain name"),
        system_prompt=text(value["system_prompt"], top.at("system_prompt"), "system prompt"),
        models=parse_models(value["models"], top.at("models")),
        intents=parse_intents(value["intents"], top.at("intents"), slots),
        slots=slots,
        description=parse_description(value["description"], top.at("description")),
        seed=integer(value["seed"], top.at("seed"), "seed", 0),
        n=integer(value["n"], top.at("n"), "request count", 1),
        locale=locale,
        repeat_ratio=parse_repeat_ratio(value["repeat_ratio"], top.at("repeat_ratio")),
        max_tokens=parse_value(value["max_tokens"], top.at("max_tokens"), max_tokens_item),
        temperature=parse_value(value["temperature"], top.at("temperature"), temperature_item),
        stream=boolean(value["stream"], top.at("stream"), "stream flag"),
        arrival=parse_arrival(value["arrival"], top.at("arrival")),
        near_duplicate_ratio=parse_ratio(value["near_duplicate_ratio"], top.at("near_duplicate_ratio"),
                                         "near-duplicate ratio"),
        popularity=parse_popularity(value["popularity"], top.at("popularity")),
        catalog_size=optional_int(value["catalog_size"], top.at("catalog_size"), "catalog size"),
        reuse_distance=parse_reuse_distance(value["reuse_distance"], top.at("reuse_distance")),
        scope=parse_scope(value["scope"], top.at("scope")),
        users=integer(value["users"], top.at("users"), "number of users", 1),
        shared_prefix=parse_ratio(value["shared_prefix"], top.at("shared_prefix"), "shared-prefix share",
                                  upper_inclusive=True),
        few_shot=parse_few_shot(value["few_shot"], top.at("few_shot")),
        cache_model=parse_cache_model(value["cache_model"], top.at("cache_model")),
        input_tokens=parse_input_tokens(value["input_tokens"], top.at("input_tokens")),
        locales=locales,
        turns=parse_value(value["turns"], top.at("turns"), turns_item),
        reply_tokens=parse_value(value["reply_tokens"], top.at("reply_tokens"), reply_item),
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


