"""Keep secrets (API keys, credential headers) out of everything the suite writes.

Secrets reach the Locust child only through its environment. What can still leak is a value the
suite persists: a header list or an ``--engine-template`` body in run.json (an engine API may take
its key in the body: ``{"api_key": "..."}``), or a target's error message that echoes the key back
("Incorrect API key provided: sk-..."). ``secret_header`` decides which header names and body
fields are credentials; ``Redactor`` scrubs the known secret values (by value, wherever they
appear, whatever a field is called) from any text or JSON-like tree before it is recorded.
``Authorization`` / ``X-Team`` headers are kept as ``[redacted]`` / their value; an engine
template's ``{"auth": {"api_key": "sk-..."}}`` as ``{"auth": {"api_key": "[redacted]"}}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from suite.driver.exchange.engine_template import PLACEHOLDER

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"auth|key|token|secret|cookie|passw|credential|signature", re.IGNORECASE)
MIN_SECRET_LEN = 4  # shorter values would redact ordinary words


def secret_header(name: str) -> bool:
    """Authorization, api-key, X-Api-Key, Cookie, X-Auth-Token, ... are credentials."""
    return bool(_SECRET_NAME.search(name))


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a run may persist them: credential values replaced by ``[redacted]``."""
    return {name: REDACTED if secret_header(name) else value for name, value in headers}


def _with_token(value: str) -> list[str]:
    """The value, plus the token part of ``Bearer <token>`` (a target may echo just that)."""
    scheme, _, token = value.partition(" ")
    return [value, token] if token and scheme.lower() in ("bearer", "basic", "token") else [value]


def _template_fields(node: Any) -> Iterable[tuple[dict[str, Any], str]]:
    """(object, field) of every literal string under a credential-like field name, at any depth
    (a placeholder such as ``{message}`` is filled per request from the corpus, not a secret)."""
    if isinstance(node, dict):
        for name, value in node.items():
            if isinstance(value, str) and secret_header(name) and not PLACEHOLDER.search(value):
                yield node, name
            else:
                yield from _template_fields(value)
    elif isinstance(node, list):
        for item in node:
            yield from _template_fields(item)


def _template_tree(template: str | None) -> Any:
    if template is None:
        return None
    try:
        return orjson.loads(template)
    except orjson.JSONDecodeError:
        return None  # not JSON: the template's own validation reports it


def redact_template(template: str | None) -> str | None:
    """An ``--engine-template`` as a run may persist it: credential fields' literal values
    replaced by ``[redacted]`` (unchanged when it has none)."""
    tree = _template_tree(template)
    found = list(_template_fields(tree))
    if not found:
        return template
    for node, name in found:
        node[name] = REDACTED
    return orjson.dumps(tree).decode()


def secret_values(headers: Iterable[tuple[str, str]], api_key: str | None,
                  template: str | None = None) -> list[str]:
    """Every value that must never appear in a written file: the key, credential headers' values
    and credential fields of the engine template, each with its bare token."""
    out = [api_key] if api_key else []
    for name, value in headers:
        if secret_header(name):
            out.extend(_with_token(value))
    for node, name in _template_fields(_template_tree(template)):
        out.extend(_with_token(node[name]))
    return [s for s in out if len(s) >= MIN_SECRET_LEN]


class Redactor:
    """Replaces known secret values in text (used on error messages, off the hot path)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so "Bearer sk-x" is replaced whole before its "sk-x" part
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def error(self, err: dict[str, str] | None) -> dict[str, str] | None:
        if err is None or not self.secrets:
            return err
        return {k: self.text(v) for k, v in err.items()}

    def tree(self, node: Any) -> Any:
        """A JSON-like value with every known secret scrubbed from every string in it, keys
        included, whatever the field's name: a key repeated in an innocently named header
        (``X-Forwarded-Client: <key>``) is caught by its value, not its name."""
        if not self.secrets:
            return node
        if isinstance(node, str):
            return self.text(node)
        if isinstance(node, dict):
            return {self.text(k) if isinstance(k, str) else k: self.tree(v) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [self.tree(v) for v in node]
        return node
