"""run.json: written atomically, read back, versions recorded."""

from __future__ import annotations

from pathlib import Path

from suite.driver.control.meta import read_run_meta, versions, write_run_meta
from suite.records import RunMeta


def test_run_meta_round_trip(tmp_path: Path) -> None:
    meta = RunMeta(run_id="r", target="http://t", corpus="c", corpus_sha256="0" * 64, users=2,
                   duration_s=5.0, started=1.0, versions=versions(), extra={"sent": 3})
    write_run_meta(tmp_path / "run.json", meta)
    back = read_run_meta(tmp_path / "run.json")
    assert back is not None
    assert back["extra"] == {"sent": 3}
    assert back["users"] == 2
    assert {"python", "suite", "locust"} <= set(back["versions"])
    assert read_run_meta(tmp_path / "missing.json") is None
