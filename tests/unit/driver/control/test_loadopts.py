"""Load options: validation messages and the trip through the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.driver.control import config as cfg
from suite.driver.control.config import DriverConfig
from suite.driver.control.loadopts import LoadOptions
from suite.errors import SpecError


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
