"""One run lifecycle: SIGINT, SIGTERM and SIGHUP become one exception, so every ``finally`` runs.

Python turns only SIGINT into an exception (``KeyboardInterrupt``); SIGTERM (``timeout``, a CI
cancel, ``docker stop``) and SIGHUP (a closed terminal) kill the process on the spot, skipping the
code that stops the Locust child, flushes the log and removes scratch files. Inside
``stop_on_signals()`` all three raise ``Interrupted`` (a ``KeyboardInterrupt``, so code that already
handles Ctrl-C handles them too), carrying the signal's name, when it came, and the shell's exit
code for it (128 + signal number: 130, 143, 129).

Only the first signal raises: a second one while the run is stopping is noted and ignored, so the
(bounded) clean-up is not cut short and nothing it started is orphaned.

    with stop_on_signals():
        try:
            ...run...
        except Interrupted as exc:
            print(exc.signal, exc.exit_code)   # "SIGTERM", 143
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived: ``signal`` ("SIGTERM"), ``at`` (epoch), ``exit_code`` (128 + number)."""

    def __init__(self, signum: int, at: float | None = None) -> None:
        self.signal = signal.Signals(signum).name
        self.at = time.time() if at is None else at
        self.exit_code = 128 + int(signum)
        super().__init__(f"stopped by {self.signal}")


def interruption(exc: BaseException) -> Interrupted:
    """The ``Interrupted`` of any ``KeyboardInterrupt`` (a plain one is Python's own SIGINT)."""
    return exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn the first of SIGINT/SIGTERM/SIGHUP into ``Interrupted`` while the block runs; restore
    the previous handlers after. Outside the main thread (where Python allows no handler) a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        fired.append(signum)
        if len(fired) == 1:
            raise Interrupted(signum)

    previous: dict[int, Any] = {}
    for signum in HANDLED:
        previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
