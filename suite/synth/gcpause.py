"""Pausing the cyclic garbage collector around a corpus build."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees everything).

    A build allocates millions of small dicts and lists, none of them in reference cycles; the
    collector would traverse the growing heap again and again and find nothing (measured: a fifth of
    a 100,000-request build's CPU time, 0 objects collected). It is restored on the way out."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Everything allocated meanwhile sits in the youngest generation, whose next collection would
        # traverse it all at once: freeze + unfreeze moves it to the oldest generation untraversed.
        # Skipped when the process has frozen objects of its own (unfreeze would release them too).
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()
