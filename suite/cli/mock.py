"""``llmsuite mock``: serve the bundled mock LLM server (``mock_server``) in the foreground."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from suite import api


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True, help="0 lets the OS choose.")
@click.option("--profiles", type=click.Path(path_type=Path), default=api.DEFAULT_PROFILES,
              show_default=True, help="Model latency profiles (YAML).")
@click.option("--cache", "cache_url", default="memory", show_default=True,
              help="Response cache: memory, none, or redis://HOST:PORT/DB.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--cache-ttl", type=float, default=3600.0, show_default=True,
              help="Cache entry TTL in seconds (Redis and memory).")
@click.option("--cache-mode", type=click.Choice(["exact", "normalize", "semantic"]), default="exact",
              show_default=True, help="normalize: keys ignore case, whitespace and punctuation; "
              "semantic: also serve a similar prompt's answer (docs/mock-server.md).")
@click.option("--semantic-threshold", type=click.FloatRange(0, 1), default=0.90, show_default=True,
              help="Semantic mode: cosine similarity from which a stored answer is served.")
@click.option("--embeddings-url", default=None,
              help="Semantic mode: an OpenAI-compatible /v1/embeddings (default: offline embedder).")
@click.option("--embeddings-model", default="text-embedding-3-small", show_default=True,
              help="Model asked of --embeddings-url.")
@click.option("--coalesce", is_flag=True,
              help="Single-flight: identical requests in flight wait for the first answer (hits).")
@click.option("--api-key", envvar="LLMSUITE_MOCK_API_KEY", default=None,
              help="Require 'Authorization: Bearer KEY' (or set $LLMSUITE_MOCK_API_KEY).")
@click.option("--engine-model", default=None, help="Model behind POST /api/chat (default: first profile).")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Processes sharing the port; each keeps its own memory cache and metrics.")
@click.option("--timing-log", type=click.Path(path_type=Path), default=None,
              help="Append one JSONL line of server-side timing per answered request.")
@click.option("--read-timeout", type=click.FloatRange(min=0, min_open=True, max=1e9), default=30.0,
              show_default=True, help="Seconds a request's headers, then its body, may take "
              "(slower clients get a 408).")
@click.option("--max-in-flight", type=click.IntRange(min=1), default=None,
              help="Generating requests answered at once; beyond: 503 with Retry-After "
              "(default: no limit).")
def mock(host: str, port: int, profiles: Path, cache_url: str, seed: int, cache_ttl: float,
         cache_mode: str, api_key: str | None, engine_model: str | None, workers: int,
         timing_log: Path | None, read_timeout: float, max_in_flight: int | None,
         semantic_threshold: float, embeddings_url: str | None, embeddings_model: str,
         coalesce: bool) -> None:
    """Serve the bundled OpenAI-compatible mock LLM server until Ctrl-C."""
    from mock_server.__main__ import API_KEY_ENV
    from mock_server.__main__ import main as mock_main

    args = ["--host", host, "--port", str(port), "--profiles", str(profiles), "--cache", cache_url,
            "--seed", str(seed), "--cache-ttl", str(cache_ttl), "--cache-mode", cache_mode,
            "--workers", str(workers), "--read-timeout", repr(read_timeout)]
    if max_in_flight is not None:
        args += ["--max-in-flight", str(max_in_flight)]
    if cache_mode == "semantic":
        args += ["--semantic-threshold", repr(semantic_threshold)]
    if embeddings_url:
        args += ["--embeddings-url", embeddings_url, "--embeddings-model", embeddings_model]
    if coalesce:
        args.append("--coalesce")
    if engine_model:
        args += ["--engine-model", engine_model]
    if timing_log is not None:
        args += ["--timing-log", str(timing_log)]
    if api_key:
        os.environ[API_KEY_ENV] = api_key  # through the environment: never in an argv or a log
    sys.exit(mock_main(args))
