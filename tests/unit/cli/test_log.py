"""``llmsuite log convert``: a run folder's (or one file's) JSONL shards get their mirrors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from suite.cli import cli
from suite.logcolumns import read_mirror
from suite.records import write_jsonl
from tests.unit.analyze.logs import rec


def test_convert_writes_a_complete_mirror_per_shard(tmp_path: Path) -> None:
    for w in (0, 1):
        write_jsonl(tmp_path / f"requests.w{w}.jsonl", [rec(i, worker=f"w{w}", e2e=0.1) for i in range(3)])
    got = CliRunner().invoke(cli, ["log", "convert", str(tmp_path)])
    assert got.exit_code == 0, got.output
    assert got.output.count("wrote ") == 2 and "3 records" in got.output
    for w in (0, 1):
        jsonl = tmp_path / f"requests.w{w}.jsonl"
        mirror = read_mirror(tmp_path / f"requests.w{w}.arrows", jsonl.stat().st_size)
        assert mirror.table is not None and mirror.table.num_rows == 3


def test_convert_of_a_folder_without_logs_is_a_clear_error(tmp_path: Path) -> None:
    got = CliRunner().invoke(cli, ["log", "convert", str(tmp_path)])
    assert got.exit_code != 0
    assert "no requests*.jsonl here" in got.output and "Traceback" not in got.output


def test_convert_names_a_log_outside_the_contract(tmp_path: Path) -> None:
    bad = tmp_path / "requests.jsonl"
    bad.write_bytes(b'{"id": "a", "model": "m", "t_start": 1, "user": "someone"}\n')
    got = CliRunner().invoke(cli, ["log", "convert", str(bad)])
    assert got.exit_code != 0
    assert "does not fit the record contract" in got.output and "llmsuite analyze" in got.output
