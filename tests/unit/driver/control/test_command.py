"""The Locust command line and the process topology of a run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from suite.driver.control.command import Topology
from suite.driver.control.loadopts import LoadOptions
from suite.driver.control.runner import (
    LOCUSTFILE,
    locust_command,
)
from suite.errors import SpecError


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
    kept = " ".join(locust_command("http://t", 2, 2.0, 5, csv,
                                   topology=Topology(web=True, web_port=8123, web_keep=True)))
    assert "--autostart -u 2" in kept and "--autoquit" not in kept  # Locust keeps its UI up
    with pytest.raises(SpecError, match="--web-keep .* needs --web"):
        Topology(web_keep=True)
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
