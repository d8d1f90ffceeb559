"""Where the mock's CPU goes per request: its chat handler driven in-process, no sockets.

    .venv/bin/python bench/mock_handler_profile.py [--n 20000] [--stream] [--hit] [--top 25]
    (or: bench/bench_mock_server.py --profile)

Builds the real app (``instant`` profile, memory cache), feeds N pre-built requests to the
``POST /v1/chat/completions`` handler and reports CPU microseconds per request (process time, so
a busy neighbour inflates it less than wall time), then the same loop under cProfile. aiohttp's
HTTP parsing and writing are not included: this is the mock's own share, for optimisation
decisions; the capacity ratio itself comes from bench_mock_server.py.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import streams, web  # noqa: E402
from aiohttp.test_utils import make_mocked_request  # noqa: E402

from mock_server.answer import warm_tokenizers  # noqa: E402
from mock_server.app import create_app  # noqa: E402
from mock_server.cache import MemoryCache  # noqa: E402
from mock_server.config import MockConfig, load_profiles  # noqa: E402
from mock_server.handlers.chat import chat_completions  # noqa: E402


class IdleProtocol:
    """What a StreamReader calls on its protocol; nothing to do here."""

    def pause_reading(self, *args: object, **kwargs: object) -> None: ...
    def resume_reading(self, *args: object, **kwargs: object) -> None: ...


def requests(app: web.Application, n: int, start: int, stream: bool, hit: bool) -> list[Any]:
    out = []
    for i in range(start, start + n):
        text = "How fast can you answer?" + ("" if hit else f" u{i}")
        body = (b'{"model":"instant","messages":[{"role":"user","content":"%s"}],"max_tokens":16%s}'
                % (text.encode(), b',"stream":true' if stream else b""))
        payload = streams.StreamReader(IdleProtocol(), 2**16, loop=asyncio.get_running_loop())  # type: ignore[arg-type]
        payload.feed_data(body)
        payload.feed_eof()
        out.append(make_mocked_request("POST", "/v1/chat/completions", app=app, payload=payload,
                                       headers={"Content-Type": "application/json",
                                                "Content-Length": str(len(body))}))
    return out


async def drive(reqs: list[Any]) -> float:
    """CPU microseconds per request over the loop."""
    t0 = time.process_time()
    for req in reqs:
        resp = await chat_completions(req)
        assert resp.status == 200, resp.status
    return (time.process_time() - t0) / len(reqs) * 1e6


def frozen(reqs: list[Any]) -> list[Any]:
    """Hide the pre-built requests from the garbage collector: a server never holds thousands
    of them at once, and full collections over them would be charged to the handler."""
    gc.collect()
    gc.freeze()
    return reqs


async def main_async(n: int, stream: bool, hit: bool, top: int) -> None:
    profiles = load_profiles()
    warm_tokenizers(profiles.values())
    app = create_app(MockConfig(profiles=profiles), MemoryCache(10_000, 3600.0))
    await drive(frozen(requests(app, n, 0, stream, hit)))  # warm-up: variants, memo, allocator
    us = await drive(frozen(requests(app, n, n, stream, hit)))
    print(f"handler only ({'stream' if stream else 'plain'}, {'HIT' if hit else 'MISS'}): "
          f"{us:.1f} us CPU per request over {n} requests")
    reqs = frozen(requests(app, n, 2 * n, stream, hit))
    prof = cProfile.Profile()
    prof.enable()
    await drive(reqs)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--stream", action="store_true")
    p.add_argument("--hit", action="store_true", help="one repeated prompt (HIT) instead of unique")
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args(argv)
    asyncio.run(main_async(a.n, a.stream, a.hit, a.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
