"""Stop the Locust child and every process it forked, by process group, never by name.

The runner starts Locust in its own session (``start_new_session=True``), so the master and the
workers it forks (``--processes``) share one process group whose id is the master's PID. A signal
to that group reaches all of them at once; a process that outlives the master (a worker still
writing its last records) is waited for, and killed by the group id only past the deadline.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

PROC = Path("/proc")
POLL_S = 0.05


def group_members(pgid: int) -> list[int]:
    """PIDs of the live (not zombie) processes in group ``pgid``. From /proc where it exists (a
    zombie still answers ``killpg(pgid, 0)`` until its parent reaps it); else that probe alone."""
    if not PROC.is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    out = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rfind(")") + 2:].split()  # the command name may hold spaces and ")"
        if len(fields) > 2 and fields[0] != "Z" and fields[2] == str(pgid):
            out.append(int(entry.name))
    return out


def signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def stop_group(proc: subprocess.Popen, timeout: float) -> list[int]:
    """SIGTERM the group of ``proc`` (a no-op when all of it already exited), wait up to
    ``timeout`` for every member to exit, then SIGKILL what is left; returns the PIDs killed."""
    pgid = proc.pid
    deadline = time.monotonic() + timeout
    if proc.poll() is None:
        signal_group(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    left = group_members(pgid)
    while left and time.monotonic() < deadline:
        time.sleep(POLL_S)
        left = group_members(pgid)
    if left or proc.poll() is None:
        signal_group(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    return left


# The multi-host master's finish handshake (suite.driver.inlocust.shiplink): the workers' stop
# timeout plus DRAIN_S (30 s) to ship the rest, plus a margin for Locust to quit.
FINISH_MARGIN_S = 35.0
FINISH_SIGNAL = signal.SIGUSR1  # the Locust master's "end the run now, through the handshake"


def finish_first(proc: subprocess.Popen, ready: Path, stop_timeout_s: float) -> bool:
    """Ask a multi-host Locust master to end through its finish handshake before its group is
    stopped: its remote workers stop their users and ship what they recorded, then it quits.
    Only once the master has written ``ready`` (its first run.json, after it installed the
    handler; before that no worker has sent anything). Waits, bounded; True if it exited."""
    if proc.poll() is not None or not ready.exists():
        return proc.poll() is not None
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, FINISH_SIGNAL)
    print(f"stopping: the master lets its workers ship what they recorded (at most "
          f"{stop_timeout_s + FINISH_MARGIN_S:.0f} s)", file=sys.stderr, flush=True)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=stop_timeout_s + FINISH_MARGIN_S)
    return proc.poll() is not None


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel send the child SIGTERM when its parent dies, even by
    SIGKILL (which no handler of ours sees): Locust then stops instead of sending load with no one
    to record it. Linux only, and only when called from the main thread: the kernel ties the
    signal to the thread that forked, so a child forked from a short-lived thread would be stopped
    when that thread ends. None where it does not apply (the child then outlives a killed parent,
    as any process does)."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec
