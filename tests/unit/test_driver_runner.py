"""The runner's pure parts: env contract, command line, run-outcome table, messages, progress."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from suite.driver import config as cfg
from suite.driver.config import DriverConfig
from suite.driver.health import hint, unreachable_message
from suite.driver.meta import read_run_meta, versions, write_run_meta
from suite.driver.record import check_log
from suite.driver.runner import (
    LOCUSTFILE,
    LineCounter,
    _check_locust_args,
    _run_problem,
    _validate,
    locust_command,
    new_run_id,
)
from suite.errors import SpecError
from suite.records import RunMeta


def test_config_round_trips_through_the_environment(tmp_path: Path) -> None:
    conf = DriverConfig(corpus=tmp_path / "c.jsonl", out=tmp_path / "r" / "requests.jsonl",
                        run_meta=tmp_path / "r" / "run.json", run_id="rid", api_key="sk-test",
                        timeout_s=30.0, duration_s=12.5, spawn_rate=4.0)
    env = conf.to_env()
    assert env[cfg.ENV_API_KEY] == "sk-test"
    assert DriverConfig.from_env(env) == conf


def test_config_without_api_key_sets_no_key_variable(tmp_path: Path) -> None:
    conf = DriverConfig(corpus=tmp_path / "c", out=tmp_path / "o", run_meta=tmp_path / "m",
                        run_id="x")
    assert cfg.ENV_API_KEY not in conf.to_env()
    assert DriverConfig.from_env(conf.to_env()).target_path == "/v1/chat/completions"


@pytest.mark.parametrize("env, message", [
    ({}, "the driver's locustfile needs LLMSUITE_CORPUS and LLMSUITE_OUT in its environment; "
         "start runs with `llmsuite run` or suite.driver.run_load."),
    ({cfg.ENV_CORPUS: "c", cfg.ENV_OUT: "o", cfg.ENV_TARGET_PATH: "v1/chat"},
     "LLMSUITE_TARGET_PATH='v1/chat' must start with '/', e.g. /v1/chat/completions"),
    ({cfg.ENV_CORPUS: "c", cfg.ENV_OUT: "o", cfg.ENV_TIMEOUT: "soon"},
     "LLMSUITE_TIMEOUT_S='soon' is not a number."),
    ({cfg.ENV_CORPUS: "c", cfg.ENV_OUT: "o", cfg.ENV_TIMEOUT: "-1"},
     "LLMSUITE_TIMEOUT_S='-1' must be > 0."),
])
def test_config_errors_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SpecError) as err:
        DriverConfig.from_env(env)
    assert str(err.value) == message


def test_run_id_format() -> None:
    assert new_run_id(datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "abc123") == \
        "20250102-030405-abc123"
    assert len(new_run_id()) == len("20250102-030405-abc123")
    assert new_run_id() != new_run_id()


def test_locust_command(tmp_path: Path) -> None:
    cmd = locust_command("http://127.0.0.1:9", 8, 2.5, 9.2, tmp_path / "locust", ["--loglevel", "DEBUG"],
                         stop_timeout_s=5)
    assert cmd[:5] == [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    joined = " ".join(cmd[5:])
    assert "--headless -u 8 -r 2.5 -t 10s --stop-timeout 5 --host http://127.0.0.1:9" in joined
    assert f"--only-summary --csv {tmp_path / 'locust'} --exit-code-on-error 0 --loglevel DEBUG" in joined
    assert LOCUSTFILE.exists()


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
    (["--processes", "4"], "locust_args: '--processes' is not allowed (distributed runs are not "
     "supported yet: every process would replay the whole corpus, so each request would be sent "
     "more than once)."),
    (["--run-time=5s"], "locust_args: '--run-time=5s' is not allowed (run_load sets it from its "
     "own arguments)."),
])
def test_reserved_locust_args(args: list[str], message: str) -> None:
    with pytest.raises(SpecError) as err:
        _check_locust_args(args)
    assert str(err.value) == message
    _check_locust_args(["--loglevel", "DEBUG", "--reset-stats"])  # others pass through


FINAL = {"extra": {"final": True, "sent": 2}}


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


def test_unreachable_message_word_for_word() -> None:
    assert unreachable_message("http://127.0.0.1:8000/health", "connection refused",
                               "http://127.0.0.1:8000") == (
        "cannot reach target http://127.0.0.1:8000/health (connection refused). Is the mock "
        "server running? Start it with: llmsuite mock --port 8000")
    assert hint("https://api.example.com") == (
        "Check the target URL and that the engine is running and reachable from here.")


def test_line_counter_counts_only_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    counter = LineCounter(path)
    assert counter.count() == 0  # not created yet
    path.write_bytes(b'{"id":"a"}\n{"id":')
    assert counter.count() == 1
    with path.open("ab") as fh:
        fh.write(b'"b"}\n{"id":"c"}\n')
    assert counter.count() == 3


def test_run_meta_round_trip(tmp_path: Path) -> None:
    meta = RunMeta(run_id="r", target="http://t", corpus="c", corpus_sha256="0" * 64, users=2,
                   duration_s=5.0, started=1.0, versions=versions(), extra={"sent": 3})
    write_run_meta(tmp_path / "run.json", meta)
    back = read_run_meta(tmp_path / "run.json")
    assert back is not None and back["extra"] == {"sent": 3} and back["users"] == 2
    assert {"python", "suite", "locust"} <= set(back["versions"])
    assert read_run_meta(tmp_path / "missing.json") is None


def test_importing_the_driver_api_does_not_import_locust_or_gevent() -> None:
    code = ("import sys, suite.driver; "
            "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_runner_doctests() -> None:
    import doctest

    import suite.driver.runner as runner

    assert doctest.testmod(runner).failed == 0
