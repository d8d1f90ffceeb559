"""What the probe asks, and in which order: the kinds and paths tried, the headers a key may go in,
the health paths, the body of each request (the shapes a run sends, suite.driver.exchange.targets),
and the messages that end a probe which cannot go on. Pure: probe.py sends what this builds.
"""

from __future__ import annotations

from typing import Any

import orjson

from suite.gateways import PRESETS
from suite.init.answer import Answer, excerpt

# (kind, path) in the order tried: the kinds of suite.driver.exchange.targets, then the usual
# paths of a JSON engine (the bundled mock's is /api/chat)
KIND_TRIES: tuple[tuple[str, str], ...] = (
    ("openai-chat", "/v1/chat/completions"), ("openai-completions", "/v1/completions"),
    ("engine", "/api/chat"), ("engine", "/chat"), ("engine", "/api/v1/chat"))
# headers a key may go in, in the order tried: OpenAI's, Azure's, the common API-gateway ones,
# then every gateway preset's own
KEY_HEADERS: tuple[str, ...] = tuple(dict.fromkeys(
    ("Authorization", "api-key", "x-api-key", "apikey",
     *(p.api_key_header for p in PRESETS.values()))))
HEALTH_TRIES: tuple[str, ...] = tuple(dict.fromkeys(
    ("/health", "/healthz", "/health/liveliness", "/status", "/v1/models",
     *(p.health_path for p in PRESETS.values()))))
DEFAULT_MODEL = "gpt-4o-mini"  # asked for only when the target lists no model
PROBE_TOKENS = 8
TEMPLATE_EXAMPLE = ("llmsuite run --target-kind engine --target-path /your/path --engine-template "
                    "'{\"question\": \"{message}\", \"conversation\": \"{session_id}\"}' "
                    "--text-field answer.text")


def request_body(kind: str, model: str, prompt: str, stream: bool, session: str) -> bytes:
    """The body a run of ``kind`` would send for a one-message request (targets.py's shapes)."""
    if kind == "engine":
        return orjson.dumps({"message": prompt, "session_id": session, "stream": stream})
    body: dict[str, Any] = {"model": model, "max_tokens": PROBE_TOKENS, "temperature": 0, "stream": stream}
    if kind == "openai-chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if stream:
        body["stream_options"] = {"include_usage": True}
    return orjson.dumps(body)


def key_headers(header: str | None, key: str | None) -> dict[str, str]:
    """How a run sends the key: ``Authorization: Bearer KEY``, any other header the key alone."""
    if header is None or key is None:
        return {}
    return {header: f"Bearer {key}" if header.lower() == "authorization" else key}


def no_kind_message(url: str, tries: list[Answer]) -> str:
    """Nothing the suite knows answered: say what was tried and how to describe the engine."""
    seen = "; ".join(f"POST {a.path} → {a.status_text()}"
                     + ("" if a.missing_route or not a.body else f" ({excerpt(a.body, 80)})")
                     for a in tries) or "nothing"
    model = any(a.model_problem for a in tries)
    hint = "If the target wants another model, name one with --model NAME. " if model else ""
    return (f"{url} answers none of the known APIs ({seen}). {hint}If it is a JSON engine, describe its "
            f"request and where the text is, e.g. {TEMPLATE_EXAMPLE} (or kind: engine, path:, "
            f"engine_template:, text_field: in target.yaml; docs/cli.md).")


def refused_message(url: str, answer: Answer, key_env: str | None) -> str:
    said = excerpt(answer.body)
    if key_env is None:
        return (f"{url} wants a key ({answer.line()}: {said}); put it in an environment variable and "
                f"re-run with --api-key-env NAME.")
    return (f"{url} refused the key in ${key_env} in every header tried ({', '.join(KEY_HEADERS)}): "
            f"{answer.line()}: {said}; check the key (and that ${key_env} holds this target's).")
