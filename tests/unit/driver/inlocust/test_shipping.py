"""Shipping a shard to the master (suite.driver.inlocust.shipping): the two ends over a fake link
that can lose, hold back and duplicate messages; the master's copy must end byte-equal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suite.driver.inlocust.shipping import ShardIn, Shipper, same_file


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Link:
    """Worker → master messages and master → worker acks; ``drop`` decides per message."""

    def __init__(self, master: ShardIn, drop: Any = None) -> None:
        self.master = master
        self.drop = drop or (lambda n: False)
        self.held: list[dict[str, Any]] = []
        self.sent = 0
        self.shipper: Shipper | None = None
        self.hold = False

    def send(self, msg: dict[str, Any]) -> None:
        self.sent += 1
        if self.drop(self.sent):
            return
        self.held.append(msg)
        if not self.hold:
            self.deliver()

    def deliver(self) -> None:
        held, self.held = self.held, []
        for m in held:
            ack = self.master.accept(m["seq"], m["offset"], m["data"], m["lines"])
            if self.shipper is not None and ack >= 0:
                self.shipper.ack(ack)


def lines(n: int, start: int = 0) -> bytes:
    return b"".join(b'{"id":"q%05d","pad":"%s"}\n' % (i, b"x" * (i % 50)) for i in range(start, start + n))


def pair(tmp_path: Path, drop: Any = None, **kw: Any) -> tuple[Path, ShardIn, Link, Shipper, Clock]:
    local = tmp_path / "worker" / "requests.w0.jsonl"
    local.parent.mkdir()
    local.write_bytes(b"")
    master = ShardIn(tmp_path / "master" / "requests.w0.jsonl")
    link, clock = Link(master, drop), Clock()
    shipper = Shipper(local, 0, link.send, clock=clock, **kw)
    link.shipper = shipper
    return local, master, link, shipper, clock


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


def test_every_flushed_line_reaches_the_master_byte_for_byte(tmp_path: Path) -> None:
    local, master, _, shipper, _ = pair(tmp_path, batch_bytes=1000)
    for k in range(5):
        append(local, lines(40, k * 40))
        shipper.pump()
    master.close()
    assert master.path.read_bytes() == local.read_bytes()
    assert shipper.caught_up(local.stat().st_size)
    assert shipper.stats()["records"] == master.records == 200
    assert shipper.stats()["batches"] > 5  # cut into batches of at most 1000 bytes


def test_a_partial_last_line_waits_for_its_end(tmp_path: Path) -> None:
    local, master, _, shipper, _ = pair(tmp_path)
    append(local, lines(3) + b'{"id":"half')
    shipper.pump()
    assert master.records == 3 and not shipper.caught_up(local.stat().st_size)
    append(local, b'"}\n')
    shipper.pump()
    assert master.records == 4 and shipper.caught_up(local.stat().st_size)
    master.close()


def test_a_line_longer_than_a_batch_is_sent_whole(tmp_path: Path) -> None:
    local, master, _, shipper, _ = pair(tmp_path, batch_bytes=64)
    append(local, b'{"id":"big","pad":"' + b"y" * 500 + b'"}\n' + lines(2))
    shipper.pump()
    master.close()
    assert master.path.read_bytes() == local.read_bytes()


def test_lost_batches_and_acks_are_resent_until_the_master_has_everything(tmp_path: Path) -> None:
    local, master, link, shipper, clock = pair(tmp_path, drop=lambda n: n % 3 == 0, batch_bytes=500,
                                               resend_s=1.0)
    append(local, lines(120))
    for _ in range(200):
        shipper.pump()
        clock.now += 0.5
        if shipper.caught_up(local.stat().st_size):
            break
    master.close()
    assert master.path.read_bytes() == local.read_bytes()
    assert shipper.stats()["resent"] > 0
    assert master.out_of_order > 0  # batches after a lost one were refused, then resent in order


def test_a_slow_link_holds_back_reading_not_records(tmp_path: Path) -> None:
    """Back-pressure: with no ack, at most ``window`` batches are out; the shard keeps growing
    locally; once the link delivers, shipping catches up."""
    local, master, link, shipper, clock = pair(tmp_path, batch_bytes=300, window=3, resend_s=100)
    link.hold = True
    for k in range(10):
        append(local, lines(20, k * 20))
        shipper.pump()
    assert len(shipper.unacked) == 3 and shipper.stats()["window_full"] > 0
    assert shipper.read_to < local.stat().st_size  # the rest waits in the local shard
    link.hold = False
    for _ in range(100):
        link.deliver()
        shipper.pump()
        if shipper.caught_up(local.stat().st_size):
            break
    master.close()
    assert master.path.read_bytes() == local.read_bytes() and master.records == 200


def test_the_master_acks_a_duplicate_and_drops_it(tmp_path: Path) -> None:
    master = ShardIn(tmp_path / "requests.w0.jsonl")
    assert master.accept(0, 0, b"a\n", 1) == 0
    assert master.accept(0, 0, b"a\n", 1) == 0  # a resend whose ack was lost
    assert master.accept(2, 4, b"c\n", 1) == 0  # after a gap: refused, not acked
    assert master.accept(1, 2, b"b\n", 1) == 1
    assert master.accept(1, 99, b"x\n", 1) == 1  # wrong offset for the next seq would be a dup
    master.close()
    assert (tmp_path / "requests.w0.jsonl").read_bytes() == b"a\nb\n"
    assert master.stats() == {"records": 2, "bytes": 4, "batches": 2, "duplicates": 2, "out_of_order": 1}


def test_same_file_tells_a_shared_folder_from_another_one(tmp_path: Path) -> None:
    a = tmp_path / "requests.w0.jsonl"
    a.write_bytes(b"")
    (tmp_path / "sub").mkdir()
    assert same_file(a, tmp_path / "sub" / ".." / "requests.w0.jsonl")
    assert not same_file(a, tmp_path / "sub" / "requests.w0.jsonl")  # absent here: another host's
