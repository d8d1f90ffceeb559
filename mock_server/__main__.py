"""``python -m mock_server --host 127.0.0.1 --port 0 --profiles FILE --cache memory --seed 0``.

The API key may also come from the environment (``LLMSUITE_MOCK_API_KEY``), which keeps it out
of the process list; it is never printed or logged.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys

from mock_server.config import DEFAULT_PROFILES_PATH, MockConfig, SemanticSettings, load_profiles
from mock_server.protocol import DEFAULT_READ_TIMEOUT_S
from mock_server.serve import serve
from suite.errors import SpecError, SuiteError

API_KEY_ENV = "LLMSUITE_MOCK_API_KEY"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m mock_server",
                                description="OpenAI-compatible mock LLM server.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="0 lets the OS choose a free port")
    p.add_argument("--profiles", default=str(DEFAULT_PROFILES_PATH), help="model profiles YAML")
    p.add_argument("--cache", default="memory", help="memory | none | redis://host:port/db")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-ttl", type=float, default=3600.0,
                   help="cache entry TTL, seconds (Redis and memory)")
    p.add_argument("--cache-mode", choices=["exact", "normalize", "semantic"], default="exact",
                   help="normalize: keys ignore case, whitespace and punctuation (lenient cache); "
                   "semantic: also serve the answer of a similar prompt (see --semantic-threshold)")
    p.add_argument("--semantic-threshold", type=float, default=0.90, metavar="T",
                   help="semantic mode: cosine similarity (0-1) from which a stored answer is served")
    p.add_argument("--embeddings-url", default=None, metavar="URL",
                   help="semantic mode: an OpenAI-compatible /v1/embeddings (default: the offline "
                   "hashed n-gram embedder)")
    p.add_argument("--embeddings-model", default="text-embedding-3-small",
                   help="the model asked of --embeddings-url")
    p.add_argument("--coalesce", action="store_true",
                   help="single-flight: identical requests in flight wait for the first answer "
                   "(served as hits); per worker process")
    p.add_argument("--api-key", default=os.environ.get(API_KEY_ENV),
                   help=f"require Authorization: Bearer KEY (default: ${API_KEY_ENV})")
    p.add_argument("--engine-model", help="model of POST /api/chat (default: the first profile)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes sharing the port; each has its own memory cache and metrics")
    p.add_argument("--cache-capacity", type=int, default=10_000, help="memory cache entries")
    p.add_argument("--max-body-bytes", type=int, default=8 * 1024 * 1024)
    p.add_argument("--read-timeout", type=float, default=DEFAULT_READ_TIMEOUT_S, metavar="S",
                   help="seconds a request's headers, and then its body, may take to arrive "
                   "(slower clients get a 408 and are disconnected)")
    p.add_argument("--max-in-flight", type=int, default=None, metavar="N",
                   help="generating requests answered at once; beyond N: 503 with Retry-After "
                   "(default: no limit)")
    p.add_argument("--access-log", action="store_true")
    p.add_argument("--timing-log", metavar="PATH",
                   help="append one JSONL line of server-side timing per answered request")
    p.add_argument("--log-level", default="warning",
                   choices=["debug", "info", "warning", "error"])
    return p.parse_args(argv)


def build_config(args: argparse.Namespace) -> MockConfig:
    profiles = load_profiles(args.profiles)
    if args.engine_model is not None and args.engine_model not in profiles:
        raise SpecError(f"--engine-model: {args.engine_model!r} is not a profile; known: "
                        f"{', '.join(profiles)}.")
    if args.workers < 1:
        raise SpecError(f"--workers: {args.workers} is not valid (must be >= 1).")
    if args.cache_ttl <= 0:
        raise SpecError(f"--cache-ttl: {args.cache_ttl:g} is not valid (must be > 0 seconds).")
    if not (math.isfinite(args.read_timeout) and args.read_timeout > 0):
        raise SpecError(f"--read-timeout: {args.read_timeout:g} is not valid (must be a number of "
                        "seconds > 0, e.g. 30).")
    if args.max_in_flight is not None and args.max_in_flight < 1:
        raise SpecError(f"--max-in-flight: {args.max_in_flight} is not valid (must be an integer "
                        ">= 1; leave it out for no limit).")
    semantic = None
    if args.cache_mode == "semantic":
        if not (math.isfinite(args.semantic_threshold) and 0 <= args.semantic_threshold <= 1):
            raise SpecError(f"--semantic-threshold: {args.semantic_threshold:g} is not valid (a "
                            "cosine similarity from 0 to 1, e.g. 0.9).")
        if args.cache in ("none", "off"):
            raise SpecError("--cache-mode semantic needs a cache: use --cache memory or a Redis URL.")
        semantic = SemanticSettings(args.semantic_threshold, args.embeddings_url,
                                    args.embeddings_model)
    elif args.embeddings_url is not None:
        raise SpecError("--embeddings-url is used by --cache-mode semantic only; add it or drop "
                        "the URL.")
    return MockConfig(profiles=profiles, seed=args.seed, max_body_bytes=args.max_body_bytes,
                      source=args.profiles, api_key=args.api_key or None,
                      engine_model=args.engine_model, normalize=args.cache_mode == "normalize",
                      read_timeout_s=args.read_timeout, max_in_flight=args.max_in_flight,
                      semantic=semantic, coalesce=args.coalesce)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = build_config(args)
        serve(config, args.host, args.port, args.cache, cache_ttl_s=args.cache_ttl,
              cache_capacity=args.cache_capacity, access_log=args.access_log,
              workers=args.workers, timing_log=args.timing_log)
    except SuiteError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
