"""The driver's side of cache detection: the rule itself lives in the contract suite.cachesignal
(the analyzer re-applies it to recorded headers, and may not import the driver); here its JSON path
is compiled with the driver's field paths, and the run's header allow-list is fixed.

``cache_rule("present:X-Cache-Key")``: an answer carrying ``x-cache-key`` is a hit, one without it
a miss; ``cache_rule("auto")``: ``X-Cache: Hit from cloudfront`` is a hit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from suite.cachesignal import (
    AUTO_HEADERS,
    AUTO_JSON_FIELD,
    KINDS,
    CacheRule,
    allowlist,
    header_word,
    json_word,
    parse_rule,
)
from suite.driver.exchange.fieldpath import compile_path

__all__ = ["AUTO_HEADERS", "AUTO_JSON_FIELD", "KINDS", "CacheRule", "allowlist", "cache_headers",
           "cache_rule", "header_word", "json_word", "no_header"]


def cache_rule(spec: str) -> CacheRule:
    """Compile a ``--cache-detect`` spec, its JSON path included; SpecError naming the spec and the
    accepted forms."""
    rule = parse_rule(spec)
    if rule.json_path is None:
        return rule
    return replace(rule, json_get=compile_path(rule.json_path, f"--cache-detect {spec!r}"))


def no_header(name: str) -> None:
    """``get`` for a response that carried no allow-listed header."""
    return None


def cache_headers(resp: Any, names: Iterable[str],
                  name_set: frozenset[str] | None = None) -> dict[str, str] | None:
    """The allow-listed cache headers the response carries (``{lower-case name: value}``), or None
    when it carries none. Hot path: the client's headers are a dict keyed by lower-case name
    (geventhttpclient's ``Headers``), so one C-level key intersection finds the few present — most
    often none — and only those are read."""
    headers = getattr(resp, "headers", None)
    if headers is None:
        return None
    if isinstance(headers, dict):
        present = dict.keys(headers) & (name_set if name_set is not None else frozenset(names))
        if not present:
            return None
        names = present  # only these are read: a failing lookup costs an exception in the client
    out: dict[str, str] | None = None  # key order is free: records are written with sorted keys
    get = headers.get
    for name in names:
        value = get(name)
        if value is not None:
            if isinstance(value, list):  # a repeated header: the first, as _header reads it
                if not value:
                    continue
                value = value[0]
            if out is None:
                out = {}
            out[name] = value
    return out
