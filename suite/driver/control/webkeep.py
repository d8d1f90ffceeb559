"""``--web-keep``: Locust's web UI stays up after the run, until the person watching says stop.

Locust is started without ``--autoquit``, so when the run stops (duration over, corpus sent, abort)
its process keeps serving the UI with the final numbers. The runner cannot wait for that process
to exit, so it waits for the run to be *settled* instead: every run.json (the master's and each
worker's) finalised at test stop, and each shard of the log holding as many complete lines as its
process says it recorded (records are flushed at least every 0.1 s). Then the log is checked and
analyzed as after any run, and ``KeptWeb`` holds the still-running process group for the caller,
who stops it by its PID (``stop``), never by name.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suite.driver.control.collect import WORKER_META_GLOB
from suite.driver.control.group import stop_group
from suite.driver.control.meta import read_run_meta

POLL_S = 0.25


_COUNTED: dict[Path, tuple[int, int]] = {}  # shard -> (bytes read, newlines in them)


def _lines(path: Path) -> int:
    """Complete lines in ``path``, counting only the bytes appended since the last poll (a log of
    several GB is not re-read every ``POLL_S``)."""
    offset, count = _COUNTED.get(path, (0, 0))
    try:
        with path.open("rb") as fh:
            if fh.seek(0, 2) < offset:  # replaced or truncated: count again from the start
                offset, count = 0, 0
            fh.seek(offset)
            while chunk := fh.read(1 << 20):
                offset, count = offset + len(chunk), count + chunk.count(b"\n")
    except FileNotFoundError:
        return 0
    _COUNTED[path] = (offset, count)
    return count


def _shard(meta: dict[str, Any], run_dir: Path) -> Path:
    shard = meta.get("extra", {}).get("shard") or {}
    index = shard.get("index") if isinstance(shard, dict) else None
    return run_dir / (f"requests.w{index}.jsonl" if index is not None else "requests.jsonl")


def settled(run_dir: Path, run_meta: Path) -> bool:
    """The run has stopped and every record it made is on disk (see the module docstring)."""
    main = read_run_meta(run_meta) or {}
    if not main.get("extra", {}).get("final"):
        return False
    workers = [m for p in sorted(run_dir.glob(WORKER_META_GLOB)) if (m := read_run_meta(p))]
    for meta in workers or [main]:
        extra = meta.get("extra", {})
        if not extra.get("final"):
            return False
        records = extra.get("records")
        if isinstance(records, int) and _lines(_shard(meta, run_dir)) < records:
            return False
    return True


@dataclass
class KeptWeb:
    """Locust's process group, still serving its web UI at ``url`` after the run."""

    url: str
    proc: subprocess.Popen
    stop_timeout_s: float = 10.0

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait(self) -> None:
        """Until Locust exits by itself; a signal (Ctrl-C) raises out of it, as anywhere else."""
        while self.alive:
            time.sleep(POLL_S)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            stop_group(self.proc, timeout=self.stop_timeout_s)
