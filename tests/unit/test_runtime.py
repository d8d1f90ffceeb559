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
