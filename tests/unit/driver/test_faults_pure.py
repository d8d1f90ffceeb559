"""The pure parts of issue 13's items 3 and 4: Retry-After parsing, the connect-error abort rule,
the honoured pause, timeout classification, the timeout options and the error-ratio verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.api import error_verdict
from suite.cli.run import exit_code
from suite.driver.control.config import DriverConfig
from suite.driver.exchange.measure import retry_after_seconds
from suite.driver.exchange.record import RequestTimeout, classify_exception
from suite.driver.inlocust.abort import ConnectStreak
from suite.driver.inlocust.backoff import RetryAfterPause
from suite.errors import SpecError

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.mark.parametrize("value, want", [
    (None, None), ("1", 1.0), (" 120 ", 120.0), ("1.5", 1.5), ("0", 0.0),
    ("-1", None), ("nan", None), ("1_0", None), ("soon", None), ("", None),
    ("Tue, 14 Nov 2023 22:13:30 GMT", 10.0),  # an HTTP date 10 s ahead
    ("Tue, 14 Nov 2023 22:13:00 GMT", 0.0),  # already past
])
def test_retry_after_seconds(value: str | None, want: float | None) -> None:
    assert retry_after_seconds(value, NOW) == want


def test_connect_streak_trips_at_the_limit_and_any_other_outcome_resets_it() -> None:
    rule = ConnectStreak(3)
    assert [rule.add(k) for k in ("connect", "connect", None, "connect", "connect")] == [None] * 5
    assert rule.add("connect", "ConnectionRefusedError: [Errno 111]") == (
        "target refused 3 connections in a row (connect errors): is it still running? Last: "
        "ConnectionRefusedError: [Errno 111] (rule: --abort-connect-errors 3)")


def test_retry_after_pause_is_capped_and_counted() -> None:
    pause = RetryAfterPause(cap_s=60.0)
    assert [pause.observe(v) for v in (None, 1.0, 600.0)] == [0.0, 1.0, 60.0]
    assert pause.summary() == {"honoured": 2, "capped": 1, "cap_s": 60.0, "paused_s": 61.0}


@pytest.mark.parametrize("which, want", [
    ("total", "total: the response was not complete within --timeout 5 s"),
    ("ttft", "ttft: no content arrived within --ttft-timeout 5 s"),
])
def test_a_request_timeout_is_kind_timeout_saying_which(which: str, want: str) -> None:
    assert classify_exception(RequestTimeout(which, 5.0)) == {"kind": "timeout", "message": want}

    class RetriesExceeded(Exception):  # geventhttpclient wraps it; the original is judged
        original = RequestTimeout(which, 5.0)

    assert classify_exception(RetriesExceeded())["kind"] == "timeout"


def _config(**kw: float | None) -> DriverConfig:
    return DriverConfig(corpus=Path("c.jsonl"), out=Path("r/requests.jsonl"), run_meta=Path("r/run.json"),
                        run_id="r", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw, message", [
    ({"timeout_s": 0.0}, "--timeout: 0.0 is not valid (must be > 0 seconds, e.g. 30)."),
    ({"ttft_timeout_s": float("nan")}, "--ttft-timeout: nan is not valid"),
    ({"timeout_s": 10.0, "ttft_timeout_s": 20.0},
     "--ttft-timeout: 20 s is longer than --timeout 10 s, which would always fire first"),
])
def test_timeouts_are_validated(kw: dict[str, float], message: str) -> None:
    with pytest.raises(SpecError) as err:
        _config(**kw)
    assert str(err.value).startswith(message)


def test_the_ttft_timeout_crosses_into_the_locust_child() -> None:
    config = _config(timeout_s=30.0, ttft_timeout_s=2.5)
    back = DriverConfig.from_env(config.to_env())
    assert (back.timeout_s, back.ttft_timeout_s) == (30.0, 2.5)
    assert DriverConfig.from_env(_config().to_env()).ttft_timeout_s is None  # default: off


def _summary(sent: int, failed: int, errors: list[dict[str, object]]) -> dict[str, object]:
    return {"totals": {"sent": sent, "ok": sent - failed, "failed": failed,
                       "error_ratio": failed / sent if sent else None, "errors": errors}}


def test_error_verdict_names_the_dominant_kind_and_an_example() -> None:
    errors = [{"kind": "http_500", "count": 9, "example": "the engine fell over"},
              {"kind": "timeout", "count": 1, "example": None}]
    assert error_verdict(_summary(10, 10, errors), 0.5) == (
        "10 of 10 requests failed (error ratio 1.00), above --max-error-ratio 0.5; most failures "
        "are http_500 (9), e.g. 'the engine fell over'")
    assert error_verdict(_summary(10, 5, errors), 0.5) is None  # at the bound: not above it
    assert error_verdict(_summary(10, 1, errors), 0.0) is not None
    assert error_verdict(_summary(0, 0, []), 0.0) is None  # nothing sent: no ratio exists


@pytest.mark.parametrize("aborted, slo_passed, too_many_errors, want", [
    (True, False, True, 8), (False, False, True, 5), (False, False, False, 7),
    (False, True, False, 0), (False, None, False, 0), (True, None, False, 8),
])
def test_exit_code_precedence_abort_then_error_ratio_then_slo(
        aborted: bool, slo_passed: bool | None, too_many_errors: bool, want: int) -> None:
    assert exit_code(aborted, slo_passed, too_many_errors) == want
