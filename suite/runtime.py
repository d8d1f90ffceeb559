"""Process-wide runtime tuning, in one place: each setting with the problem it solves and its scope.

- ``settle_heap()``        the mock server, once at start-up: freeze the start-up heap out of the
                           cyclic GC's reach and collect the youngest generation less often;
- ``cyclic_gc_paused()``   the synthesizer, around a corpus build: no cyclic GC while millions of
                           acyclic containers are allocated;
- ``small_pages()``        the analyzer, around its summary: numpy allocates without
                           transparent-huge-page advice;
- ``kept_heap()``          the analyzer, around its load and summary: freed memory is kept by the
                           C heap for reuse, and Arrow allocates from that heap too;
- ``one_malloc_arena()``   every ``llmsuite`` command but ``mock``, first thing: worker threads
                           allocate from the heap ``kept_heap`` keeps.

None of them changes a value computed; they change how long the computing takes. ``small_pages``
relies on a private numpy hook (``_set_madvise_hugepage``); ``tests/unit/test_runtime.py`` fails
loudly if it disappears, instead of the analyzer quietly getting slower.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

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


# Values a large-array pass handles at a time (a 4 MB mask of 4M float64): masks and copies this
# size are reused from the heap instead of being mapped afresh, whatever the thread (glibc serves a
# worker thread's arrays above 64 MB from new mappings) and they do not raise the analyzer's peak.
ARRAY_CHUNK = 1 << 22


def all_finite(values: np.ndarray) -> bool:
    """Whether every value is finite, checked ``ARRAY_CHUNK`` values at a time: no mask as large
    as the array (at 10M records, 160 MB for the gaps)."""
    return all(bool(np.isfinite(values[i:i + ARRAY_CHUNK]).all())
               for i in range(0, values.size, ARRAY_CHUNK))


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


# glibc's mallopt parameters and their documented defaults (mallopt(3))
M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8
TRIM_DEFAULT, MMAP_MAX_DEFAULT = 128 * 1024, 65536
KEPT_TRIM = 2**31 - 1  # mallopt takes an int: free memory above the heap's top beyond 2 GB is returned
_heap_lock = threading.Lock()
_heap_depth = 0
_heap_saved: list[Any] = []


@functools.cache
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt``, or None (another C library: the block then only switches Arrow's pool)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    fn = getattr(libc, "mallopt", None)
    if fn is None or not hasattr(libc, "gnu_get_libc_version"):
        return None
    fn.argtypes, fn.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return fn


@contextmanager
def kept_heap() -> Iterator[None]:
    """Within the block, memory freed stays with the process for the next allocation, instead of
    going back to the kernel and being faulted in again, page by page, by the next array.

    Why: by default glibc serves every allocation above its mmap threshold (at most 32 MB) with a
    fresh mapping and unmaps it on free, and Arrow's mimalloc purges freed pages; the analyzer makes
    hundreds of such arrays (columns, masks, copies of millions of gaps), so most of its memory is
    faulted in several times. On a virtual machine a first touch of guest memory may also cost the
    host a fault: measured here (Firecracker, bench/bench_columnar.py --big) the 10M-record summary
    spent more system time zeroing fresh pages than computing. Inside the block glibc maps nothing
    new for allocations (``M_MMAP_MAX`` 0; the heap grows instead), trims its top only beyond
    2 GB free, and Arrow's default pool is the system allocator, so Arrow's temporaries reuse the
    same heap. Every value computed is the same; the process keeps its peak heap until it frees it
    (glibc trims the top again, at its default threshold, once the last block has closed).

    Process-wide, so scoped like ``small_pages``: the last block to close restores glibc's
    documented defaults (which also ends glibc's dynamic mmap threshold: allocations above 128 kB
    are then mapped) and the Arrow pool that was the default before the first block."""
    global _heap_depth
    import pyarrow as pa  # here, not at import: the mock server and driver never call this

    mallopt = _mallopt()
    with _heap_lock:
        if _heap_depth == 0:
            _heap_saved[:] = [pa.default_memory_pool()]
            pa.set_memory_pool(pa.system_memory_pool())
            if mallopt is not None:
                mallopt(M_MMAP_MAX, 0)
                mallopt(M_TRIM_THRESHOLD, KEPT_TRIM)
        _heap_depth += 1
    try:
        yield
    finally:
        with _heap_lock:
            _heap_depth -= 1
            if _heap_depth == 0:
                pa.set_memory_pool(_heap_saved.pop())
                if mallopt is not None:
                    mallopt(M_MMAP_MAX, MMAP_MAX_DEFAULT)
                    mallopt(M_TRIM_THRESHOLD, TRIM_DEFAULT)


def give_back() -> None:
    """Hand the heap's free pages back to the kernel now (glibc ``malloc_trim``), ``kept_heap`` or
    not; nothing where glibc is not the C library.

    Why: ``kept_heap`` keeps what is freed for the next arrays, but the holes a large transient
    leaves (the summary's repeat-miss sort, ~0.8 GB at 10M records) are not all refilled by the
    arrays made next, and kept pages count in the peak resident set: at 10M records the summary's
    peak held ~0.5 GB of free heap. Called after such a step only: pages given back are faulted in
    again when reused."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if _mallopt() is None:  # not glibc
        return None
    fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


def one_malloc_arena() -> bool:
    """Have every thread of this process allocate from glibc's main heap (``M_ARENA_MAX`` 1);
    False where glibc is not the C library.

    Why: a thread gets its own arena, whose heaps hold at most 64 MB; a larger array made by a
    thread (the summary's second thread pools millions of gaps) then always comes from a fresh
    mapping, faulted in page by page, whatever ``kept_heap`` keeps. At 10M records this was ~1M
    page faults and 2-4 s of system time (bench/bench_columnar.py --big, MALLOC_ARENA_MAX=1 vs
    not, alternating runs: summary 14.5-15.3 s vs 15.8-18.1 s). The analyzer's threads are few and
    allocate rarely, so sharing one arena's lock costs nothing measurable.

    glibc fixes the arena limit at the first thread arena it makes, and ``import pyarrow`` already
    starts a thread that allocates: so this is called by ``suite.cli`` before it imports any
    command (``llmsuite mock``, a serving process, keeps glibc's default)."""
    mallopt = _mallopt()
    return mallopt is not None and mallopt(M_ARENA_MAX, 1) == 1
