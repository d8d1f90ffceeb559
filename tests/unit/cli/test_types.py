"""The reusable option types of ``suite.cli.common``: a bad value exits 2 naming the option."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner

from suite.cli.common import (
    Duration,
    NonNegativeInt,
    Port,
    PositiveFloat,
    PositiveInt,
    RunId,
    Share,
    TargetUrl,
    parse_duration,
    parse_models,
)
from suite.errors import SpecError


def invoke(kind: click.ParamType, value: str) -> tuple[int, str, Any]:
    """Run a one-option command with ``--x value``; (exit code, output, converted value)."""
    got: dict[str, Any] = {}

    @click.command()
    @click.option("--x", type=kind)
    def cmd(x: Any) -> None:
        got["x"] = x

    result = CliRunner().invoke(cmd, ["--x", value])
    return result.exit_code, result.output, got.get("x")


@pytest.mark.parametrize("kind, value, converted", [
    (PositiveInt, "3", 3), (NonNegativeInt, "0", 0), (Port, "65535", 65535), (Port, "1", 1),
    (PositiveFloat, "0.25", 0.25), (Share, "0", 0.0), (Share, "1", 1.0),
    (Duration(), "500ms", 0.5), (Duration(), "5m", 300.0), (Duration(allow_zero=True), "0", 0.0),
    (RunId(), "baseline-1.2_x", "baseline-1.2_x"),
    (TargetUrl(), "http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    (TargetUrl(), "https://api.example.com/v1", "https://api.example.com/v1"),
    (TargetUrl(allow_mock=True), "mock", "mock"),
])
def test_good_values_convert(kind: click.ParamType, value: str, converted: Any) -> None:
    code, output, got = invoke(kind, value)
    assert (code, got) == (0, converted), output


@pytest.mark.parametrize("kind, value, message", [
    (PositiveInt, "0", "0 is not in the range x>=1."),
    (PositiveInt, "-2", "-2 is not in the range x>=1."),
    (NonNegativeInt, "-1", "-1 is not in the range x>=0."),
    (Port, "0", "0 is not in the range 1<=x<=65535."),
    (Port, "70000", "70000 is not in the range 1<=x<=65535."),
    (PositiveFloat, "0", "0.0 is not in the range x>0."),
    (PositiveFloat, "nan", "'nan' is not a finite number."),
    (PositiveFloat, "inf", "'inf' is not a finite number."),
    (PositiveFloat, "-inf", "'-inf' is not a finite number."),
    (Share, "1.5", "1.5 is not in the range 0<=x<=1."),
    (Share, "nan", "'nan' is not a finite number."),
    (Duration(), "0", "'0' must be a duration > 0, e.g. 30s."),
    (Duration(), "0s", "'0s' must be a duration > 0, e.g. 30s."),
    (Duration(), "-5s", "'-5s' is not a duration; write seconds or a number with s, m, h or ms"),
    (Duration(), "nan", "'nan' is not a duration"),
    (RunId(), "../../x", "'../../x' is not a plain name; use letters, digits, '-', '_' and '.'"),
    (RunId(), "a/b", "'a/b' is not a plain name"),
    (RunId(), "..", "'..' is not a plain name"),
    (RunId(), ".", "'.' is not a plain name"),
    (RunId(), "", "'' is not a plain name"),
    (TargetUrl(), "http://127.0.0.1:99999", "'http://127.0.0.1:99999' is not a valid URL (Port out of range"),
    (TargetUrl(), "http://127.0.0.1:abc", "'http://127.0.0.1:abc' is not a valid URL"),
    (TargetUrl(), "http://127.0.0.1:0", "'http://127.0.0.1:0': port 0 is not a port a target listens on"),
    (TargetUrl(), "127.0.0.1:8000", "'127.0.0.1:8000' is not an http(s) URL with a host"),
    (TargetUrl(), "ftp://h", "'ftp://h' is not an http(s) URL with a host"),
    (TargetUrl(), "mock", "'mock' is not an http(s) URL with a host"),
])
def test_bad_values_exit_2_naming_the_option(kind: click.ParamType, value: str, message: str) -> None:
    code, output, _ = invoke(kind, value)
    assert code == 2
    assert f"Invalid value for '--x': {message}" in output


def test_parse_duration_keeps_a_converted_number() -> None:
    assert parse_duration("--duration", 2.5) == 2.5


@pytest.mark.parametrize("value", ["a:nan", "a:inf", "a:0", "a:-1", ":2"])
def test_model_weights_must_be_positive_and_finite(value: str) -> None:
    with pytest.raises(SpecError, match=r"--models: .* has a bad name or weight"):
        parse_models(value)
