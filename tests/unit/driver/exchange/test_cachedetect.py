"""Cache detection rules: header values, header presence, JSON fields, bad specs; auto's preset
signals; the header allow-list a record keeps, and capturing it from a response."""

from __future__ import annotations

import pytest

from suite.cachesignal import AUTO_HEADERS, HIT_ONLY, allowlist, auto_signals, preset_of
from suite.driver.exchange.cachedetect import cache_headers, cache_rule
from suite.errors import SpecError
from suite.gateways import PRESETS


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
    ("json:meta.cache", {"meta": {"cache": 1.5}}, None),
    ("json:meta.cache", {"meta": {"cache": None}}, None),
    ("json:usage.prompt_tokens_details.cached_tokens",
     {"usage": {"prompt_tokens_details": {"cached_tokens": 64}}}, "hit"),
    ("json:usage.prompt_tokens_details.cached_tokens",
     {"usage": {"prompt_tokens_details": {"cached_tokens": 0}}}, "miss"),
    ("json:usage.prompt_tokens_details.cached_tokens", {"usage": {}}, None),
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


@pytest.mark.parametrize("hdrs, want", [
    (headers(CF_AIG_Cache_Status="HIT"), "hit"),
    (headers(CF_AIG_Cache_Status="MISS", CF_Cache_Status="HIT"), "miss"),  # the gateway's own first
    (headers(X_Portkey_Cache_Status="SEMANTIC HIT"), "hit"),
    (headers(X_Portkey_Cache_Status="DISABLED"), "miss"),
    (headers(Helicone_Cache="HIT"), "hit"),
    (headers(Helicone_Cache="MISS"), "miss"),
    (headers(X_Litellm_Cache_Key="abc123"), "hit"),
    (headers(X_Cache_Status="Hit"), "hit"),  # Kong's AI Semantic Cache
    (headers(X_Cache_Status="Miss"), "miss"),
])
def test_auto_reads_every_preset_signal(hdrs, want: str) -> None:
    assert cache_rule("auto").from_headers(hdrs) == want


def test_auto_presence_header_only_says_hit() -> None:
    """LiteLLM's key header on hits only: in auto its absence is no verdict (the target may be no
    LiteLLM at all), so a later header still decides, and nothing at all stays unknown."""
    assert cache_rule("auto").from_headers(headers()) is None
    assert cache_rule("auto").from_headers(headers(X_Cache="MISS")) == "miss"
    assert cache_rule("present:x-litellm-cache-key").from_headers(headers()) == "miss"
    assert [s.mode for s in auto_signals() if s.name == "x-litellm-cache-key"] == [HIT_ONLY]


def test_found_names_the_signal_and_its_preset() -> None:
    rule = cache_rule("auto")
    got = rule.found(headers(Helicone_Cache="HIT", X_Cache="MISS"))
    assert got is not None and got.name == "helicone-cache" and preset_of(got) == "helicone"
    plain = rule.found(headers(X_Cache="HIT"))
    assert plain is not None and plain.name == "x-cache" and preset_of(plain) is None
    assert rule.found(headers()) is None


def test_allowlist_holds_every_preset_header_and_the_rule_header() -> None:
    names = allowlist(cache_rule("present:X-My-Hit"))
    assert names[-1] == "x-my-hit" and set(AUTO_HEADERS) <= set(names)
    for preset in PRESETS.values():
        kind, _, arg = preset.cache_detect.partition(":")
        if kind in ("header", "present"):
            assert arg.split("=")[0].lower() in names
    assert allowlist(cache_rule("header:X-Cache")) == allowlist(cache_rule("auto"))  # no duplicate


class _Resp:
    def __init__(self, headers: dict) -> None:
        self.headers = headers


def test_cache_headers_keeps_only_allowlisted_present_headers() -> None:
    names = allowlist(cache_rule("auto"))
    resp = _Resp({"x-cache": "HIT", "helicone-cache": ["MISS", "HIT"], "content-type": "x",
                  "cf-cache-status": []})
    assert cache_headers(resp, names) == {"x-cache": "HIT", "helicone-cache": "MISS"}
    assert cache_headers(_Resp({"content-type": "x"}), names) is None
    assert cache_headers(object(), names) is None


def test_cache_headers_from_the_clients_own_header_type() -> None:
    """geventhttpclient's Headers: a dict keyed by lower-case name, read case-blind (the fast path
    intersects its keys with the allow-list; a test fails here if that layout changes)."""
    from geventhttpclient.header import Headers

    got = Headers()
    for name, value in (("Content-Type", "text/event-stream"), ("X-Cache", "HIT"),
                        ("Helicone-Cache", "MISS"), ("helicone-cache", "HIT")):
        got.add(name, value)
    names = allowlist(cache_rule("auto"))
    kept = cache_headers(_Resp(got), names, frozenset(names))
    assert kept == {"x-cache": "HIT", "helicone-cache": "MISS"}
    assert cache_headers(_Resp(Headers({"Content-Type": "x"})), names, frozenset(names)) is None


def test_a_stream_usage_rule_reads_the_last_chunk() -> None:
    """vLLM-style prompt-cache rule: usage (with cached_tokens) arrives in the stream's last chunk."""
    from suite.driver.exchange.measure import StreamAccumulator

    rule = cache_rule("json:usage.prompt_tokens_details.cached_tokens")
    acc = StreamAccumulator(0.0, "gpt-4o", cache_json=rule.from_json)
    acc.add_raw((b'{"choices":[{"delta":{"content":"hi"}}]}',
                 b'{"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,'
                 b'"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":8}}}', b"[DONE]"), 0.1)
    m = acc.finish(0.2)
    assert m.ok and m.cache == "hit" and m.cached_tokens == 8
