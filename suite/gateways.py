"""Gateway presets: how each known OpenAI-compatible gateway signals a cache hit, where its health
check is, and which header carries the key — as each gateway documents it (docs/gateways.md cites
the pages). A contract (pure data): the CLI builds a ``Target`` from it, the driver records the
headers it names, and the analyzer says which signal it found.

``--target-preset NAME`` (or ``preset:`` in a target file) fills in what the user did not give.
"""

from __future__ import annotations

from dataclasses import dataclass

from suite.errors import SpecError


@dataclass(frozen=True)
class Preset:
    """One gateway's documented conventions."""

    name: str
    title: str
    cache_detect: str  # a --cache-detect rule (suite.cachesignal)
    health_path: str = "/health"
    health_method: str = "GET"
    api_key_header: str = "Authorization"
    docs: str = ""  # the page that documents the cache signal
    note: str = ""


# Each entry from the gateway's own documentation (the page in ``docs``; docs/gateways.md quotes
# what it says). Prompt (prefix) caches — vLLM, SGLang, OpenAI — are not response caches: the
# answer is still generated, token by token. Their reuse is recorded per request as
# ``cached_tokens``; their ``cache_detect`` is ``none`` so a prefix hit never counts as a cache hit.
PREFIX_NOTE = ("a prompt (prefix) cache, not a response cache: every answer is still generated; "
               "reuse shows as cached_tokens (usage.prompt_tokens_details.cached_tokens), and "
               "--cache-detect json:usage.prompt_tokens_details.cached_tokens counts a request "
               "with cached_tokens > 0 as a hit if you want that split")
PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("litellm", "LiteLLM proxy", "present:x-litellm-cache-key",
           health_path="/health/liveliness",
           docs="https://docs.litellm.ai/docs/proxy/caching",
           note="x-litellm-cache-key is sent on cache hits only, so its absence is a miss; "
                "/health/liveliness needs no key and makes no LLM call (GET /health calls every "
                "model: https://docs.litellm.ai/docs/proxy/health); the key is a virtual key "
                "sent as Authorization: Bearer"),
    Preset("cloudflare", "Cloudflare AI Gateway", "header:cf-aig-cache-status=HIT",
           health_path="/",
           docs="https://developers.cloudflare.com/ai-gateway/features/caching/",
           note="cf-aig-cache-status is HIT or MISS; the provider key goes in Authorization, an "
                "authenticated gateway also wants cf-aig-authorization: Bearer <token> (add it "
                "with --header); the gateway documents no health endpoint, so --health-path "
                "should name one of your own (any HTTP answer at / proves only reachability)"),
    Preset("portkey", "Portkey", "header:x-portkey-cache-status=HIT|SEMANTIC HIT",
           health_path="/", api_key_header="x-portkey-api-key",
           docs="https://portkey.ai/docs/api-reference/inference-api/response-schema",
           note="x-portkey-cache-status: HIT, SEMANTIC HIT, MISS, SEMANTIC MISS, DISABLED (no cache "
                "header sent), REFRESH; the Portkey key goes in x-portkey-api-key, the provider's "
                "(or a virtual key) with --header; the self-hosted gateway answers GET /"),
    Preset("helicone", "Helicone", "header:helicone-cache=HIT",
           health_path="/",
           docs="https://docs.helicone.ai/features/advanced-usage/caching",
           note="caching is per request: send --header 'Helicone-Cache-Enabled: true'; the "
                "response header Helicone-Cache says HIT or MISS; the Helicone key goes in "
                "Helicone-Auth: Bearer <key> (--header) beside the provider's Authorization; "
                "no health endpoint is documented"),
    Preset("kong", "Kong AI Gateway (AI Semantic Cache plugin)", "header:x-cache-status=Hit",
           health_path="/status",
           docs="https://developer.konghq.com/plugins/ai-semantic-cache/",
           note="the plugin answers X-Cache-Status: Hit / Miss / Bypass / Refresh beside "
                "X-Cache-Key and X-Cache-Ttl; its hits are semantic (a similar prompt, not the "
                "same one); /status is on Kong's status listener, not the proxy port: point "
                "--health-path at a route of yours when they differ; the key header is whatever "
                "the route's auth plugin reads (key-auth: apikey, set --api-key-header)"),
    Preset("envoy", "Envoy AI Gateway", "none",
           docs="https://aigateway.envoyproxy.io/docs/capabilities/llm-integrations/prompt-caching",
           note="documents provider prompt caching (cache_control passed through) and no "
                "response cache or cache header, so hits are not detected; reuse shows as "
                "cached_tokens when the provider reports it; no health path of its own is "
                "documented: set --health-path"),
    Preset("vllm", "vLLM", "none", health_path="/health",
           docs="https://docs.vllm.ai/en/stable/features/automatic_prefix_caching.html",
           note=f"{PREFIX_NOTE}; vLLM reports cached_tokens only when started with "
                f"--enable-prompt-tokens-details; its key (--api-key) is Authorization: Bearer"),
    Preset("sglang", "SGLang", "none", health_path="/health",
           docs="https://docs.sglang.io/docs/references/production_metrics",
           note=f"{PREFIX_NOTE}; SGLang reports cached_tokens when started with "
                f"--enable-cache-report; its key (--api-key) is Authorization: Bearer"),
    Preset("openai", "OpenAI API", "none", health_path="/v1/models",
           docs="https://platform.openai.com/docs/guides/prompt-caching",
           note=f"{PREFIX_NOTE} (automatic for prompts of 1024 tokens and more); there is no "
                f"health endpoint, GET /v1/models with the key stands in"),
)}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; SpecError naming the known ones."""
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise SpecError(f"--target-preset: unknown gateway preset {name!r}; known: "
                        f"{', '.join(sorted(PRESETS))}.") from None
