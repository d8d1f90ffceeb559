"""Profile loading: the shipped file is valid, and every bad value gets a message naming the file,
the field path, the value and the fix (asserted word for word)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server.config import DEFAULT_PROFILES_PATH, load_profiles
from suite.errors import ModelError

GOOD: dict[str, Any] = {
    "ttft_base_s": 0.45, "ttft_jitter_s": 0.15, "prefill_s_per_token": 0.0, "tokens_per_s": 100,
    "tps_jitter": 0.3, "output_tokens": {"median": 128, "spread": 0.6}, "hit_overhead_s": 0.002,
}


KNOWN_FIELDS = ("ttft_base_s, ttft_jitter_s, prefill_s_per_token, tokens_per_s, tps_jitter, "
                "output_tokens, hit_overhead_s, max_output_tokens, encoding, faults, load, max_in_flight, "
                "prefix_cache")


def write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def with_change(name: str, field: str, value: Any) -> dict[str, Any]:
    profile = copy.deepcopy(GOOD)
    if field.startswith("output_tokens."):
        profile["output_tokens"][field.split(".", 1)[1]] = value
    elif value is ...:
        del profile[field]
    else:
        profile[field] = value
    return {"models": {name: profile}}


def test_shipped_profiles_load_with_the_required_models() -> None:
    profiles = load_profiles(DEFAULT_PROFILES_PATH)
    assert {"gpt-4o", "gpt-4o-mini", "gpt-5-mini", "instant"} <= set(profiles)
    instant = profiles["instant"]
    assert (instant.ttft_base_s, instant.ttft_jitter_s, instant.tokens_per_s) == (0.0, 0.0, math.inf)
    assert profiles["gpt-4o"].encoding == "o200k_base"
    assert profiles["gpt-4o"].token_model == "gpt-4o"
    assert instant.token_model == "gpt-4o"  # counted as the catalog's first o200k_base model


def test_defaults_fill_optional_fields(tmp_path: Path) -> None:
    profile = {k: v for k, v in GOOD.items() if k not in ("prefill_s_per_token", "tps_jitter",
                                                          "hit_overhead_s")}
    loaded = load_profiles(write(tmp_path, {"models": {"gpt-4o": profile}}))["gpt-4o"]
    assert (loaded.prefill_s_per_token, loaded.tps_jitter, loaded.hit_overhead_s) == (0, 0, 0)
    assert loaded.max_output_tokens == 16384


@pytest.mark.parametrize(
    ("name", "field", "value", "expected"),
    [
        ("gpt-4o", "tokens_per_s", -5,
         "models.gpt-4o.tokens_per_s: -5 is not valid (must be a number > 0; use .inf for no "
         "per-token delay)."),
        ("gpt-4o", "ttft_base_s", "fast",
         "models.gpt-4o.ttft_base_s: 'fast' is not valid (must be a number of seconds >= 0)."),
        ("gpt-4o", "ttft_base_s", True,
         "models.gpt-4o.ttft_base_s: True is not valid (must be a number of seconds >= 0)."),
        ("gpt-4o", "tps_jitter", 1.5,
         "models.gpt-4o.tps_jitter: 1.5 is not valid (must be a fraction >= 0 and < 1)."),
        ("gpt-4o", "output_tokens.median", 0,
         "models.gpt-4o.output_tokens.median: 0 is not valid (must be an integer >= 1)."),
        ("gpt-4o", "output_tokens.spread", 9,
         "models.gpt-4o.output_tokens.spread: 9 is not valid (must be a number >= 0 and <= 3 "
         "(sigma of a log-normal; 0 = always the median))."),
        ("gpt-4o", "ttft_jitter_s", ...,
         "models.gpt-4o.ttft_jitter_s: missing (must be a number of seconds >= 0)."),
        ("gpt-4o", "ttft_bse_s", 0.4,
         f"models.gpt-4o.ttft_bse_s: unknown field; known: {KNOWN_FIELDS}."),
        ("gpt-4o", "encoding", "cl100k_base",
         "models.gpt-4o.encoding: 'cl100k_base' contradicts the model catalog (o200k_base) for "
         "'gpt-4o'; remove the field."),
        ("gpt-4o", "encoding", "p50k_base",
         "models.gpt-4o.encoding: 'p50k_base' is not valid (must be one of o200k_base, "
         "cl100k_base)."),
        ("my-llm", "hit_overhead_s", 0.0,
         "models.my-llm.encoding: missing; 'my-llm' is not in the model catalog, so name its "
         "tokenizer (must be one of o200k_base, cl100k_base)."),
        ("gpt-4o", "max_output_tokens", 0,
         "models.gpt-4o.max_output_tokens: 0 is not valid (must be an integer >= 1)."),
        ("gpt-4o", "faults", {"502": 0.1},
         "models.gpt-4o.faults: '502' is not a fault; known: 500, 503, 429, stall_first, "
         "stall_mid, disconnect, malformed (e.g. 503, stall_first=2, disconnect=3)."),
        ("gpt-4o", "faults", {"503": 0.7, "429": 0.5},
         "models.gpt-4o.faults: the probabilities sum to 1.2 (must be <= 1: one fault per "
         "request)."),
        ("gpt-4o", "faults", {"stall_first": 0.1},
         "models.gpt-4o.faults: 'stall_first': stall_first needs an argument (stall_first=N, N a "
         "plain decimal number of seconds > 0, e.g. 2 or 0.5)."),
        ("gpt-4o", "faults", {"stall_first=1_0": 0.1},
         "models.gpt-4o.faults: stall_first=1_0: '1_0' is not valid; the argument must be a plain "
         "decimal number of seconds > 0, e.g. 2 or 0.5."),
        ("gpt-4o", "max_in_flight", 0,
         "models.gpt-4o.max_in_flight: 0 is not valid (must be an integer >= 1: generating "
         "requests of this model at once, more are answered 503 with Retry-After)."),
        ("gpt-4o", "load", {"max_batch": 0},
         "models.gpt-4o.load: max_batch: 0 is not valid (must be an integer >= 1)."),
        ("gpt-4o", "load", {"load_factor": 2.0},
         "models.gpt-4o.load: load_factor and queue_limit need max_batch."),
    ],
)
def test_bad_profile_values_are_named(tmp_path: Path, name: str, field: str, value: Any,
                                      expected: str) -> None:
    path = write(tmp_path, with_change(name, field, value))
    with pytest.raises(ModelError) as err:
        load_profiles(path)
    assert str(err.value) == f"{path}: {expected}"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"models": {}}, "models: missing or empty (must be a mapping of model name to profile, "
                         "e.g. models: {gpt-4o: {ttft_base_s: 0.45, ...}})."),
        ({"modles": {"gpt-4o": GOOD}}, "models: missing or empty (must be a mapping of model name "
                                       "to profile, e.g. models: {gpt-4o: {ttft_base_s: 0.45, "
                                       "...}})."),
        ({"models": {"gpt-4o": GOOD}, "extra": 1}, "extra: unknown top-level key; known: models."),
        ({"models": {"gpt-4o": [1, 2]}},
         "models.gpt-4o: [1, 2] is not valid (must be a mapping of fields)."),
    ],
)
def test_bad_documents_are_named(tmp_path: Path, doc: Any, expected: str) -> None:
    path = write(tmp_path, doc)
    with pytest.raises(ModelError) as err:
        load_profiles(path)
    assert str(err.value) == f"{path}: {expected}"


def test_missing_file_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ModelError) as err:
        load_profiles(path)
    assert str(err.value) == (f"{path}: cannot read the profiles file (No such file or "
                              f"directory). Pass --profiles {DEFAULT_PROFILES_PATH}.")
    assert err.value.exit_code == 2


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  gpt-4o: {ttft_base_s: 0.4\n")
    with pytest.raises(ModelError) as err:
        load_profiles(path)
    assert str(err.value).startswith(f"{path}: line 3: not valid YAML (")
    assert str(err.value).endswith("). Fix the syntax.")
