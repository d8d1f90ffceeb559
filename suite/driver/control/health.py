"""Check that a target answers before starting Locust, and say how to fix it when it does not.

First ``GET /health``: a 2xx there is enough. A target without one (a real engine may answer 404)
is asked a 1-token request of the run's own kind, path, headers and key (``Probe``): that one must
succeed, so a wrong key, path or body template fails in a second with a message saying which
(``probe_problem``), not after a whole run of errors. Without a probe, ``/v1/models`` is tried and
any HTTP answer counts as reachable. A connection that cannot be made — refused, timed out,
unresolvable — is always a TargetError. Proxies from the environment are ignored: the load goes
straight to the target, so the check must too.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from suite.driver.control.requestopts import RequestOptions
from suite.driver.exchange.measure import error_message
from suite.driver.exchange.redact import Redactor
from suite.driver.exchange.targets import build_target
from suite.errors import TargetError
from suite.records import CorpusRequest

HEALTH_PATHS = ("/health", "/v1/models")
PROBE_MESSAGE = "llmsuite health check: answer with one word."
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def reason(exc: BaseException) -> str:
    """A short human reason for a failed connection: 'connection refused', 'timed out', ..."""
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "host name not resolved"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def hint(target: str) -> str:
    """What to do about an unreachable target: start the mock for loopback, else check the URL."""
    parts = urlsplit(target)
    if parts.hostname in _LOOPBACK:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"Is the mock server running? Start it with: llmsuite mock --port {port}"
    return "Check the target URL and that the engine is running and reachable from here."


def unreachable_message(url: str, why: str, target: str) -> str:
    """The TargetError message: the URL tried, why it failed, and the fix (asserted in tests)."""
    return f"cannot reach target {url} ({why}). {hint(target)}"


@dataclass(frozen=True)
class Probe:
    """A 1-token request shaped like the run's own (kind, path, headers, key)."""

    path: str
    body: bytes
    headers: dict[str, str]
    kind: str
    secrets: list[str] = field(default_factory=list)


def health_probe(opts: RequestOptions, path: str, api_key: str | None,
                 sample: CorpusRequest) -> Probe:
    """The probe for a run: ``sample`` (a corpus request: its model and session) asking one token,
    not streamed, with a message of its own — never a corpus prompt, which a caching target would
    then answer as a hit during the run."""
    target = build_target(replace(opts.target_options(), path=path))
    req = replace(sample, id="llmsuite-health-probe", max_tokens=1, stream=False,
                  messages=[{"role": "user", "content": PROBE_MESSAGE}])
    headers = {**opts.base_headers(api_key), "Accept": "application/json"}
    if opts.request_id_header:
        headers[opts.request_id_header] = req.id
    return Probe(path, target.body(req), headers, opts.kind, opts.secrets(api_key))


def probe_problem(url: str, status: int, body: bytes, kind: str) -> str | None:
    """Why a probe's answer means the run cannot work, or None (2xx, or 429: alive, throttled)."""
    if 200 <= status < 300 or status == 429:
        return None
    why = f"HTTP {status}: {error_message(body)}"
    if status in (401, 403):
        return (f"target {url} refused the credentials of a 1-token test request ({why}). Check "
                f"--api-key / LLMSUITE_API_KEY and --header.")
    if status in (404, 405):
        return (f"target {url} has no such endpoint ({why}). Check --target-path and --target-kind "
                f"(this run is {kind!r}).")
    if status < 500:
        return (f"target {url} rejected a 1-token test request ({why}). Check --target-kind "
                f"{kind!r} and, for an engine, --engine-template.")
    return f"target {url} is unhealthy: a 1-token test request answered {why}."


def post_probe(url: str, probe: Probe, timeout: float) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=probe.body, headers=probe.headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as resp:
            return int(resp.status), resp.read(4096)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), exc.read(4096)


def probe(url: str, timeout: float) -> int:
    """GET ``url`` without proxies; return the HTTP status (errors statuses included)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, method="GET"), timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def check_target(target: str, timeout: float = 5.0, probe: Probe | None = None) -> int:
    """Raise TargetError unless ``target`` is healthy (see the module docstring); return the
    status of the check that passed."""
    target = target.rstrip("/")
    status = _get(target + HEALTH_PATHS[0], timeout, target)
    if 200 <= status < 300:
        return status
    if probe is None:
        return _get(target + HEALTH_PATHS[1], timeout, target)
    url = target + probe.path
    try:
        status, body = post_probe(url, probe, timeout)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        raise TargetError(unreachable_message(url, reason(exc), target)) from None
    problem = probe_problem(url, status, body, probe.kind)
    if problem:
        raise TargetError(Redactor(probe.secrets).text(problem))
    return status


def _get(url: str, timeout: float, target: str) -> int:
    try:
        return probe(url, timeout)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        raise TargetError(unreachable_message(url, reason(exc), target)) from None
