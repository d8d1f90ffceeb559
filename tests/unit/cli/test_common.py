"""The CLI's shared parsers: durations, lists, exit codes (the target option group: test_targetopts)."""

from __future__ import annotations

import pytest

from suite.cli.common import parse_duration, parse_list
from suite.cli.run import exit_code
from suite.errors import SpecError


@pytest.mark.parametrize("value, seconds", [("5m", 300.0), ("10s", 10.0), ("90", 90.0), ("1.5h", 5400.0),
                                            ("500ms", 0.5), (None, None)])
def test_parse_duration(value: str | None, seconds: float | None) -> None:
    assert parse_duration("--duration", value) == seconds


def test_parse_duration_names_the_option() -> None:
    with pytest.raises(SpecError) as err:
        parse_duration("--warmup", "ten")
    assert str(err.value) == ("--warmup: 'ten' is not a duration; write seconds or a number with s, m, h or "
                              "ms, e.g. 90, 30s, 5m.")


@pytest.mark.parametrize("value, kind, expected", [("0,0.25, 0.5", float, [0.0, 0.25, 0.5]),
                                                   ("1,5,10", int, [1, 5, 10]), (None, int, None)])
def test_parse_list(value, kind, expected) -> None:
    assert parse_list("--x", value, kind) == expected


@pytest.mark.parametrize("value, message", [("1,x", "--users: 'x' is not an integer (in '1,x')."),
                                            (",", "--users: ',' holds no value")])
def test_parse_list_errors_name_the_item(value: str, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_list("--users", value, int)


@pytest.mark.parametrize("aborted, slo_passed, code", [(False, None, 0), (False, True, 0), (False, False, 7),
                                                       (True, False, 8), (True, None, 8)])
def test_exit_code_an_abort_outranks_the_slo(aborted: bool, slo_passed: bool | None, code: int) -> None:
    assert exit_code(aborted, slo_passed) == code
