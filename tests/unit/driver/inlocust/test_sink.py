"""The batched request-log writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.driver.exchange.record import check_log


def test_batch_writer_flushes_whole_lines_by_count_and_on_close(tmp_path: Path) -> None:
    from suite.driver.inlocust.sink import BatchWriter
    from suite.records import RequestRecord

    path = tmp_path / "requests.jsonl"
    writer = BatchWriter(path, batch=3, interval_s=3600)
    for i in range(4):
        writer.write(RequestRecord(id=f"r{i}", model="m", target="t", worker="w", user=0, t_start=1.0))
    assert writer.count == 4
    assert writer.flushes == 1
    assert path.read_bytes().count(b"\n") == 3  # one batch of 3 on disk, 1 pending
    writer.close()
    assert [line[:9] for line in path.read_bytes().splitlines()] == [b'{"cache":'] * 4
    assert check_log(path.read_bytes().splitlines(), 4).complete
    with pytest.raises(ValueError, match="writer is closed; a record would be lost"):
        writer.write(RequestRecord(id="x", model="m", target="t", worker="w", user=0, t_start=1.0))


def test_the_sent_journal_keeps_the_ids_in_flight_longest_first(tmp_path: Path) -> None:
    from suite.driver.inlocust.sink import SentJournal

    journal = SentJournal(tmp_path / "sent.w0.ids")
    for rid in ("a", "b", "c", "d"):
        journal.note(rid)
    journal.answered("b")
    journal.answered("zz")  # never noted (a retry's second answer, say): nothing to drop
    assert journal.in_flight(10) == ["a", "c", "d"]
    assert journal.in_flight(2) == ["a", "c"]
    journal.close(remove=False)
    assert (tmp_path / "sent.w0.ids").read_text().split() == ["a", "b", "c", "d"]  # every send, as before
