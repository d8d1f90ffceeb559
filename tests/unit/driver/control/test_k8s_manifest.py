"""corpora/k8s/: the Kubernetes manifest of a distributed run (unapplied: no cluster here). Its
YAML parses, and what must agree between master and workers does, with options the CLI has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from suite.cli import cli
from suite.driver.control.group import FINISH_MARGIN_S
from suite.driver.control.runargs import STOP_TIMEOUT_S

MANIFEST = Path(__file__).resolve().parents[4] / "corpora" / "k8s" / "llmsuite-distributed.yaml"


def docs() -> dict[str, dict[str, Any]]:
    out = {}
    for doc in yaml.safe_load_all(MANIFEST.read_text()):
        out[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return out


def container(job: dict[str, Any]) -> dict[str, Any]:
    (one,) = job["spec"]["template"]["spec"]["containers"]
    return one


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_the_manifest_is_a_master_job_its_service_and_a_worker_job() -> None:
    got = docs()
    assert set(got) == {"Service/llmsuite-master", "PersistentVolumeClaim/llmsuite-reports",
                        "Job/llmsuite-master", "Job/llmsuite-workers"}
    master, workers = container(got["Job/llmsuite-master"]), container(got["Job/llmsuite-workers"])
    assert master["image"] == workers["image"]  # one image, one CLI
    service = got["Service/llmsuite-master"]
    assert service["spec"]["selector"] == got["Job/llmsuite-master"]["spec"]["template"]["metadata"]["labels"]
    port = service["spec"]["ports"][0]["targetPort"]
    assert option(workers["args"], "--master-host") == "llmsuite-master"
    assert int(option(workers["args"], "--master-port")) == port
    assert int(option(master["args"], "--master-port")) == port
    spec = got["Job/llmsuite-workers"]["spec"]
    assert int(option(master["args"], "--expect-workers")) == spec["parallelism"] == spec["completions"]
    for name in ("--corpus", "--target", "--users", "--duration"):
        assert option(master["args"], name) == option(workers["args"], name)
    # a deleted master drains its workers before Kubernetes kills it (suite.driver.control.group)
    args = master["args"]
    stop = float(option(args, "--stop-timeout")) if "--stop-timeout" in args else STOP_TIMEOUT_S
    grace = got["Job/llmsuite-master"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= stop + FINISH_MARGIN_S


@pytest.mark.parametrize("job", ["Job/llmsuite-master", "Job/llmsuite-workers"])
def test_its_command_lines_are_ones_llmsuite_run_accepts(job: str) -> None:
    args = container(docs()[job])["args"]
    assert args[:2] == ["llmsuite", "run"]
    command = cli.commands["run"]
    assert isinstance(command, click.Command)
    known = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    assert [a for a in args[2:] if a.startswith("--") and a not in known] == []
    ctx = command.make_context("run", list(args[2:]), resilient_parsing=True)  # values convert
    assert ctx.params["run_id"] == "k8s-run" and ctx.params["master_port"] == 5557
