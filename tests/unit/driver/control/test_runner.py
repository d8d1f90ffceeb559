"""The runner's pure parts: run ids, argument checks, the run-outcome table."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from suite.driver.control.runner import (
    _check_locust_args,
    _run_problem,
    _validate,
    driver_config,
    new_run_id,
)
from suite.driver.exchange.record import check_log
from suite.errors import SpecError

FINAL = {"extra": {"final": True, "sent": 2}}


def test_run_id_format() -> None:
    assert new_run_id(datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "abc123") == \
        "20250102-030405-abc123"
    assert len(new_run_id()) == len("20250102-030405-abc123")
    assert new_run_id() != new_run_id()


def test_driver_config_takes_further_fields_by_name(tmp_path: Path) -> None:
    base = {"corpus": tmp_path / "c", "out": tmp_path / "o", "run_meta": tmp_path / "m", "run_id": "x"}
    assert driver_config(base, {"timeout_s": 9.0}).timeout_s == 9.0
    with pytest.raises(SpecError, match="driver option\\(s\\) colour unknown; known: "):
        driver_config(base, {"colour": "blue"})


@pytest.mark.parametrize("args, message", [
    ((0, 1.0, 5.0, "http://x"), "users: 0 is not valid (must be >= 1)."),
    ((1, 0.0, 5.0, "http://x"), "spawn_rate: 0.0 is not valid (must be > 0 users per second)."),
    ((1, 1.0, 0.0, "http://x"), "duration: 0.0 s is not valid (must be > 0)."),
    ((1, 1.0, 1.0, "127.0.0.1:8000"),
     "target: '127.0.0.1:8000' is not an http(s) URL, e.g. http://127.0.0.1:8000"),
])
def test_validate_messages(args: tuple[int, float, float, str], message: str) -> None:
    with pytest.raises(SpecError) as err:
        _validate(*args)
    assert str(err.value) == message


@pytest.mark.parametrize("args, message", [
    (["--processes", "4"], "locust_args: '--processes' is not allowed (pass topology=Topology(processes=N) "
     "or role='master'/'worker' instead, so the corpus is split between workers with no request sent "
     "twice)."),
    (["--run-time=5s"], "locust_args: '--run-time=5s' is not allowed (run_load sets it from its "
     "own arguments)."),
])
def test_reserved_locust_args(args: list[str], message: str) -> None:
    with pytest.raises(SpecError) as err:
        _check_locust_args(args)
    assert str(err.value) == message
    _check_locust_args(["--loglevel", "DEBUG", "--reset-stats"])  # others pass through


@pytest.mark.parametrize("code, overran, log, sent, meta, want", [
    (0, False, [b'{"id":"a"}', b'{"id":"b"}'], 2, FINAL, None),
    (0, True, [], None, {}, "Locust overran its time budget and was stopped by PID"),
    (1, False, [], None, {}, "Locust exited with code 1"),
    (0, False, [b'{"id":"a"}'], 1, {"extra": {"final": False}},
     "run.json was not finalised (Locust did not reach test stop)"),
    (0, False, [], 0, FINAL, "no request was recorded (requests.jsonl is empty)"),
    (0, False, [b'{"id":"a"}'], 2, FINAL,
     "the request log breaks Rule 1: 2 request(s) sent but 1 record(s) written"),
], ids=["ok", "overran", "exit-code", "not-final", "empty", "lost-record"])
def test_run_outcome_table(code: int, overran: bool, log: list[bytes], sent: int | None,
                           meta: dict, want: str | None) -> None:
    assert _run_problem(code, overran, check_log(log, sent), meta) == want


def test_an_interrupted_run_is_judged_on_its_log_alone() -> None:
    assert _run_problem(-15, False, check_log([b'{"id":"a"}'], 1), {}, interrupted=True) is None
    assert _run_problem(-15, False, check_log([], 0), {}, interrupted=True) is None  # nothing sent yet
    assert _run_problem(-15, False, check_log([b'{"id":"a"}'], 2), {}, interrupted=True) == (
        "the request log breaks Rule 1: 2 request(s) sent but 1 record(s) written")
