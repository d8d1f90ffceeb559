"""The driver's columnar mirror of its JSONL log (suite.logcolumns): same records, Arrow IPC.

Why the JSONL bytes and not the records: the lines are already made for the JSONL file, and
pyarrow's JSON reader turns them into columns in C++ with the GIL released, on a real OS thread
(gevent's thread pool inside Locust), so the driver's own thread pays one ``append`` per record and
a ``join`` per batch. Converting the records in Python (``from_pylist``) cost 7–10 µs each on its
hot path. Batches are large (``rows`` records or ``interval_s``, checked at the JSONL flushes), so a
10M-record log is a few thousand batches, not 150k.

A failure here never costs a record: the JSONL is the log of record. The mirror is then closed
without its end marker (so it is never read) and the reason is kept in ``error``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from suite.logcolumns import MirrorWriter, mirror_path, parse_lines, record_schema

DEFAULT_ROWS = 8192
DEFAULT_INTERVAL_S = 1.0
# ``LLMSUITE_COLUMNAR_LOG=0``: no mirror (a disk-tight run, or measuring what the mirror costs:
# bench/bench_driver.py --mirror-ab); the JSONL alone is complete either way
ENV_SWITCH = "LLMSUITE_COLUMNAR_LOG"


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip() not in ("0", "false", "no", "off")


def real_thread_pool() -> Any:
    """A pool of OS threads: gevent's hub pool when gevent has patched ``threading`` (in Locust a
    ``ThreadPoolExecutor``'s threads would be greenlets on the event loop's thread), else a plain
    one. gevent is looked up, not imported: only the locustfile side may load it (test_init)."""
    gevent, monkey = sys.modules.get("gevent"), sys.modules.get("gevent.monkey")
    if gevent is not None and monkey is not None and monkey.is_module_patched("threading"):
        return gevent.get_hub().threadpool
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmsuite-mirror")


class ColumnarMirror:
    """Collects a shard's JSONL lines and writes them as IPC batches on one background thread."""

    def __init__(self, jsonl: Path, headers: Sequence[str], rows: int = DEFAULT_ROWS,
                 interval_s: float = DEFAULT_INTERVAL_S, pool: Any = None) -> None:
        self.path = mirror_path(jsonl)
        self.schema = record_schema(headers)
        self.rows = rows
        self.interval_s = interval_s
        self.error: str | None = None
        self._lines: list[bytes] = []
        self._last = time.monotonic()
        self._writer = MirrorWriter(self.path, self.schema)
        self._pool = pool if pool is not None else real_thread_pool()
        # the last batch handed to a thread (Future or gevent AsyncResult); the next one waits for
        # it, so batches are written in order whatever the pool's size
        self._pending: Any = None
        self.add: Callable[[bytes], None] = self._lines.append  # hot path: one bound append

    def due(self) -> bool:
        return len(self._lines) >= self.rows or (
            bool(self._lines) and time.monotonic() - self._last >= self.interval_s)

    def ship(self) -> None:
        """Hand the collected lines to the thread (in order: one thread, one batch at a time)."""
        self._last = time.monotonic()
        if not self._lines or self.error is not None:
            self._lines.clear()
            return
        data = b"".join(self._lines)
        self._lines.clear()
        self._wait()
        self._pending = _submit(self._pool, self._write, data)

    def _write(self, data: bytes) -> None:
        self._writer.write(parse_lines(data, self.schema))

    def _wait(self) -> None:
        if self._pending is None:
            return
        pending, self._pending = self._pending, None
        try:
            pending.result() if isinstance(pending, Future) else pending.get()
        except Exception as exc:  # noqa: BLE001 - any failure only disables the mirror
            self.error = self.error or f"{type(exc).__name__}: {exc}"

    def close(self, jsonl_bytes: int | None, records: int | None = None) -> None:
        """Write the rest, then the end marker: only when every batch was written and, given the
        JSONL's ``records``, the mirror holds as many."""
        self.ship()
        self._wait()
        if self.error is None and records is not None and self._writer.records != records:
            self.error = f"the mirror holds {self._writer.records} records, the JSONL {records}"
        self._writer.close(jsonl_bytes if self.error is None else None)
        if isinstance(self._pool, ThreadPoolExecutor):  # ours; gevent's hub pool is shared
            self._pool.shutdown()


def _submit(pool: Any, fn: Callable[[bytes], None], data: bytes) -> Any:
    return pool.submit(fn, data) if isinstance(pool, ThreadPoolExecutor) else pool.spawn(fn, data)
