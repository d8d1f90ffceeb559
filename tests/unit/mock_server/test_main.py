"""``python -m mock_server``: the new numeric options are validated with a message naming them."""

from __future__ import annotations

import pytest

from mock_server.__main__ import build_config, parse_args
from suite.errors import SpecError


@pytest.mark.parametrize(("argv", "message"), [
    (["--read-timeout", "0"], "--read-timeout: 0 is not valid (must be a number of seconds > 0, "
                              "e.g. 30)."),
    (["--read-timeout", "-1"], "--read-timeout: -1 is not valid (must be a number of seconds > "
                               "0, e.g. 30)."),
    (["--read-timeout", "nan"], "--read-timeout: nan is not valid (must be a number of seconds > "
                                "0, e.g. 30)."),
    (["--read-timeout", "inf"], "--read-timeout: inf is not valid (must be a number of seconds > "
                                "0, e.g. 30)."),
    (["--max-in-flight", "0"], "--max-in-flight: 0 is not valid (must be an integer >= 1; leave "
                               "it out for no limit)."),
])
def test_bad_options_are_named(argv: list[str], message: str) -> None:
    with pytest.raises(SpecError) as err:
        build_config(parse_args(argv))
    assert str(err.value) == message


def test_defaults_and_values_reach_the_config() -> None:
    default = build_config(parse_args([]))
    assert (default.read_timeout_s, default.max_in_flight) == (30.0, None)
    config = build_config(parse_args(["--read-timeout", "2.5", "--max-in-flight", "64"]))
    assert (config.read_timeout_s, config.max_in_flight) == (2.5, 64)
