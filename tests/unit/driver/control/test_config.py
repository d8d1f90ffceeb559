"""The environment-variable contract between the runner and the Locust child."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.driver.control import config as cfg
from suite.driver.control.config import DriverConfig
from suite.driver.control.requestopts import RequestOptions
from suite.errors import SpecError


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


def test_engine_kind_gets_its_default_path_from_the_environment(tmp_path) -> None:
    env = {"LLMSUITE_CORPUS": "c", "LLMSUITE_OUT": str(tmp_path / "r.jsonl"),
           "LLMSUITE_REQUEST": RequestOptions(kind="engine").to_json()}
    assert DriverConfig.from_env(env).target_path == "/api/chat"
