"""A real run on the mock writes each shard twice — JSONL and its columnar mirror — and analyze
reads the mirror, giving the summary the JSONL gives (but for ``run.log_source``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from suite.analyze.pipeline import SUMMARY_FILE, analyze_and_write
from suite.driver import run_load
from suite.driver.control.runner import Topology
from suite.logcolumns import mirror_path, read_mirror
from tests.integration.driver.test_targets import corpus

pytestmark = pytest.mark.integration


def summary_bytes(run_dir: Path) -> bytes:
    analyze_and_write(run_dir)
    return (run_dir / SUMMARY_FILE).read_bytes()


@pytest.mark.parametrize("processes", [None, 2])
def test_a_run_writes_a_complete_mirror_that_analyze_reads(
        tmp_path: Path, mock_server_factory: Callable[..., Any], processes: int | None) -> None:
    server = mock_server_factory(cache="memory")
    corpus(tmp_path / "c.jsonl", 30, "gpt-4o")
    topo = Topology(processes=processes) if processes else None
    result = run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=3, spawn_rate=30,
                      duration_s=20, topology=topo)
    assert result.complete and result.records == 30
    run_dir = result.log_files[0].parent
    for shard in result.log_files:
        got = read_mirror(mirror_path(shard), shard.stat().st_size)
        assert got.table is not None, got.why
        lines = shard.read_bytes().splitlines()
        assert got.table.column("id").to_pylist() == [orjson.loads(line)["id"] for line in lines]

    columnar = orjson.loads(summary_bytes(run_dir))
    source = columnar["run"].pop("log_source")
    assert source["format"] == "arrow-ipc"
    assert source["files"] == [str(mirror_path(p)) for p in result.log_files]

    plain_dir = tmp_path / "plain"
    shutil.copytree(run_dir, plain_dir, ignore=shutil.ignore_patterns("*.arrows", "summary.json"))
    plain = summary_bytes(plain_dir)
    # the same bytes once the folder's own name and the noted source are set aside
    expected = plain.replace(str(plain_dir).encode(), str(run_dir).encode())
    assert orjson.dumps(columnar, option=orjson.OPT_INDENT_2) + b"\n" == expected
