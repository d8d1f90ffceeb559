"""Cache detection rules: header values, header presence, JSON fields, bad specs."""

from __future__ import annotations

import pytest

from suite.driver.exchange.cachedetect import cache_rule
from suite.errors import SpecError


def headers(**kw: str):  # the client reports header names case-insensitively: lower-case here
    lower = {k.lower().replace("_", "-"): v for k, v in kw.items()}
    return lower.get


@pytest.mark.parametrize("spec, hdrs, want", [
    ("auto", headers(X_Cache="HIT"), "hit"),
    ("auto", headers(X_Cache_Status="MISS"), "miss"),
    ("auto", headers(CF_Cache_Status="EXPIRED"), "miss"),
    ("auto", headers(X_Cache="weird", CF_Cache_Status="HIT"), "hit"),  # unknown value: try next
    ("auto", headers(), None),
    ("none", headers(X_Cache="HIT"), None),
    ("header:X-Upstream-Cache", headers(X_Upstream_Cache="hit"), "hit"),
    ("header:X-Upstream-Cache", headers(X_Cache="HIT"), None),  # only the named header
    ("header:X-Served=cache|edge", headers(X_Served="EDGE"), "hit"),
    ("header:X-Served=cache|edge", headers(X_Served="origin"), "miss"),
    ("present:X-Cache-Key", headers(X_Cache_Key="abc"), "hit"),
    ("present:X-Cache-Key", headers(), "miss"),
    ("json:meta.cached", headers(X_Cache="HIT"), None),  # json rules ignore headers
])
def test_cache_from_headers(spec: str, hdrs, want: str | None) -> None:
    assert cache_rule(spec).from_headers(hdrs) == want


@pytest.mark.parametrize("spec, obj, want", [
    ("auto", {"cached": True}, "hit"),
    ("auto", {"cached": False}, "miss"),
    ("auto", {"response": "x"}, None),
    ("json:meta.cache", {"meta": {"cache": "HIT"}}, "hit"),
    ("json:meta.cache", {"meta": {"cache": 1}}, None),
    ("header:X-Cache", {"cached": True}, None),
])
def test_cache_from_json(spec: str, obj: dict, want: str | None) -> None:
    assert cache_rule(spec).from_json(obj) == want


@pytest.mark.parametrize("spec", ["", "header:", "present:", "json:", "json:a..b", "etag",
                                  "header:X=", "auto:x"])
def test_bad_cache_specs(spec: str) -> None:
    with pytest.raises(SpecError, match="--cache-detect"):
        cache_rule(spec)


def test_auto_reads_a_cdn_sentence() -> None:
    assert cache_rule("auto").from_headers(headers(X_Cache="Hit from cloudfront")) == "hit"
