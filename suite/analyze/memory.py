"""``small_pages()``: run a block with numpy's transparent-huge-page advice turned off, then restore it.

Why: numpy marks every array of 4 MB or more ``madvise(MADV_HUGEPAGE)``. Where the kernel's THP
``defrag`` setting is ``madvise`` (the upstream default), a fault in such an array may compact memory
synchronously before it is zeroed. The analyzer allocates hundreds of short-lived 8-128 MB arrays
(one per column, mask and pooled-gap copy); on the 2-core benchmark VM their huge-page faults cost
0.6-1.5 s of system time per 1M records, against ~0.6 s with normal pages (``bench/bench_analyze.py``).
Only page size changes; every value computed is the same.

The setting is process-wide in numpy, so it is scoped: the value before the first open block is
restored when the last one closes, and a numpy without the switch (private API) runs the block as is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np


def _switch() -> Callable[[bool], bool] | None:
    """numpy's own ``_set_madvise_hugepage(enabled) -> previous`` (numpy 2: ``_core``, 1.x: ``core``)."""
    for name in ("_core", "core"):
        multiarray = getattr(getattr(np, name, None), "multiarray", None)
        switch = getattr(multiarray, "_set_madvise_hugepage", None)
        if callable(switch):
            return switch
    return None


_lock = threading.Lock()
_depth = 0  # blocks open now, in any thread
_saved = True  # numpy's setting before the first of them


@contextmanager
def small_pages() -> Iterator[None]:
    """Within the block, numpy allocates without huge-page advice. Blocks may nest or overlap across
    threads: the first to open saves numpy's setting, the last to close restores it."""
    global _depth, _saved
    switch = _switch()
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
