"""Keep secrets (API keys, credential headers) out of everything the suite writes.

Secrets reach the Locust child only through its environment. What can still leak is a value the
suite persists: a header list in run.json, or a target's error message that echoes the key back
("Incorrect API key provided: sk-..."). ``secret_header`` decides which headers are credentials;
``Redactor`` scrubs known secret values from any text before it is recorded.

>>> Redactor(["sk-123456"]).text("bad key sk-123456 given")
'bad key [redacted] given'
>>> redact_headers([("Authorization", "Bearer x"), ("X-Team", "blue")])
{'Authorization': '[redacted]', 'X-Team': 'blue'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"auth|key|token|secret|cookie|passw|credential|signature", re.IGNORECASE)
MIN_SECRET_LEN = 4  # shorter values would redact ordinary words


def secret_header(name: str) -> bool:
    """Authorization, api-key, X-Api-Key, Cookie, X-Auth-Token, ... are credentials."""
    return bool(_SECRET_NAME.search(name))


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a run may persist them: credential values replaced by ``[redacted]``."""
    return {name: REDACTED if secret_header(name) else value for name, value in headers}


def secret_values(headers: Iterable[tuple[str, str]], api_key: str | None) -> list[str]:
    """Every value that must never appear in a written file: the key and credential headers'
    values, plus the token part of ``Bearer <token>`` (a target may echo just that)."""
    out = [api_key] if api_key else []
    for name, value in headers:
        if secret_header(name):
            out.append(value)
            scheme, _, token = value.partition(" ")
            if token and scheme.lower() in ("bearer", "basic", "token"):
                out.append(token)
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
