"""``run.json``: what the driver was asked to do and what it did, for the analyzer to read back.

The locustfile writes it twice: at test start (so a crashed run still says what it was) and at
test stop (end time, requests sent and recorded). Writes are atomic (temp file + rename) so the
analyzer never reads half a file.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

import suite
from suite.cachesignal import ServedRule
from suite.driver.exchange.cachedetect import allowlist, cache_rule
from suite.records import RunMeta

_VERSIONED = ("locust", "geventhttpclient", "orjson", "tiktoken")


def versions() -> dict[str, str]:
    """Versions that change measurements, read without importing the packages (no gevent here)."""
    out = {"python": platform.python_version(), "suite": suite.__version__}
    for dist in _VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def cache_headers_meta(spec: str, served: ServedRule | None = None) -> dict[str, Any]:
    """run.json ``extra.cache_headers``: the run's ``--cache-detect`` rule and the header names its
    records keep, so ``analyze --cache-detect`` knows which absences are meaningful (a header not
    in the list was never looked at, not absent); ``served``: the served-key and similarity headers."""
    out: dict[str, Any] = {"rule": spec, "allowlist": list(allowlist(cache_rule(spec), served))}
    if served is not None:
        out["served"] = {"key": served.key or None, "similarity": served.similarity or None}
    return out


def write_run_meta(path: Path, meta: RunMeta) -> None:
    write_meta_dict(path, meta.to_dict())


def read_run_meta(path: Path) -> dict[str, Any] | None:
    """The run.json object, or None if the run never got far enough to write it."""
    try:
        obj = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return obj if isinstance(obj, dict) else None


def write_meta_dict(path: Path, obj: dict[str, Any]) -> None:
    """Rewrite run.json from its dict form (the runner adds a run's totals after Locust exits)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    tmp.replace(path)
