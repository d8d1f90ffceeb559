"""What each request of a run looks like and how its answer is judged: one validated value.

``RequestOptions`` is part of ``DriverConfig`` and crosses into the Locust child as one JSON
environment variable (``LLMSUITE_REQUEST``) — never a file, since its headers may hold
credentials. ``describe()`` is the form a run may persist (run.json): credentials redacted.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import orjson

from suite.cachesignal import SERVED_KEY_HEADER, SIMILARITY_HEADER, ServedRule, served_rule
from suite.driver.exchange.cachedetect import cache_rule
from suite.driver.exchange.checks import ContentChecks
from suite.driver.exchange.redact import Redactor, redact_headers, redact_template, secret_values
from suite.driver.exchange.targets import TargetOptions, build_target
from suite.errors import SpecError

DEFAULT_TOKEN_CHECK_SAMPLE = 0.01
DEFAULT_REQUEST_ID_HEADER = "X-Request-Id"


@dataclass(frozen=True)
class RequestOptions:
    """Target kind, headers, request-id, cache detection, content checks, token cross-check."""

    kind: str = "openai-chat"
    path: str | None = None
    engine_template: str | None = None
    text_field: str | None = None
    id_field: str | None = None
    stream_end: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    api_key_header: str = "Authorization"  # "Authorization" sends "Bearer <key>", others the key
    request_id_header: str | None = DEFAULT_REQUEST_ID_HEADER  # None: not sent
    response_id_header: str | None = "x-request-id"  # fallback when the body has no id
    cache_detect: str = "auto"
    # the headers naming the cache entry a hit was served from, and its similarity (recorded in
    # ``cache_headers``; suite.cachesignal.ServedRule); "none" reads none
    served_key_header: str = SERVED_KEY_HEADER
    similarity_header: str = SIMILARITY_HEADER
    require_fields: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    forbid_regex: tuple[str, ...] = ()
    min_length: int | None = None
    token_check_sample: float = DEFAULT_TOKEN_CHECK_SAMPLE

    def __post_init__(self) -> None:
        build_target(self.target_options())
        cache_rule(self.cache_detect)
        self.served()
        self.checks()
        rate = self.token_check_sample
        if not (math.isfinite(rate) and 0 <= rate <= 1):
            raise SpecError(f"--token-check-sample: {rate} is not valid (a share of requests in "
                            f"[0, 1], e.g. 0.01 for 1 %).")
        for name, value in self.headers:
            if not name or any(c in name for c in " :\r\n") or "\n" in value or "\r" in value:
                raise SpecError(f"--header: {name!r} is not a valid header; write 'Name: value'.")

    def target_options(self) -> TargetOptions:
        return TargetOptions(kind=self.kind, path=self.path, engine_template=self.engine_template,
                             text_field=self.text_field, id_field=self.id_field,
                             stream_end=self.stream_end)

    def served(self) -> ServedRule:
        return served_rule(self.served_key_header, self.similarity_header)

    def checks(self) -> ContentChecks:
        return ContentChecks.build(self.require_fields, self.forbid, self.forbid_regex,
                                   self.min_length)

    def base_headers(self, api_key: str | None) -> dict[str, str]:
        """The headers every request carries (the per-request id and Accept are added later)."""
        headers = {"Content-Type": "application/json", "Accept-Encoding": "identity",
                   **dict(self.headers)}
        if api_key:
            auth = self.api_key_header
            headers[auth] = f"Bearer {api_key}" if auth.lower() == "authorization" else api_key
        return headers

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """The extra ``--header`` values and the key, without the body headers: what the health
        checks and the ``/metrics`` monitor send too (a gateway may guard them)."""
        return {k: v for k, v in self.base_headers(api_key).items()
                if k not in ("Content-Type", "Accept-Encoding")}

    def secrets(self, api_key: str | None) -> list[str]:
        """Values that must never be written: the key, credential headers, template fields."""
        return secret_values(self.headers, api_key, self.engine_template)

    def describe(self, api_key: str | None = None) -> dict[str, Any]:
        """The options as run.json may keep them: credential headers' values and the engine
        template's credential fields redacted, then every known secret value (``api_key``
        included) scrubbed wherever else it appears, e.g. repeated in an innocently named header."""
        out = asdict(self)
        out["headers"] = redact_headers(self.headers)
        out["engine_template"] = redact_template(self.engine_template)
        return Redactor(self.secrets(api_key)).tree(out)

    def to_json(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def from_json(cls, raw: str) -> RequestOptions:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise SpecError(f"LLMSUITE_REQUEST is not valid JSON ({exc}); start runs with "
                            f"`llmsuite run`.") from None
        known = {f.name for f in fields(cls)}
        if not isinstance(obj, dict) or set(obj) - known:
            raise SpecError(f"LLMSUITE_REQUEST: unknown option(s); known: {', '.join(sorted(known))}.")
        obj["headers"] = tuple(tuple(h) for h in obj.get("headers", ()))
        for name in ("require_fields", "forbid", "forbid_regex"):
            obj[name] = tuple(obj.get(name, ()))
        return cls(**obj)


def parse_header(raw: str) -> tuple[str, str]:
    """``"Name: value"`` → ``("Name", "value")``, both stripped (``"X-Team:  blue "`` →
    ``("X-Team", "blue")``); the value may hold colons."""
    name, colon, value = raw.partition(":")
    if not colon or not name.strip():
        raise SpecError(f"--header: {raw!r} is not 'Name: value', e.g. --header 'X-Team: blue'.")
    return name.strip(), value.strip()
