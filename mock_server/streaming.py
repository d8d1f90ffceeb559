"""Pace writes by absolute deadlines, so sleep overshoot never accumulates over a long answer.

Each token is due at ``start + ttft + sum(itl[:i])``. Tokens already due when the writer wakes
are sent together in one write (fewer syscalls when the loop falls behind, and a cache hit —
all gaps 0 — goes out as a single write).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import accumulate
from typing import Protocol

from mock_server.plan import Timing


class Writer(Protocol):
    async def write(self, data: bytes) -> None: ...


def due_times(start: float, timing: Timing, n: int) -> list[float]:
    """Absolute due time of each of ``n`` events (n = tokens, or 1 for an empty answer)."""
    gaps = (timing.ttft_s, *timing.itl_s[: max(0, n - 1)])
    return list(accumulate(gaps, initial=start))[1:]


async def write_paced(out: Writer, bodies: list[bytes], due: list[float],
                      clock: Callable[[], float],
                      sleep: Callable[[float], Awaitable[None]]) -> list[float]:
    """Write ``bodies[i]`` no earlier than ``due[i]``; return, per body, the clock right after
    the write that carried it (bodies coalesced into one write share its stamp)."""
    stamps: list[float] = []
    i, n = 0, len(bodies)
    while i < n:
        wait = due[i] - clock()
        if wait > 0:
            await sleep(wait)
        now = clock()
        j = i + 1
        while j < n and due[j] <= now:
            j += 1
        await out.write(bodies[i] if j == i + 1 else b"".join(bodies[i:j]))
        now = clock()
        stamps += [now] * (j - i)
        i = j
    return stamps
