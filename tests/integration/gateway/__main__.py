"""Serve the test gateway by hand (for a closing note or a demo against something that is not the
bundled mock)::

    python -m tests.integration.gateway --mode litellm --key gw-test-key --port 8300
    GW_KEY=gw-test-key llmsuite sweep cache -t http://127.0.0.1:8300 --target-preset litellm \\
        --api-key-env GW_KEY --ratios 0,0.5 --n 60 -u 4

It prints one line, ``gateway <mode> listening on http://127.0.0.1:PORT``, and serves until
SIGINT/SIGTERM, then prints its counters (requests, backend calls, hits, misses)."""

from __future__ import annotations

import argparse
import signal
import threading

from tests.integration.gateway.serve import GatewayThread
from tests.integration.gateway.server import SIGNALS, GatewayConfig


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.integration.gateway")
    parser.add_argument("--mode", choices=sorted(SIGNALS), default="litellm")
    parser.add_argument("--key", default="gw-test-key")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--ttl", type=float, default=300.0, help="cache TTL, seconds")
    parser.add_argument("--fail-word", action="append", default=[], help="answer 400 to prompts with it")
    parser.add_argument("--extra-latency", action="append", default=[], metavar="MODEL=SECONDS",
                        help="add this much backend latency to one model's misses (repeatable)")
    args = parser.parse_args()
    extra = {m: float(v) for m, _, v in (item.partition("=") for item in args.extra_latency)}
    config = GatewayConfig(args.mode, api_key=args.key, ttl_s=args.ttl, fail_words=tuple(args.fail_word),
                           extra_latency_s=extra)
    server = GatewayThread(config, port=args.port).start()
    print(f"gateway {args.mode} listening on {server.url}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()
    s = server.stats
    print(f"requests {s.requests}, backend calls {s.backend_calls}, hits {s.hits}, misses {s.misses}, "
          f"4xx {s.failures + s.not_found + s.unauthorized}", flush=True)


if __name__ == "__main__":
    main()
