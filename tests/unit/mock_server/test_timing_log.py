"""``--timing-log``: the documented line shape, batched writes, a clear error for a bad path."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from mock_server.timing_log import TimingLog, timing_record
from suite.errors import SpecError


def test_timing_record_has_exactly_the_documented_keys() -> None:
    rec = timing_record("r-1", "fixed-200ms", "off", 1700000000.5, [10.2, 10.22, 10.22], 10.25,
                        10.0, 0.2, 3)
    assert list(rec) == ["request_id", "model", "cache", "t_recv", "ttft_s", "e2e_s",
                         "ttft_target_s", "itl_s", "completion_tokens", "key", "served_key",
                         "match", "similarity"]
    assert rec["cache"] == "miss"  # no cache configured: generated, so a miss
    assert rec["ttft_s"] == pytest.approx(0.2)
    assert rec["e2e_s"] == pytest.approx(0.25)
    assert rec["itl_s"] == pytest.approx([0.02, 0.0])  # coalesced tokens: a gap of 0
    plain = timing_record(None, "m", "hit", 1.0, None, 10.1, 10.0, 0.0, 2)
    assert (plain["request_id"], plain["cache"], plain["ttft_s"], plain["itl_s"]) == \
        (None, "hit", None, [])


def test_timing_log_writes_in_batches_and_on_close(tmp_path: Path) -> None:
    path = tmp_path / "timing.jsonl"
    log = TimingLog(path, batch=3)
    for i in range(4):
        log.add({"request_id": str(i)})
    assert [orjson.loads(x)["request_id"] for x in path.read_bytes().splitlines()] == ["0", "1", "2"]
    log.close()
    assert len(path.read_bytes().splitlines()) == 4


def test_unwritable_timing_log_names_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "missing-dir" / "t.jsonl"
    with pytest.raises(SpecError, match=r"--timing-log: cannot open .*missing-dir.* writable folder"):
        TimingLog(bad)
