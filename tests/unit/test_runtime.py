"""Runtime tuning: each setting restores what it changed, and the private hooks it relies on exist."""

from __future__ import annotations

import gc

import numpy as np

from suite import runtime


def test_numpy_still_has_the_private_hugepage_switch_small_pages_relies_on() -> None:
    # If this fails, numpy renamed or dropped _set_madvise_hugepage: small_pages() silently became a
    # no-op and the analyzer pays huge-page faults again. Find numpy's new switch and update
    # suite/runtime.hugepage_switch.
    assert runtime.hugepage_switch() is not None, f"numpy {np.__version__} has no _set_madvise_hugepage"


def test_small_pages_restores_numpy_setting() -> None:
    switch = runtime.hugepage_switch()
    assert switch is not None
    before = switch(True)
    try:
        with runtime.small_pages():
            assert switch(False) is False  # off inside the block
        assert switch(True) is True  # back on after it
    finally:
        switch(before)


def test_small_pages_nested_and_overlapping_restore_once() -> None:
    switch = runtime.hugepage_switch()
    assert switch is not None
    before = switch(True)
    try:
        outer, inner = runtime.small_pages(), runtime.small_pages()
        outer.__enter__()
        inner.__enter__()
        outer.__exit__(None, None, None)  # closed first (another thread's block), inner still open
        assert switch(False) is False
        inner.__exit__(None, None, None)
        assert switch(True) is True  # restored once, by the last block to close
    finally:
        switch(before)


def test_cyclic_gc_paused_restores_the_collector_and_leaves_nothing_frozen() -> None:
    assert gc.isenabled()
    with runtime.cyclic_gc_paused():
        assert not gc.isenabled()
        junk = [[i] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    del junk


def test_cyclic_gc_paused_keeps_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with runtime.cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_settle_heap_is_what_the_mock_asks_for(monkeypatch) -> None:
    calls: list[tuple[str, tuple[int, ...]]] = []
    monkeypatch.setattr(gc, "collect", lambda: calls.append(("collect", ())))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(("freeze", ())))
    monkeypatch.setattr(gc, "set_threshold", lambda *t: calls.append(("set_threshold", t)))
    runtime.settle_heap()
    assert calls == [("collect", ()), ("freeze", ()), ("set_threshold", runtime.MOCK_GC_THRESHOLD)]


def test_kept_heap_switches_arrow_to_the_system_pool_and_restores_it_once() -> None:
    import pyarrow as pa

    before = pa.default_memory_pool().backend_name
    outer, inner = runtime.kept_heap(), runtime.kept_heap()
    outer.__enter__()
    inner.__enter__()
    assert pa.default_memory_pool().backend_name == "system"
    outer.__exit__(None, None, None)  # closed first (another thread's block), inner still open
    assert pa.default_memory_pool().backend_name == "system"
    inner.__exit__(None, None, None)
    assert pa.default_memory_pool().backend_name == before


def test_kept_heap_finds_glibc_mallopt_where_glibc_is_the_c_library() -> None:
    # If this fails on glibc, kept_heap() silently stopped keeping freed memory and the analyzer
    # faults its arrays in again (bench/bench_columnar.py --big shows it): fix runtime._mallopt.
    import platform

    if platform.libc_ver()[0] != "glibc":
        assert runtime._mallopt() is None
        return
    assert runtime._mallopt() is not None


def test_kept_heap_reuses_freed_memory_instead_of_faulting_it_in_again() -> None:
    import platform
    import subprocess
    import sys

    if platform.libc_ver()[0] != "glibc" or sys.platform != "linux":
        return  # the behaviour is glibc's; elsewhere the block only switches Arrow's pool
    # a fresh interpreter: this process's heap may already hold freed memory from earlier tests
    code = """
import resource, numpy as np
from suite import runtime

def faults():  # 4 kB pages (small_pages), so a fresh 64 MB array is ~16k faults
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    arr = np.ones(8 << 20)  # 64 MB, above glibc's largest mmap threshold (32 MB)
    got = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before
    del arr
    return got

with runtime.small_pages():
    faults()
    outside = faults()  # glibc's default: mapped afresh, unmapped on free
    with runtime.kept_heap():
        faults()  # grows the heap
        inside = faults()  # the same pages again
print(outside, inside)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    outside, inside = map(int, out.stdout.split())
    assert outside > 10_000, out.stdout  # the test can fail: without the block every page faults
    assert inside < 100, out.stdout


def test_one_malloc_arena_keeps_threads_on_the_main_heap() -> None:
    import platform
    import subprocess
    import sys

    if platform.libc_ver()[0] != "glibc" or sys.platform != "linux":
        return  # glibc's arenas; elsewhere one_malloc_arena says False and changes nothing
    code = """
import ctypes, sys, threading
from suite import runtime
if sys.argv[1] == "one":
    assert runtime.one_malloc_arena()
import numpy as np, pyarrow  # pyarrow's import starts a thread that allocates
t = threading.Thread(target=lambda: np.ones(1 << 20).sum())
t.start(); t.join()
ctypes.CDLL("libc.so.6").malloc_stats()  # one "Arena N:" line per arena, on stderr
"""
    arenas = {}
    for how in ("one", "default"):
        out = subprocess.run([sys.executable, "-c", code, how], capture_output=True, text=True, check=True)
        arenas[how] = out.stderr.count("Arena ")
    assert arenas["one"] == 1, arenas
    assert arenas["default"] > 1, arenas  # the test can fail: by default each thread gets its own


def test_give_back_returns_the_kept_heap_s_free_pages_to_the_kernel() -> None:
    import platform
    import subprocess
    import sys

    if platform.libc_ver()[0] != "glibc" or sys.platform != "linux":
        return  # glibc's malloc_trim; elsewhere give_back does nothing
    code = """
import numpy as np
from suite import runtime

def resident_mb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024

with runtime.kept_heap():
    keep = np.ones(1 << 20)  # live above the freed arrays: the heap cannot shrink from the top
    arrays = [np.ones(4 << 20) for _ in range(8)]  # 8 x 32 MB
    tail = np.ones(1 << 20)
    del arrays
    before = resident_mb()  # the 256 MB freed is kept, resident
    runtime.give_back()
    after = resident_mb()
print(before, after)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = map(float, out.stdout.split())
    assert before - after > 200, out.stdout  # the test can fail: kept_heap alone keeps them
