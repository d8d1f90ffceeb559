"""Command-line values → spec overrides (``--arrival poisson:5`` → ``{process: poisson, rate: 5}``).

The overrides are then validated by ``parse_spec`` exactly like keys written in the YAML; only the
shape of the command-line text is checked here, with errors naming the option.
"""

from __future__ import annotations

from typing import Any

from suite.errors import SpecError
from suite.synth.arrivals import parse_arrival_option
from suite.synth.prefixreuse import pool_option


def reuse_distance_option(text: str) -> dict[str, float]:
    """``500`` → ``{requests: 500}``; ``60s`` → ``{seconds: 60}``."""
    raw = text.strip()
    try:
        if raw.endswith("s"):
            return {"seconds": float(raw[:-1])}
        return {"requests": int(raw)}
    except ValueError:
        raise SpecError(f"--reuse-distance: {text!r} is not a window (use N requests, e.g. 500, "
                        "or seconds, e.g. 60s).") from None


def number_list_option(name: str, text: str, kind: type = float) -> list[Any]:
    """``100,1000`` → ``[100, 1000]``."""
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SpecError(f"--{name}: {text!r} is not a comma-separated list of numbers "
                        "(e.g. 100,1000).") from None


def synth_overrides(*, popularity: str | None = None, near_duplicate_ratio: float | None = None,
                    reuse_distance: str | None = None, scope: str | None = None, users: int | None = None,
                    shared_prefix: float | None = None, arrival: str | None = None,
                    catalog_size: int | None = None, cache_capacity: str | None = None,
                    cache_ttl: str | None = None, hard_negative_ratio: float | None = None,
                    system_prompts: str | None = None, documents: str | None = None) -> dict[str, Any]:
    """Spec overrides for the options that were given (None = not given, the spec's value stays)."""
    out: dict[str, Any] = {"popularity": popularity, "near_duplicate_ratio": near_duplicate_ratio,
                           "scope": scope, "users": users, "shared_prefix": shared_prefix,
                           "catalog_size": catalog_size, "hard_negative_ratio": hard_negative_ratio}
    if system_prompts is not None:
        out["system_prompts"] = pool_option("system-prompts", system_prompts, with_probability=False)
    if documents is not None:
        out["documents"] = pool_option("documents", documents, with_probability=True)
    if reuse_distance is not None:
        out["reuse_distance"] = reuse_distance_option(reuse_distance)
    if arrival is not None:
        out["arrival"] = parse_arrival_option(arrival)
    if cache_capacity is not None or cache_ttl is not None:
        out["cache_model"] = {"capacity": number_list_option("cache-capacity", cache_capacity or "", int),
                              "ttl": number_list_option("cache-ttl", cache_ttl or "")}
    return {k: v for k, v in out.items() if v is not None}
