"""Fixtures: the two independent targets of servers.py, each served from a thread on a loopback port
the OS chooses for the length of one test, and ``llmsuite`` run as a user would (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.init.servers import AcmeState, acme_server, engine_server
from tests.integration.threaded import serving

REPO = Path(__file__).resolve().parents[3]
KEY_ENV = "ACME_TEST_KEY"  # neither LLMSUITE_API_KEY nor OPENAI_API_KEY
KEY = "acme-secret-key-123"


def llmsuite(*args: str, key: str | None = None, timeout: float = 120,
             stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI with the key (if any) in ``KEY_ENV`` only, and a wide terminal so table cells are
    not wrapped mid-phrase."""
    env = {k: v for k, v in os.environ.items() if k not in ("LLMSUITE_API_KEY", "OPENAI_API_KEY")}
    env["COLUMNS"] = "240"
    if key is not None:
        env[KEY_ENV] = key
    return subprocess.run([sys.executable, "-m", "suite.cli", *args], cwd=REPO, env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def output(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"


@pytest.fixture
def acme() -> Iterator[tuple[str, AcmeState]]:
    state = AcmeState(key=KEY)
    with serving(acme_server(state)) as url:
        yield url, state


@pytest.fixture
def engine() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    requests: list[dict[str, Any]] = []
    with serving(engine_server(requests)) as url:
        yield url, requests
