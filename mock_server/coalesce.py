"""``--coalesce``: single-flight on the cache key.

The first miss of a key becomes the key's *flight*; identical requests (same key) that arrive
while it is being generated wait for it instead of generating again, and are answered with its
completion as hits (``X-Cache-Match: coalesced``) the moment it is stored — after the leader's
last token, so a follower's TTFT is the rest of the leader's generation. A leader that ends
without storing (a fault, a client that left, an error) lands its flight empty and its followers
generate their own answers (uncoalesced: no second round of waiting).

Per process: with ``--workers N`` each worker coalesces the requests it receives (a twin that the
kernel hands to another worker is generated there, as without coalescing).
"""

from __future__ import annotations

import asyncio

from mock_server.cache import Completion


class Flights:
    """Open flights by key. ``join`` is the whole protocol: None makes the caller the leader
    (who must ``land`` the key once, with the completion or None); a future means wait."""

    def __init__(self) -> None:
        self._open: dict[str, asyncio.Future[Completion | None]] = {}

    def __len__(self) -> int:
        return len(self._open)

    def join(self, key: str) -> asyncio.Future[Completion | None] | None:
        flight = self._open.get(key)
        if flight is not None:
            return flight
        self._open[key] = asyncio.get_running_loop().create_future()
        return None

    def land(self, key: str, completion: Completion | None) -> None:
        """Close ``key``'s flight (a second landing, e.g. the release after a store: no-op)."""
        flight = self._open.pop(key, None)
        if flight is not None and not flight.done():
            flight.set_result(completion)

    async def wait(self, flight: asyncio.Future[Completion | None]) -> Completion | None:
        """The leader's completion; shielded: a follower that goes away never cancels it."""
        return await asyncio.shield(flight)
