"""The Target value: /v1 stripping, auth headers for health and metrics, redaction, and the two
ways a library caller names a target; no sockets."""

from __future__ import annotations

import json

import pytest

from suite.driver.control.requestopts import RequestOptions
from suite.driver.control.target import Target, as_target, strip_v1
from suite.errors import SpecError


@pytest.mark.parametrize("url, base, noticed", [
    ("http://h:8000/v1", "http://h:8000", True),
    ("http://h:8000/v1/", "http://h:8000", True),
    ("https://gw.example.com/openai/v1", "https://gw.example.com/openai", True),
    ("http://h:8000/", "http://h:8000", False),
    ("http://h:8000/v10", "http://h:8000/v10", False),
])
def test_strip_v1(url: str, base: str, noticed: bool) -> None:
    got, notice = strip_v1(url)
    assert got == base
    assert (notice is not None) == noticed


def test_auth_headers_carry_the_key_and_the_extra_headers_only() -> None:
    target = Target("http://h:1", RequestOptions(headers=(("X-Team", "blue"),)), api_key="sk-1")
    assert target.auth_headers() == {"X-Team": "blue", "Authorization": "Bearer sk-1"}
    portkey = Target("http://h:1", RequestOptions(api_key_header="x-portkey-api-key"), api_key="pk-1")
    assert portkey.auth_headers() == {"x-portkey-api-key": "pk-1"}
    assert Target("http://h:1").auth_headers() == {}


def test_describe_never_holds_a_secret() -> None:
    target = Target("http://h:1", RequestOptions(headers=(("Helicone-Auth", "Bearer hk-secret"),
                                                          ("X-Echo", "sk-secret-1"))),
                    api_key="sk-secret-1", preset="helicone")
    text = json.dumps(target.describe())
    assert "sk-secret" not in text and "hk-secret" not in text
    assert target.describe()["preset"] == "helicone"
    assert "sk-secret" not in repr(target)


def test_bad_health_settings_name_the_option() -> None:
    with pytest.raises(SpecError, match="--health-path: 'health' must start with '/'"):
        Target("http://h:1", health_path="health")
    with pytest.raises(SpecError, match="--health-method: 'PUT' is not one of GET, HEAD, POST"):
        Target("http://h:1", health_method="PUT")


def test_as_target_keeps_the_url_convention_and_takes_a_target_whole() -> None:
    request = RequestOptions(cache_detect="none")
    made = as_target("http://h:1/", api_key="k", request=request, ttft_timeout_s=2.0, timeout_s=9.0,
                     health_path="/ready")
    assert made == Target("http://h:1", request, api_key="k", health_path="/ready", timeout_s=9.0,
                          ttft_timeout_s=2.0)
    assert as_target(made) is made
    with pytest.raises(SpecError, match=r"^run: the Target already says api_key, timeout_s; set it on"):
        as_target(made, api_key="other", timeout_s=3.0)
