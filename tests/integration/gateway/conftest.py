"""Fixtures for the independent test gateway (server.py): started in a thread of the test process
on a loopback port the OS chooses, stopped when the test ends; its counters are read directly.

``gateway_factory``  ``start(mode="litellm", **GatewayConfig fields)`` → a started ``GatewayThread``
``gateway``          one litellm-mode gateway with the default config
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.gateway.serve import GatewayThread
from tests.integration.gateway.server import GatewayConfig


@pytest.fixture
def gateway_factory() -> Iterator[Callable[..., GatewayThread]]:
    started: list[GatewayThread] = []

    def start(mode: str = "litellm", **config: Any) -> GatewayThread:
        server = GatewayThread(GatewayConfig(mode=mode, **config)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def gateway(gateway_factory: Callable[..., GatewayThread]) -> GatewayThread:
    return gateway_factory()
