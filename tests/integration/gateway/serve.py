"""Serving the test gateway from a thread of the test process: its counters are read directly by the
test, and stopping it needs no PID (the loop and the listening socket close with ``stop()``)."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web

from tests.integration.gateway.server import Gateway, GatewayConfig, GatewayStats


class GatewayThread:
    """Serves a ``Gateway`` on 127.0.0.1 (port 0: one the OS chooses) from a thread of its own loop."""

    def __init__(self, config: GatewayConfig, port: int = 0) -> None:
        self.gateway = Gateway(config)
        self.loop = asyncio.new_event_loop()
        self.port = port
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._serve, name=f"gateway-{config.mode}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stats(self) -> GatewayStats:
        return self.gateway.stats

    def start(self) -> GatewayThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the test gateway did not start within 10 s")
        if self._error is not None:
            raise RuntimeError(f"the test gateway could not listen on 127.0.0.1:{self.port}: {self._error}")
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._open())
        except OSError as exc:  # the port is taken: start() says so at once
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    async def _open(self) -> None:
        self._runner = web.AppRunner(self.gateway.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only here
        assert server is not None and server.sockets
        self.port = int(server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        if self._error is not None:
            self.loop.close()
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
