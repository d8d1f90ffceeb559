"""The live panel of a headless run in the terminal: a bar against whichever bound ends the run
first (corpus or ``-d``), time left, and the live figures of suite.driver.control.progress.

On a terminal it redraws in place (rich Live). Anywhere else (a pipe, a CI log) it writes plain
lines, no control codes: one every ``PLAIN_EVERY_S`` seconds and one when the run ends, so a log
keeps the run's pace and its figures appear before whatever the command prints next.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from suite.cli.common import console as default_console
from suite.driver.control.progress import LiveSnapshot, fraction, panel_lines, plain_line

PLAIN_EVERY_S = 10.0
BAR_STEPS = 1000


def render(label: str, snap: LiveSnapshot) -> Group:
    """The panel as a rich renderable: the bar and its percentage, then the lines of ``panel_lines``."""
    share = fraction(snap)
    head = Table.grid(padding=(0, 1))
    head.add_row(Text(label, style="bold"), ProgressBar(total=BAR_STEPS, completed=share * BAR_STEPS,
                                                        width=40),
                 Text(f"{share:4.0%}"))
    lines = panel_lines(snap)
    return Group(head, *(Text(line, style="dim" if i else "") for i, line in enumerate(lines)))


class RunPanel:
    """Fed by the driver (``live``: a LiveSnapshot every poll); closed by ``stop``. Also a
    ``(done, total)`` progress callback, which it ignores: ``live`` carries more."""

    def __init__(self, label: str = "run", console: Console | None = None,
                 plain_every_s: float = PLAIN_EVERY_S) -> None:
        self.label = label
        self.console = console or default_console
        self.plain_every_s = plain_every_s
        self._live: Live | None = None
        self._last_plain: float | None = None
        self._last: LiveSnapshot | None = None

    def __call__(self, done: int, total: int) -> None:
        pass

    def live(self, snap: LiveSnapshot) -> None:
        self._last = snap
        if self.console.is_terminal:
            if self._live is None:
                self._live = Live(render(self.label, snap), console=self.console, refresh_per_second=4,
                                  transient=False)
                self._live.start()
            else:
                self._live.update(render(self.label, snap))
            if snap.finished:
                self.stop()
            return
        now = time.monotonic()
        if snap.finished or self._last_plain is None or now - self._last_plain >= self.plain_every_s:
            self._last_plain = now
            self.console.print(plain_line(snap), markup=False, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __enter__(self) -> RunPanel:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
