"""Shipping a worker's request log to the master: the two ends of an acknowledged byte stream.

Multi-host runs otherwise leave each worker's records on its own host. A worker reads its *own
local shard* (``requests.w<i>.jsonl``, written and flushed by suite.driver.inlocust.sink as
always) from where it last stopped, cuts the new complete lines into batches and sends them to
the master with a sequence number and the byte offset they start at. Why read the file back
rather than tap the writer: the local shard is then the only buffer. A slow link never holds
records in memory nor slows the users down (back-pressure, not loss): at most ``window`` batches
are unacknowledged; when the window is full the shipper stops reading and the shard simply grows
until the acks catch up. And the shard stays complete on the worker's host as the fallback.

The master appends a batch to its own ``requests.w<i>.jsonl`` only when it is the next one (its
``seq`` and ``offset`` follow what it holds) and acknowledges cumulatively (the highest sequence
number it holds); a duplicate (a resend whose ack was lost) is acknowledged and dropped, a batch
after a gap is dropped unacknowledged. The worker resends every unacknowledged batch, in order,
when no ack came for ``resend_s`` (go-back-N). So the master's shard is a byte-for-byte prefix
of the worker's, and equal to it once every batch is acknowledged.

Both classes are free of Locust and gevent (suite.driver.inlocust.shiplink carries the messages).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

DEFAULT_WINDOW = 8
DEFAULT_BATCH_BYTES = 256 * 1024
DEFAULT_RESEND_S = 2.0


@dataclass
class Batch:
    seq: int
    offset: int
    data: bytes
    lines: int
    sent_at: float = 0.0

    def message(self, index: int) -> dict[str, Any]:
        return {"index": index, "seq": self.seq, "offset": self.offset, "data": self.data,
                "lines": self.lines}


class Shipper:
    """The worker's end: reads its shard's new complete lines, keeps the unacknowledged batches."""

    def __init__(self, path: Path, index: int, send: Callable[[dict[str, Any]], None], *,
                 window: int = DEFAULT_WINDOW, batch_bytes: int = DEFAULT_BATCH_BYTES,
                 resend_s: float = DEFAULT_RESEND_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.index = index
        self.send = send
        self.window = window
        self.batch_bytes = batch_bytes
        self.resend_s = resend_s
        self.clock = clock
        self.read_to = 0  # bytes of the shard cut into batches so far
        self.next_seq = 0
        self.unacked: deque[Batch] = deque()
        self.shipped_records = 0  # acknowledged: held by the master
        self.shipped_bytes = 0
        self.batches = 0
        self.resent = 0
        self.window_full = 0  # pumps that found the window full (the link lagging behind)
        self.draining = False  # the end-of-run drain pumps alone (sends stay in order)
        self._last_ack = clock()

    def pump(self) -> int:
        """Send batches of the shard's new complete lines while the window has room; resend the
        unacknowledged ones when their ack is overdue. Returns the batches sent now."""
        now = self.clock()
        sent = 0
        if self.unacked and now - self._last_ack >= self.resend_s:
            again = list(self.unacked)  # an ack may arrive while sending
            for batch in again:
                batch.sent_at = now
                self.send(batch.message(self.index))
            self.resent += len(again)
            self._last_ack = now  # give the resent batches their own resend_s
        while len(self.unacked) < self.window:
            batch = self._next_batch()
            if batch is None:
                return sent
            batch.sent_at = now
            if not self.unacked:
                self._last_ack = now
            self.unacked.append(batch)
            self.send(batch.message(self.index))
            self.batches += 1
            sent += 1
        self.window_full += 1
        return sent

    def _next_batch(self) -> Batch | None:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.read_to)
                chunk = fh.read(self.batch_bytes)
        except FileNotFoundError:
            return None
        end = chunk.rfind(b"\n") + 1
        if end == 0:
            if len(chunk) < self.batch_bytes:
                return None  # no complete line yet
            return self._long_line()
        data = chunk[:end]
        batch = Batch(self.next_seq, self.read_to, data, data.count(b"\n"))
        self.read_to += end
        self.next_seq += 1
        return batch

    def _long_line(self) -> Batch | None:
        """A single line longer than a batch: read on to its end (records are never cut)."""
        with self.path.open("rb") as fh:
            fh.seek(self.read_to)
            line = fh.readline()
        if not line.endswith(b"\n"):
            return None
        batch = Batch(self.next_seq, self.read_to, line, 1)
        self.read_to += len(line)
        self.next_seq += 1
        return batch

    def ack(self, seq: int) -> None:
        """The master holds every batch up to ``seq`` (cumulative)."""
        moved = False
        while self.unacked and self.unacked[0].seq <= seq:
            batch = self.unacked.popleft()
            self.shipped_records += batch.lines
            self.shipped_bytes += len(batch.data)
            moved = True
        if moved:
            self._last_ack = self.clock()

    def caught_up(self, shard_bytes: int) -> bool:
        """Every byte of a shard of ``shard_bytes`` is acknowledged."""
        return not self.unacked and self.shipped_bytes >= shard_bytes

    def stats(self) -> dict[str, Any]:
        return {"records": self.shipped_records, "bytes": self.shipped_bytes, "batches": self.batches,
                "resent": self.resent, "unacked": len(self.unacked), "window": self.window,
                "window_full": self.window_full}


class ShardIn:
    """One worker's shard as the master receives it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.next_seq = 0
        self.bytes = 0
        self.records = 0
        self.duplicates = 0
        self.out_of_order = 0
        self._fh: BinaryIO | None = path.open("wb")
        self.tap: Callable[[bytes], None] | None = None  # e.g. the master's columnar mirror
        self.on_close: Callable[[], None] | None = None

    def accept(self, seq: int, offset: int, data: bytes, lines: int) -> int:
        """Append the batch when it is the next one; returns the cumulative ack (-1: none yet)."""
        if seq < self.next_seq:
            self.duplicates += 1
        elif seq == self.next_seq and offset == self.bytes and self._fh is not None:
            self._fh.write(data)
            self._fh.flush()
            if self.tap is not None:
                self.tap(data)
            self.next_seq += 1
            self.bytes += len(data)
            self.records += lines
        else:
            self.out_of_order += 1
        return self.next_seq - 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            if self.on_close is not None:
                self.on_close()

    def stats(self) -> dict[str, Any]:
        return {"records": self.records, "bytes": self.bytes, "batches": self.next_seq,
                "duplicates": self.duplicates, "out_of_order": self.out_of_order}


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file on this host (a worker writing into the master's folder)."""
    try:
        return a.samefile(b)
    except OSError:
        return False
