"""``python -m mock_server --host 127.0.0.1 --port 0 --profiles FILE --cache memory --seed 0``."""

from __future__ import annotations

import argparse
import logging
import sys

from mock_server.config import DEFAULT_PROFILES_PATH, MockConfig, load_profiles
from mock_server.serve import serve
from suite.errors import SuiteError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m mock_server",
                                description="OpenAI-compatible mock LLM server.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="0 lets the OS choose a free port")
    p.add_argument("--profiles", default=str(DEFAULT_PROFILES_PATH), help="model profiles YAML")
    p.add_argument("--cache", default="memory", help="memory | none | redis://host:port/db")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-ttl", type=float, default=3600.0, help="Redis entry TTL, seconds")
    p.add_argument("--cache-capacity", type=int, default=10_000, help="memory cache entries")
    p.add_argument("--max-body-bytes", type=int, default=8 * 1024 * 1024)
    p.add_argument("--access-log", action="store_true")
    p.add_argument("--log-level", default="warning",
                   choices=["debug", "info", "warning", "error"])
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = MockConfig(profiles=load_profiles(args.profiles), seed=args.seed,
                            max_body_bytes=args.max_body_bytes, source=args.profiles)
        serve(config, args.host, args.port, args.cache, cache_ttl_s=args.cache_ttl,
              cache_capacity=args.cache_capacity, access_log=args.access_log)
    except SuiteError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
