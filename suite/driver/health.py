"""Check that a target answers HTTP before starting Locust, and say how to fix it when it does not.

Any HTTP answer counts as reachable (a real engine may have no ``/health`` and answer 404); only a
connection that cannot be made — refused, timed out, unresolvable — is a TargetError. Proxies from
the environment are ignored: the load goes straight to the target, so the check must too.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from suite.errors import TargetError

HEALTH_PATHS = ("/health", "/v1/models")
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


def probe(url: str, timeout: float) -> int:
    """GET ``url`` without proxies; return the HTTP status (errors statuses included)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, method="GET"), timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def check_target(target: str, timeout: float = 5.0) -> int:
    """Raise TargetError unless ``target`` answers HTTP; return the status of the first probe
    that answered 2xx (or of the last one that answered at all)."""
    target = target.rstrip("/")
    status = 0
    for path in HEALTH_PATHS:
        url = target + path
        try:
            status = probe(url, timeout)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            raise TargetError(unreachable_message(url, reason(exc), target)) from None
        if 200 <= status < 300:
            return status
    return status
