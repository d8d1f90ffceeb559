"""The request log as the driver writes it: appended incrementally, flushed in batches.

A flush per record costs a system call per request, so each line goes into the file object's own
(C) buffer and is handed to the OS when ``batch`` records are pending or ``interval_s`` has passed
since the last flush (checked on every write, and by the locustfile's flusher every ``interval_s``
so a quiet run is not held back). Joining a batch in Python before writing it was slower than
letting the file object buffer the lines (big temporary buffers).

With ``headers`` (the run's cache-header allow-list) it also keeps a columnar mirror,
``requests[.wN].arrows`` (suite.driver.inlocust.columnar), shipped at the flushes; the mirror
is never ahead of the JSONL, and a log that already had records when opened is not mirrored
(the mirror would lack them).

``close`` flushes the rest; the locustfile registers it ``atexit``, so a normal end, Ctrl-C,
SIGTERM or a Python exception keeps every record; only a hard kill (SIGKILL, power loss) can lose
the last ``interval_s`` of them (and leave a partial last line, which ``check_log`` reports).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from suite.driver.exchange.record import record_line
from suite.driver.inlocust.columnar import ColumnarMirror, enabled
from suite.records import RequestRecord

DEFAULT_BATCH = 64
DEFAULT_INTERVAL_S = 0.1
BUFFER_BYTES = 1 << 16


class BatchWriter:
    """Append-only JSONL writer; ``count`` is the number of records accepted (written or pending)."""

    def __init__(self, path: Path, batch: int = DEFAULT_BATCH,
                 interval_s: float = DEFAULT_INTERVAL_S, headers: Sequence[str] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.batch = batch
        self.interval_s = interval_s
        self.count = 0
        self.flushes = 0
        self._pending = 0
        self._last = time.monotonic()
        self._fh: BinaryIO | None = path.open("ab", buffering=BUFFER_BYTES)
        fresh = self._fh.tell() == 0
        self.mirror = ColumnarMirror(path, headers) if headers is not None and fresh and enabled() else None

    def write(self, record: RequestRecord) -> None:
        if self._fh is None:
            raise ValueError(f"{self.path}: writer is closed; a record would be lost")
        line = record_line(record)
        self._fh.write(line)
        if self.mirror is not None:
            self.mirror.add(line)
        self.count += 1
        self._pending += 1
        if self._pending >= self.batch or time.monotonic() - self._last >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        """Hand every pending record to the OS."""
        self._last = time.monotonic()
        if not self._pending or self._fh is None:
            return
        self._fh.flush()
        self._pending = 0
        self.flushes += 1
        if self.mirror is not None and self.mirror.due():
            self.mirror.ship()

    def close(self) -> None:
        if self._fh is not None:
            self.flush()
            size = self._fh.tell()
            self._fh.close()
            self._fh = None
            if self.mirror is not None:
                self.mirror.close(size, self.count)


class SentJournal:
    """A distributed worker's ids of the requests it has sent, one per line, written *before* each
    send with one unbuffered ``write`` (the kernel keeps it even if the process is SIGKILLed next).

    When a worker dies, its records say what finished; this says what was sent, so the runner names
    the requests it had in flight (suite.driver.control.collect). One system call per request, on
    workers only; removed when the worker ends normally (nothing is missing then)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o644)
        # the ids sent and not yet recorded, oldest first: a worker on another host reports them
        # to the master (its journal file stays on its host, suite.driver.inlocust.shiplink)
        self._flying: dict[str, None] = {}

    def note(self, request_id: str) -> None:
        if self._fd is not None:
            os.write(self._fd, request_id.encode() + b"\n")
        self._flying[request_id] = None

    def answered(self, request_id: str) -> None:
        self._flying.pop(request_id, None)

    def in_flight(self, limit: int) -> list[str]:
        """The ids of up to ``limit`` requests in flight, the longest in flight first."""
        return list(islice(self._flying, limit))

    def close(self, *, remove: bool) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if remove:
            self.path.unlink(missing_ok=True)
