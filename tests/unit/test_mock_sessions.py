"""Engine sessions (bounded conversation history) and the timing log's line format — pure."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from mock_server.sessions import Sessions
from mock_server.timing_log import TimingLog, timing_record
from suite.errors import SpecError

SYSTEM = {"role": "system", "content": "User level: new"}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def test_conversation_grows_turn_by_turn_before_the_new_message() -> None:
    s = Sessions()
    assert s.conversation("a", [SYSTEM, user("q1")]) == [SYSTEM, user("q1")]
    s.remember("a", user("q1"), "a1")
    assert s.conversation("a", [SYSTEM, user("q2")]) == [
        SYSTEM, user("q1"), {"role": "assistant", "content": "a1"}, user("q2")]
    assert s.conversation("b", [user("q2")]) == [user("q2")]  # sessions never mix


def test_history_and_sessions_are_bounded() -> None:
    s = Sessions(max_turns=2, max_sessions=2)
    for i in range(3):
        s.remember("a", user(f"q{i}"), f"a{i}")
    assert s.turns("a") == 2
    assert s.conversation("a", [user("next")])[0] == user("q1")  # the oldest turn was dropped
    s.remember("b", user("x"), "y")
    s.conversation("a", [user("touch")])  # a is now the most recently used
    s.remember("c", user("x"), "y")
    assert (len(s), s.turns("a"), s.turns("b"), s.turns("c")) == (2, 2, 0, 1)


def test_timing_record_has_exactly_the_documented_keys() -> None:
    rec = timing_record("r-1", "fixed-200ms", "off", 1700000000.5, [10.2, 10.22, 10.22], 10.25,
                        10.0, 0.2, 3)
    assert list(rec) == ["request_id", "model", "cache", "t_recv", "ttft_s", "e2e_s",
                         "ttft_target_s", "itl_s", "completion_tokens"]
    assert rec["cache"] == "miss"  # no cache configured: generated, so a miss
    assert rec["ttft_s"] == pytest.approx(0.2) and rec["e2e_s"] == pytest.approx(0.25)
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
