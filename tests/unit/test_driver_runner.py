"""The runner's pure parts: env contract, command line, run-outcome table, messages, progress."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from suite.driver import config as cfg
from suite.driver.command import Topology
from suite.driver.config import DriverConfig
from suite.driver.health import hint, unreachable_message
from suite.driver.loadopts import LoadOptions
from suite.driver.meta import read_run_meta, versions, write_run_meta
from suite.driver.record import check_log
from suite.driver.runner import (
    LOCUSTFILE,
    LineCounter,
    LogCounter,
    _check_locust_args,
    _run_problem,
    _validate,
    driver_config,
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
    assert "--headless --only-summary -u 8 -r 2.5 -t 10s --stop-timeout 5 --host http://127.0.0.1:9" in joined
    assert f"--csv {tmp_path / 'locust'} --exit-code-on-error 0 --loglevel DEBUG" in joined
    assert LOCUSTFILE.exists()


def test_locust_command_for_open_loop_presets_processes_and_web(tmp_path: Path) -> None:
    csv = tmp_path / "locust"
    open_loop = " ".join(locust_command("http://t", 8, 2.0, 5, csv, load=LoadOptions(mode="open"),
                                        topology=Topology(processes=3, master_port=5999)))
    assert "-u 3 -r 150 --stop-timeout" in open_loop  # one scheduling user per worker, at once
    assert "-t" not in open_loop.split()  # the master times a distributed run once all are ready
    assert ("--processes 3 --master-bind-host 127.0.0.1 --master-host 127.0.0.1 --master-bind-port 5999 "
            "--master-port 5999") in open_loop
    preset = locust_command("http://t", 8, 2.0, 5, csv, load=LoadOptions(preset="spike"))
    assert not {"-u", "-r", "-t"} & set(preset)  # the shape class drives users and the end
    web = " ".join(locust_command("http://t", 2, 2.0, 5, csv, topology=Topology(web=True, web_port=8123)))
    assert "--web-host 127.0.0.1 --web-port 8123 --autostart --autoquit 5 -u 2 -r 2 -t 5s" in web
    assert "--headless" not in web
    worker = locust_command("http://t", 2, 2.0, 5, csv,
                            topology=Topology(role="worker", master_host="10.0.0.1"))
    assert worker[5:] == ["--worker", "--master-host", "10.0.0.1", "--master-port", "5557", "--host", "http://t"]
    master = " ".join(locust_command("http://t", 2, 2.0, 5, csv,
                                     topology=Topology(role="master", expect_workers=4)))
    assert "--master --expect-workers 4 --master-bind-host * --master-bind-port 5557" in master


@pytest.mark.parametrize("kwargs, message", [
    ({"processes": 2, "role": "master"}, "--processes starts its own master and workers on this host; "
     "it cannot be combined with --master or --worker."),
    ({"role": "boss"}, "role: 'boss' is not one of local, master, worker."),
    ({"expect_workers": 0}, "expect_workers: 0 is not valid (must be >= 1)."),
])
def test_topology_messages(kwargs: dict, message: str) -> None:
    with pytest.raises(SpecError) as err:
        Topology(**kwargs)
    assert str(err.value) == message


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "burst"}, "mode: 'burst' is not one of closed, open."),
    ({"rate": 0.0}, "rate: 0.0 is not valid (must be > 0 requests per second)."),
    ({"abort_error_ratio": 1.5}, "abort_error_ratio: 1.5 is not valid (must be in (0, 1], e.g. 0.5)."),
    ({"max_requests": 0}, "max_requests: 0 is not valid (must be >= 1)."),
    ({"warmup_s": -1.0}, "warmup_s: -1.0 s is not valid (must be >= 0)."),
    ({"prometheus_port": 70000}, "prometheus_port: 70000 is not a TCP port (1..65535)."),
    ({"mode": "open", "preset": "load"}, "--preset and --affinity shape closed-loop users; an open-loop "
     "run sends at arrival times instead. Drop them or drop --open-loop."),
])
def test_load_options_messages(kwargs: dict, message: str) -> None:
    with pytest.raises(SpecError) as err:
        LoadOptions(**kwargs)
    assert str(err.value) == message


def test_load_options_cross_the_environment(tmp_path: Path) -> None:
    load = LoadOptions(mode="open", rate=12.5, arrival="constant", seed=3, warmup_s=2.0,
                       abort_error_ratio=0.5, health_failures=3, prometheus_port=9100)
    conf = DriverConfig(corpus=tmp_path / "c", out=tmp_path / "o", run_meta=tmp_path / "m", run_id="x",
                        load=load)
    assert DriverConfig.from_env(conf.to_env()).load == load
    assert cfg.ENV_LOAD not in DriverConfig(corpus=tmp_path, out=tmp_path, run_meta=tmp_path,
                                            run_id="x").to_env()
    with pytest.raises(SpecError, match="LLMSUITE_LOAD: unknown option\\(s\\) users; known: "):
        LoadOptions.from_json('{"users": 3}')


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


def test_an_interrupted_run_is_judged_on_its_log_alone() -> None:
    assert _run_problem(-15, False, check_log([b'{"id":"a"}'], 1), {}, interrupted=True) is None
    assert _run_problem(-15, False, check_log([], 0), {}, interrupted=True) is None  # nothing sent yet
    assert _run_problem(-15, False, check_log([b'{"id":"a"}'], 2), {}, interrupted=True) == (
        "the request log breaks Rule 1: 2 request(s) sent but 1 record(s) written")


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


def test_log_counter_sums_every_shard(tmp_path: Path) -> None:
    counter = LogCounter(tmp_path)
    (tmp_path / "requests.w0.jsonl").write_bytes(b'{"id":"a"}\n')
    assert counter.count() == 1
    (tmp_path / "requests.w1.jsonl").write_bytes(b'{"id":"b"}\n{"id":"c"}\n')
    assert counter.count() == 3


def test_batch_writer_flushes_whole_lines_by_count_and_on_close(tmp_path: Path) -> None:
    from suite.driver.sink import BatchWriter
    from suite.records import RequestRecord

    path = tmp_path / "requests.jsonl"
    writer = BatchWriter(path, batch=3, interval_s=3600)
    for i in range(4):
        writer.write(RequestRecord(id=f"r{i}", model="m", target="t", worker="w", user=0, t_start=1.0))
    assert writer.count == 4 and writer.flushes == 1
    assert path.read_bytes().count(b"\n") == 3  # one batch of 3 on disk, 1 pending
    writer.close()
    assert [line[:9] for line in path.read_bytes().splitlines()] == [b'{"cache":'] * 4
    assert check_log(path.read_bytes().splitlines(), 4).complete
    with pytest.raises(ValueError, match="writer is closed; a record would be lost"):
        writer.write(RequestRecord(id="x", model="m", target="t", worker="w", user=0, t_start=1.0))


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
