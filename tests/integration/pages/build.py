"""The HTML pages under test, built from the fixed inputs the golden test replays (recorded runs in
``tests/golden/runs``, sweeps assembled from recorded steps), so a layout failure is never a
different run's data. The producers are the golden test's own: one definition of "the fixed
inputs", and a change there shows in both tests."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.history.fixed import history_page
from tests.unit.test_golden import analyzer, compare_a_b, sweep_cache, sweep_load

# page -> (producer, the file it writes in its output folder)
PAGES: dict[str, tuple[Callable[[Path], Any], str]] = {
    "report": (analyzer("run-a"), "report.html"),
    "report-failures": (analyzer("run-b"), "report.html"),  # injected faults: the errors table
    "compare": (compare_a_b, "compare.html"),
    "sweep-cache": (sweep_cache, "sweep.html"),
    "sweep-load": (sweep_load, "sweep.html"),
    "history": (history_page, "history.html"),
}


def build_page(name: str, root: Path) -> Path:
    """Build page ``name`` in the empty folder ``root``; its path."""
    produce, filename = PAGES[name]
    root.mkdir(parents=True, exist_ok=True)
    page = Path(produce(root.resolve()).out) / filename
    assert page.is_file(), f"{name}: the producer wrote no {filename} in {page.parent}"
    return page


class Pages:
    """Each page built once, on first use, in ``root``: by whichever pytest-xdist worker asks first
    (a file lock per page; the others wait, then read its path). A page that failed to build fails
    every test of it with the same error, without rebuilding in this worker."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._done: dict[str, Path | BaseException] = {}

    def __call__(self, name: str) -> Path:
        if name not in self._done:
            try:
                self._done[name] = self._build_once(name)
            except Exception as exc:  # kept and re-raised for every test of the page
                self._done[name] = exc
        got = self._done[name]
        if isinstance(got, BaseException):
            raise got
        return got

    def _build_once(self, name: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            built = self.root / f"{name}.built"
            if built.exists():
                return Path(built.read_text(encoding="utf-8"))
            folder = self.root / name
            shutil.rmtree(folder, ignore_errors=True)  # what a failed attempt left
            page = build_page(name, folder)
            built.write_text(str(page), encoding="utf-8")
            return page
