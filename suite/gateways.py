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
    cache_detect: str  # a --cache-detect rule (suite.driver.exchange.cachedetect)
    health_path: str = "/health"
    health_method: str = "GET"
    api_key_header: str = "Authorization"
    docs: str = ""  # the page that documents the cache signal
    note: str = ""


# TODO(gateways helper): verify each entry against the gateway's documentation and complete it.
PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("litellm", "LiteLLM proxy", "present:x-litellm-cache-key", health_path="/health/liveliness"),
    Preset("cloudflare", "Cloudflare AI Gateway", "header:cf-aig-cache-status=HIT"),
    Preset("portkey", "Portkey", "header:x-portkey-cache-status=HIT|SEMANTIC HIT"),
    Preset("helicone", "Helicone", "header:helicone-cache=HIT"),
)}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; SpecError naming the known ones."""
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise SpecError(f"--target-preset: unknown gateway preset {name!r}; known: "
                        f"{', '.join(sorted(PRESETS))}.") from None
