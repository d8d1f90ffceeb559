"""Spec validation: every bad input is refused with a message naming file, field, value and fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from suite.errors import SpecError
from suite.synth import load_spec, parse_spec

BUNDLED = Path(__file__).resolve().parents[3] / "corpora" / "scenarios" / "ops-assistant.yaml"

BASE: dict[str, Any] = {
    "domain": "ops-assistant",
    "system_prompt": "You are an operations assistant.",
    "models": {"gpt-4o": 0.5, "gpt-5-mini": 0.5},
    "slots": {
        "invoice_id": {"pattern": "INV-#####"},
        "company": {"faker": "company"},
        "amount": {"number": [10, 5000], "decimals": 2, "prefix": "€"},
    },
    "intents": [
        {"name": "invoice", "weight": 2, "templates": ["Where is invoice {invoice_id} from {company}?"]},
        {"name": "amounts", "weight": 1, "templates": ["Which invoices are above {amount}?"]},
    ],
}


def mutated(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    spec = copy.deepcopy(BASE)
    change(spec)
    return spec


def test_bundled_spec_loads() -> None:
    spec = load_spec(BUNDLED)
    assert spec.domain == "ops-assistant"
    assert {i.name for i in spec.intents} == {
        "workflow_status", "failed_executions", "invoice_workflow", "kpis", "system_health"}
    assert spec.stream is True
    assert dict(spec.models) == {"gpt-4o": 0.5, "gpt-5-mini": 0.5}


def test_defaults_are_resolved() -> None:
    resolved = parse_spec(BASE, "x.yaml").to_dict()
    assert resolved["n"] == 1000
    assert resolved["repeat_ratio"] == 0.0
    assert resolved["arrival"] == {"process": "closed"}
    assert resolved["max_tokens"] == 512
    assert resolved["slots"]["amount"] == {"number": [10, 5000], "decimals": 2, "prefix": "€"}


def test_overrides_replace_top_level_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(BASE))
    spec = load_spec(path, {"n": 7, "repeat_ratio": 0.5, "seed": None})
    assert (spec.n, spec.repeat_ratio, spec.seed, spec.source) == (7, 0.5, 0, str(path))


BAD_SPECS = [
    (lambda s: s["intents"][1].__setitem__("weight", -1),
     "x.yaml: intents[1].weight: -1 is not a valid weight (must be a number > 0)."),
    (lambda s: s.__setitem__("repeat_ration", 0.3),
     "x.yaml: unknown key 'repeat_ration'; did you mean 'repeat_ratio'? (known: arrival, cache_model, "
     "catalog_size, description, documents, domain, expected_output_tokens, few_shot, hard_negative_ratio, "
     "input_tokens, intents, locale, locales, max_tokens, models, n, near_duplicate_ratio, popularity, "
     "repeat_ratio, reply_tokens, reuse_distance, scope, seed, shared_prefix, slots, stream, system_prompt, "
     "system_prompts, temperature, turns, users, version)."),
    (lambda s: s["intents"][0].__setitem__("weigth", 1),
     "x.yaml: intents[0]: unknown key 'weigth'; did you mean 'weight'? (known: name, templates, weight)."),
    (lambda s: s.__setitem__("repeat_ratio", 1.5),
     "x.yaml: repeat_ratio: 1.5 is not a valid repeat ratio (must be a number >= 0 and < 1)."),
    (lambda s: s["intents"][0]["templates"].append("Status of {invoce_id}?"),
     "x.yaml: intents[0].templates[1]: slot {invoce_id} is not defined; did you mean 'invoice_id'? "
     "(define it under slots:)."),
    (lambda s: s.pop("intents"),
     "x.yaml: missing required key 'intents' (a list of intents with name, weight and templates)."),
    (lambda s: s["slots"].__setitem__("company", {"faker": "compnay"}),
     "x.yaml: slots.company.faker: 'compnay' is not a Faker provider; did you mean 'company'? "
     "(see https://faker.readthedocs.io/en/master/providers.html)."),
    (lambda s: s["slots"].__setitem__("company", {"faker": "date_this_year"}),
     "x.yaml: slots.company.faker: 'date_this_year' depends on today's date, so the corpus would change "
     "from day to day (use a date slot instead: {date: [2025-01-01, 2025-12-31]})."),
    (lambda s: s["slots"].__setitem__("amount", {"numbr": [1, 5]}),
     "x.yaml: slots.amount: unknown slot kind 'numbr'; did you mean 'number'? "
     "(known: choices, date, faker, number, pattern)."),
    (lambda s: s["slots"].__setitem__("amount", {"number": [5, 1]}),
     "x.yaml: slots.amount.number: [5, 1] is not a valid number range (must be [min, max] with min <= max)."),
    (lambda s: s.__setitem__("max_tokens", {"choices": [256, 0]}),
     "x.yaml: max_tokens.choices[1]: 0 is not a valid max_tokens (must be an integer >= 1)."),
    (lambda s: s.__setitem__("max_tokens", {"min": 300, "max": 100}),
     "x.yaml: max_tokens.max: 100 is not a valid max (must be >= min 300)."),
    (lambda s: s.__setitem__("temperature", 3),
     "x.yaml: temperature: 3 is not a valid temperature (must be a number from 0 to 2)."),
    (lambda s: s.__setitem__("arrival", {"process": "poison", "rate": 1}),
     "x.yaml: arrival.process: unknown arrival process 'poison'; did you mean 'poisson'? "
     "(known: closed, constant, diurnal, gamma, poisson, ramp, step)."),
    (lambda s: s.__setitem__("arrival", {"process": "poisson"}),
     "x.yaml: arrival: missing required key 'rate' (requests per second, a number > 0)."),
    (lambda s: s.__setitem__("arrival", {"process": "gamma", "rate": 5, "burstyness": 0.5}),
     "x.yaml: arrival: unknown key 'burstyness'; did you mean 'burstiness'? (known: burstiness, process, "
     "rate)."),
    (lambda s: s.__setitem__("arrival", {"process": "diurnal", "rate": 5, "amplitude": 2}),
     "x.yaml: arrival.amplitude: 2 is not a valid amplitude (must be a number from 0 to 1)."),
    (lambda s: s.__setitem__("arrival", {"process": "ramp", "rate": 1, "end_rate": 9}),
     "x.yaml: arrival: missing required key 'duration' (ramp length in seconds, > 0)."),
    (lambda s: s.__setitem__("popularity", "zipf"),
     "x.yaml: popularity: 'zipf' has no valid Zipf exponent (use zipf:S with 0 < S <= 5, e.g. zipf:1.1)."),
    (lambda s: s.__setitem__("popularity", "pareto:1"),
     "x.yaml: popularity: 'pareto:1' is not a valid popularity (use uniform or zipf:S, e.g. zipf:1.1)."),
    (lambda s: s.__setitem__("reuse_distance", {"requets": 10}),
     "x.yaml: reuse_distance: unknown reuse_distance unit 'requets'; did you mean 'requests'? "
     "(known: requests, seconds) (give exactly one, e.g. {requests: 500} or {seconds: 60})."),
    (lambda s: s.__setitem__("reuse_distance", {"requests": 0}),
     "x.yaml: reuse_distance.requests: 0 is not a valid window in requests (must be an integer >= 1)."),
    (lambda s: s.__setitem__("reuse_distance", {"seconds": 60}),
     "x.yaml: reuse_distance: a window in seconds needs timestamps, but arrival is closed (use "
     "{requests: N}, or an open-loop arrival such as {process: poisson, rate: 5})."),
    (lambda s: s.__setitem__("scope", "tenant"),
     "x.yaml: scope: unknown scope 'tenant' (known: across, session, user)."),
    (lambda s: s.update(repeat_ratio=0.6, near_duplicate_ratio=0.4),
     "x.yaml: near_duplicate_ratio: 0.4 plus repeat_ratio 0.6 is 1 (the two must add up to less than 1, "
     "leaving room for fresh requests)."),
    (lambda s: s.__setitem__("shared_prefix", 1.5),
     "x.yaml: shared_prefix: 1.5 is not a valid shared-prefix share (must be a number >= 0 and <= 1)."),
    (lambda s: s.__setitem__("few_shot", [{"user": "Hi", "asistant": "Hello"}]),
     "x.yaml: few_shot[0]: unknown key 'asistant'; did you mean 'assistant'? (known: assistant, user)."),
    (lambda s: s.__setitem__("cache_model", {"capacity": [0]}),
     "x.yaml: cache_model.capacity[0]: 0 is not a valid cache capacity (must be an integer >= 1)."),
    (lambda s: s.__setitem__("cache_model", {"ttl": [60]}),
     "x.yaml: cache_model.ttl: a TTL needs timestamps, but arrival is closed (use an open-loop arrival "
     "such as {process: poisson, rate: 5}, or drop ttl)."),
    (lambda s: s.__setitem__("input_tokens", {"median": 500, "p90": 400}),
     "x.yaml: input_tokens.p90: 400 is not a valid p90 (must be > median 500)."),
    (lambda s: s.__setitem__("input_tokens", {"median": 500, "p90": 900, "context": ["log"]}),
     "x.yaml: input_tokens.context[0]: unknown context kind 'log'; did you mean 'logs'? "
     "(known: document, logs, table)."),
    (lambda s: s.__setitem__("locales", {"en_US": 1, "it_TI": 1}),
     "x.yaml: locales.it_TI: unknown locale 'it_TI'; did you mean 'it_IT'? "
     "(Faker's locales are listed in faker.config.AVAILABLE_LOCALES)."),
    (lambda s: s["intents"][0].__setitem__("templates_it_IX", ["Dov'è {invoice_id}?"]),
     "x.yaml: intents[0].templates_it_IX: unknown locale 'it_IX'; did you mean 'it_IT'? "
     "(Faker's locales are listed in faker.config.AVAILABLE_LOCALES)."),
    (lambda s: s.__setitem__("turns", {"choices": [1, 0]}),
     "x.yaml: turns.choices[1]: 0 is not a valid number of turns per session (must be an integer >= 1)."),
    (lambda s: s.__setitem__("catalog_size", 0),
     "x.yaml: catalog_size: 0 is not a valid catalog size (must be an integer >= 1)."),
    (lambda s: s.__setitem__("arrival", {"process": "constant", "rate": 0}),
     "x.yaml: arrival.rate: 0 is not a valid rate (must be a number > 0)."),
    (lambda s: s.__setitem__("n", True),
     "x.yaml: n: true is not a valid request count (must be an integer >= 1)."),
    (lambda s: s["models"].__setitem__("gpt-4o", 0),
     "x.yaml: models.gpt-4o: 0 is not a valid weight (must be a number > 0)."),
    (lambda s: s.__setitem__("locale", "en_UK"),
     "x.yaml: locale: unknown locale 'en_UK'; did you mean 'en_US'? "
     "(Faker's locales are listed in faker.config.AVAILABLE_LOCALES)."),
    (lambda s: s["intents"].append(copy.deepcopy(s["intents"][0])),
     "x.yaml: intents[2].name: 'invoice' is a duplicate intent name (each intent needs its own name)."),
    (lambda s: s.__setitem__("version", 2),
     "x.yaml: version: 2 is not a supported spec version (this llmsuite reads version 1)."),
    (lambda s: s.update(locales={"en_US": 1, "it_IT": 1}, slots={**s["slots"], "zip": {"faker": "zipcode"}}),
     "x.yaml: slots.zip.faker: 'zipcode' is not a Faker provider in locale 'it_IT' (of locales:); did you "
     "mean 'postcode'? (every locale of the mix needs it: use a provider all of them have, or a choices "
     "slot)."),
    (lambda s: s.update(locale="it_IT", locales={"en_US": 1},
                        slots={**s["slots"], "vat": {"faker": "vat_id"}}),
     "x.yaml: slots.vat.faker: 'vat_id' is not a Faker provider in locale 'en_US' (of locales:); did you "
     "mean 'iana_id'? (every "
     "locale of the mix needs it: use a provider all of them have, or a choices slot)."),
    (lambda s: s["intents"][0].__setitem__("templates_it_IT", ["Dov'è {invoice_id}?"]),
     "x.yaml: intents[0].templates_it_IT: locale 'it_IT' is not in the locale mix (en_US), so these "
     "templates would never be used (add it_IT: WEIGHT under locales:, or remove them)."),
    (lambda s: s.__setitem__("expected_output_tokens", {"median": 300, "p90": 200}),
     "x.yaml: expected_output_tokens.p90: 200 is not a valid p90 (must be > median 300)."),
    (lambda s: s.__setitem__("expected_output_tokens", {"medain": 300, "p90": 600}),
     "x.yaml: expected_output_tokens: unknown key 'medain'; did you mean 'median'? (known: median, p90)."),
    (lambda s: s.__setitem__("expected_output_tokens", {"choices": [100, 0]}),
     "x.yaml: expected_output_tokens.choices[1]: 0 is not a valid expected output length in tokens "
     "(must be an integer >= 1)."),
    (lambda s: s.__setitem__("expected_output_tokens", "short"),
     "x.yaml: expected_output_tokens: 'short' is not a valid expected output length in tokens "
     "(must be an integer >= 1)."),
]


@pytest.mark.parametrize(("change", "message"), BAD_SPECS)
def test_bad_spec_message(change: Callable[[dict[str, Any]], None], message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_spec(mutated(change), "x.yaml")
    assert str(err.value) == message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value) == (f"{path}: cannot read the spec (No such file or directory). "
                              "Check the path; bundled specs live in corpora/scenarios/.")


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("domain: ops\nmodels: [gpt-4o\n")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value).startswith(f"{path}: not valid YAML (line 3, column 1: ")
    assert str(err.value).endswith("). Fix the syntax.")


def test_spec_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value) == (f"{path}: a spec must be a YAML mapping of keys (domain, models, intents, "
                              "...), got list.")
