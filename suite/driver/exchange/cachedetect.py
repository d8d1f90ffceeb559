"""The driver's side of cache detection: the rule itself lives in the contract suite.cachesignal
(the analyzer re-applies it to recorded headers, and may not import the driver); here its JSON path
is compiled with the driver's field paths, and the run's header allow-list is fixed.

``cache_rule("present:X-Cache-Key")``: an answer carrying ``x-cache-key`` is a hit, one without it
a miss; ``cache_rule("auto")``: ``X-Cache: Hit from cloudfront`` is a hit.
"""

from __future__ import annotations

from dataclasses import replace

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

__all__ = ["AUTO_HEADERS", "AUTO_JSON_FIELD", "KINDS", "CacheRule", "allowlist", "cache_rule",
           "header_word", "json_word"]


def cache_rule(spec: str) -> CacheRule:
    """Compile a ``--cache-detect`` spec, its JSON path included; SpecError naming the spec and the
    accepted forms."""
    rule = parse_rule(spec)
    if rule.json_path is None:
        return rule
    return replace(rule, json_get=compile_path(rule.json_path, f"--cache-detect {spec!r}"))
