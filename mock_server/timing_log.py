"""``--timing-log PATH``: one JSONL line per answered request, stamped by the server itself.

The line has exactly these keys (another tool joins it with client records by ``request_id``;
changing them is a contract change):

    {"request_id": X-Request-Id header or null, "model": str, "cache": "hit" | "miss",
     "t_recv": epoch seconds at receipt, "ttft_s": receipt -> first content chunk written
     (null when not streamed), "e2e_s": receipt -> last byte written, "ttft_target_s": the TTFT
     the server was asked to achieve for this request, "itl_s": [gaps between content-chunk
     writes], "completion_tokens": int, "key": the request's cache key, "served_key": the key of
     the entry that answered (the request's own on a miss), "match": "exact" | "semantic" |
     "coalesced" on a hit (null on a miss), "similarity": the hit's cosine (null on a miss)}

Only answers sent in full (HTTP 200) are logged: errors, injected disconnects and clients that
left have no timing to compare. ``cache`` is "miss" for every generated answer (also with
``--cache none``). ``served_key`` != ``key`` marks a semantic hit that served another prompt's
answer: a test (or a user) counts what the mock served wrongly from these lines. In plain exact
mode (no semantic cache, no ``--coalesce``) an exact hit's ``match`` is "exact" too. Tokens
written together in one write (coalesced because they were due at the same time) have a gap of 0
between them.

Lines are buffered and appended in batches with one ``os.write`` per batch on an ``O_APPEND``
descriptor (no fsync): workers of ``--workers N`` may share one file without interleaving lines.
The buffer is written when it holds ``batch`` lines, every ``interval_s`` by the app's
background task, and on shutdown (``close``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson

from suite.errors import SpecError


class TimingLog:
    def __init__(self, path: str | Path, batch: int = 512, interval_s: float = 1.0) -> None:
        self.path = Path(path)
        self.batch = batch
        self.interval_s = interval_s
        self._lines: list[bytes] = []
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise SpecError(f"--timing-log: cannot open {str(self.path)!r} for writing "
                            f"({exc.strerror}); pass a path in a writable folder.") from None

    def add(self, record: dict[str, Any]) -> None:
        self._lines.append(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        if len(self._lines) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self._lines or self._fd is None:
            return
        data = b"".join(self._lines)
        self._lines.clear()
        view = memoryview(data)
        while view:  # a regular file takes it in one call; loop for the pathological case
            view = view[os.write(self._fd, view):]

    def close(self) -> None:
        self.flush()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    async def flusher(self, _app: object) -> AsyncIterator[None]:
        """aiohttp cleanup context: flush every ``interval_s`` while serving, close at the end."""
        async def tick() -> None:
            while True:
                await asyncio.sleep(self.interval_s)
                self.flush()

        task = asyncio.ensure_future(tick())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.close()


def timing_record(request_id: str | None, model: str, cache: str, t_recv: float,
                  stamps: list[float] | None, t_end: float, t0: float, ttft_target_s: float,
                  completion_tokens: int, key: str | None = None,
                  served: tuple[str, str, float] | None = None) -> dict[str, Any]:
    """One log line from clock stamps (``t0`` receipt, ``stamps`` content-chunk writes or None
    when not streamed, ``t_end`` last byte; ``served``: a hit's (served key, match, similarity),
    None for an exact hit outside the semantic/coalesce modes, or a miss) — key order as above."""
    ttft = None if not stamps else stamps[0] - t0
    itl = [] if not stamps else [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    return {"request_id": request_id, "model": model, "cache": "hit" if cache == "hit" else "miss",
            "t_recv": t_recv, "ttft_s": ttft, "e2e_s": t_end - t0, "ttft_target_s": ttft_target_s,
            "itl_s": itl, "completion_tokens": completion_tokens, "key": key,
            "served_key": key if served is None else served[0],
            "match": ("exact" if cache == "hit" else None) if served is None else served[1],
            "similarity": (1.0 if cache == "hit" else None) if served is None else served[2]}
