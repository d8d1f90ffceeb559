"""Process-wide runtime tuning, in one place: each setting with the problem it solves and its scope.

- ``settle_heap()``        the mock server, once at start-up: freeze the start-up heap out of the
                           cyclic GC's reach and collect the youngest generation less often;
- ``cyclic_gc_paused()``   the synthesizer, around a corpus build: no cyclic GC while millions of
                           acyclic containers are allocated;
- ``small_pages()``        the analyzer, around its column work: numpy allocates without
                           transparent-huge-page advice.

None of them changes a value computed; they change how long the computing takes. ``small_pages``
relies on a private numpy hook (``_set_madvise_hugepage``); ``tests/unit/test_runtime.py`` fails
loudly if it disappears, instead of the analyzer quietly getting slower.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

# Python's default first threshold is 700 allocations.
MOCK_GC_THRESHOLD = (20_000, 10, 10)


def settle_heap() -> None:
    """Move everything loaded so far (tokenizer tables, sentence banks, modules) out of the cyclic
    GC's reach: it is never garbage, yet every full collection would walk all of it; and let the
    youngest generation grow to ``MOCK_GC_THRESHOLD[0]`` before it is collected: a request allocates
    dozens of short-lived containers that reference counting frees anyway, so at the default
    threshold the collector runs every few requests for nothing. Called once, by the serving process
    only (never in a process that tests share), and before forking workers, so their copies of these
    pages stay shared (copy-on-write)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*MOCK_GC_THRESHOLD)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees everything).

    A corpus build allocates millions of small dicts and lists, none of them in reference cycles;
    the collector would traverse the growing heap again and again and find nothing (a fifth of a
    large build's CPU time, 0 objects collected). It is restored on the way out."""
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


def hugepage_switch() -> Callable[[bool], bool] | None:
    """numpy's private ``_set_madvise_hugepage(enabled) -> previous`` (numpy 2: ``_core``, 1.x:
    ``core``), or None when this numpy has none."""
    for name in ("_core", "core"):
        multiarray = getattr(getattr(np, name, None), "multiarray", None)
        switch = getattr(multiarray, "_set_madvise_hugepage", None)
        if callable(switch):
            return switch
    return None


_lock = threading.Lock()
_depth = 0  # small_pages blocks open now, in any thread
_saved = True  # numpy's setting before the first of them


@contextmanager
def small_pages() -> Iterator[None]:
    """Within the block, numpy allocates without transparent-huge-page advice.

    Why: numpy marks every array of 4 MB or more ``madvise(MADV_HUGEPAGE)``. Where the kernel's THP
    ``defrag`` setting is ``madvise`` (the upstream default), a fault in such an array may compact
    memory synchronously before it is zeroed. The analyzer allocates hundreds of short-lived large
    arrays (one per column, mask and pooled-gap copy); their huge-page faults cost more system time
    than the work itself on a small VM (``bench/bench_analyze.py`` measures it). Only page size
    changes; every value computed is the same.

    The setting is process-wide in numpy, so it is scoped: blocks may nest or overlap across threads;
    the first to open saves numpy's setting, the last to close restores it. A numpy without the
    switch runs the block as is."""
    global _depth, _saved
    switch = hugepage_switch()
    if switch is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _saved = bool(switch(False))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                switch(_saved)
