"""The gateway preset table: every entry compiles, cites its documentation, and says what the key
header and health path are; prompt caches never count as response-cache hits."""

from __future__ import annotations

import pytest

from suite.cachesignal import parse_rule
from suite.driver.control.target import HEALTH_METHODS
from suite.errors import SpecError
from suite.gateways import PRESETS, get_preset

EXPECTED = {  # name → (rule, health path): what each gateway's own page documents
    "litellm": ("present:x-litellm-cache-key", "/health/liveliness"),
    "cloudflare": ("header:cf-aig-cache-status=HIT", "/"),
    "portkey": ("header:x-portkey-cache-status=HIT|SEMANTIC HIT", "/"),
    "helicone": ("header:helicone-cache=HIT", "/"),
    "kong": ("header:x-cache-status=Hit", "/status"),
    "envoy": ("none", "/health"),
    "vllm": ("none", "/health"),
    "sglang": ("none", "/health"),
    "openai": ("none", "/v1/models"),
}


def test_the_table_is_the_documented_one() -> None:
    assert {n: (p.cache_detect, p.health_path) for n, p in PRESETS.items()} == EXPECTED


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_preset_is_usable_and_cited(name: str) -> None:
    preset = PRESETS[name]
    parse_rule(preset.cache_detect)  # raises on a bad rule
    assert preset.docs.startswith("https://")
    assert preset.note and preset.title
    assert preset.health_path.startswith("/") and preset.health_method in HEALTH_METHODS
    assert preset.api_key_header


@pytest.mark.parametrize("name", ["vllm", "sglang", "openai"])
def test_prompt_caches_are_not_response_hits(name: str) -> None:
    preset = PRESETS[name]
    assert preset.cache_detect == "none"
    assert "prefix" in preset.note and "cached_tokens" in preset.note


def test_key_headers_where_the_gateway_wants_its_own() -> None:
    assert PRESETS["portkey"].api_key_header == "x-portkey-api-key"
    assert "Helicone-Auth" in PRESETS["helicone"].note
    assert "cf-aig-authorization" in PRESETS["cloudflare"].note


def test_get_preset_is_case_blind_and_names_the_known_ones() -> None:
    assert get_preset(" LiteLLM ").name == "litellm"
    with pytest.raises(SpecError, match="known: cloudflare, envoy, helicone"):
        get_preset("nginx")
