"""An ``http.server`` written in a test, served from a thread for the length of a ``with`` block:
the independent servers of the integration tests (a guarded target, an echo target, a caching
target) bind 127.0.0.1 on a port the OS chooses and are shut down, closed and joined on the way out."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import HTTPServer


@contextlib.contextmanager
def serving(server: HTTPServer) -> Iterator[str]:
    """Serve ``server`` until the block ends; yields its base URL (``http://127.0.0.1:PORT``)."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
