"""A target is one thing: where the traffic goes and how every request, health check and metrics
scrape talks to it. ``run``, ``swap``, ``sweep cache`` and ``sweep load`` build the same ``Target``
from the same option group (suite.cli.targetopts) or from ``--target-file target.yaml``; the
library takes it whole, so no command can forget the key, a header or the cache rule.

The API key is held here and crosses into Locust only as an environment variable; ``describe()`` is
the form a run may persist, credentials redacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from suite.driver.control.config import DEFAULT_TIMEOUT_S
from suite.driver.control.requestopts import RequestOptions
from suite.driver.exchange.redact import Redactor
from suite.errors import SpecError

DEFAULT_HEALTH_PATH = "/health"
HEALTH_METHODS = ("GET", "HEAD", "POST")


def strip_v1(url: str) -> tuple[str, str | None]:
    """``http://h:8000/v1`` (the OpenAI SDK's base URL) → ``http://h:8000`` and a notice; requests
    go to ``<url><path>`` with paths that already start with ``/v1``. Other URLs come back as given
    (without a trailing ``/``) and no notice."""
    base = url.rstrip("/")
    if base.endswith("/v1"):
        stripped = base[: -len("/v1")]
        return stripped, (f"--target {url} ends in /v1, the SDK-style base URL; requests already go "
                          f"to /v1/..., so the target is {stripped}")
    return base, None


@dataclass(frozen=True, repr=False)
class Target:
    """Everything about the target a run needs: URL, request shape and auth (``request``: kind, path,
    headers, key header, request-id header, cache rule, content checks), the key, the health check,
    the per-request limits, and the gateway preset it was built from (None: none)."""

    url: str
    request: RequestOptions = field(default_factory=RequestOptions)
    api_key: str | None = field(default=None, repr=False)  # sent, never written
    health_path: str = DEFAULT_HEALTH_PATH
    health_method: str = "GET"
    timeout_s: float = DEFAULT_TIMEOUT_S
    ttft_timeout_s: float | None = None
    preset: str | None = None

    def __post_init__(self) -> None:
        if not self.health_path.startswith("/"):
            raise SpecError(f"--health-path: {self.health_path!r} must start with '/', e.g. /health.")
        if self.health_method not in HEALTH_METHODS:
            raise SpecError(f"--health-method: {self.health_method!r} is not one of "
                            f"{', '.join(HEALTH_METHODS)}.")

    def __repr__(self) -> str:
        """The redacted form: a Target in an error message or a log never shows a credential."""
        return f"Target({self.describe()!r})"

    def auth_headers(self) -> dict[str, str]:
        """The headers every request to the target carries — the extra ``--header`` values and the
        key — for the health check and the ``/metrics`` monitor too (a gateway may guard them)."""
        return self.request.auth_headers(self.api_key)

    def secrets(self) -> list[str]:
        return self.request.secrets(self.api_key)

    def with_url(self, url: str) -> Target:
        return replace(self, url=url)

    def describe(self) -> dict[str, Any]:
        """The target as run.json and sweep.json may keep it: credentials redacted."""
        out = {"url": self.url, "preset": self.preset, "health_path": self.health_path,
               "health_method": self.health_method, "timeout_s": self.timeout_s,
               "ttft_timeout_s": self.ttft_timeout_s, "api_key": "<redacted>" if self.api_key else None,
               "request": self.request.describe(self.api_key)}
        return Redactor(self.secrets()).tree(out)


def as_target(target: str | Target, *, api_key: str | None = None, request: RequestOptions | None = None,
              ttft_timeout_s: float | None = None, timeout_s: float | None = None,
              health_path: str = DEFAULT_HEALTH_PATH, health_method: str = "GET") -> Target:
    """One ``Target`` whichever way a library caller named it: a URL string keeps the older calling
    convention (key, request options, timeouts, health check given one by one); a ``Target`` is
    taken whole, and a setting given beside it too is an error, not a silent override."""
    if isinstance(target, Target):
        given = [name for name, value in (("api_key", api_key), ("request", request),
                                          ("ttft_timeout_s", ttft_timeout_s), ("timeout_s", timeout_s))
                 if value is not None]
        if given:
            raise SpecError(f"run: the Target already says {', '.join(given)}; set it on the Target "
                            f"(dataclasses.replace) instead of passing it again.")
        return target
    return Target(url=str(target).rstrip("/"), request=request or RequestOptions(), api_key=api_key,
                  health_path=health_path, health_method=health_method,
                  timeout_s=DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s,
                  ttft_timeout_s=ttft_timeout_s)
