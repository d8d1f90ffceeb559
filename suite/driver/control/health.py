"""Check that a target answers before starting Locust, and say how to fix it when it does not.

First ``GET /health`` (``--health-path`` / ``--health-method``, with the run's auth headers: a
gateway may guard it, and answer 500 or 401 without them): it proves the target is reachable,
nothing more — an open ``/health`` says nothing of the key, the path or the models. So then every
model of the corpus is asked a 1-token request of the run's own kind, path, headers and key
(``Probe``, one per model): each must be answered, so a wrong key, path, model or body template
fails in a second with a message naming the model, quoting the target and saying which option to fix
(``probe_problem``), not after a whole run of 401s. A 5xx, a 429, a broken body or no answer within
the check's timeout passes: the target is there, busy, slow or failing, which is what the run is to
measure (``--max-error-ratio`` judges it afterwards). Without probes, ``/v1/models`` is tried when
``/health`` is not 2xx, and any HTTP answer counts as reachable. A connection that cannot be made —
refused, a timed-out ``/health``, unresolvable — is always a TargetError. Proxies from the
environment are ignored: the load goes straight to the target, so the check must too.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from suite.driver.control.requestopts import RequestOptions
from suite.driver.exchange.measure import error_message
from suite.driver.exchange.redact import Redactor
from suite.driver.exchange.targets import build_target
from suite.errors import TargetError
from suite.records import CorpusRequest

HEALTH_PATHS = ("/health", "/v1/models")
PROBE_MESSAGE = "llmsuite health check: answer with one word."
PROBE_ID = "llmsuite-health-probe"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
API_KEY_ENV = "LLMSUITE_API_KEY"  # what the CLI's --api-key reads (suite.cli.common)


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
    model: str | None = None
    key_header: str = "Authorization"


def health_probe(opts: RequestOptions, path: str, api_key: str | None,
                 sample: CorpusRequest) -> Probe:
    """The probe for ``sample``'s model: one token, not streamed, with a message and a session of
    its own — never a corpus prompt (a caching target would answer it as a hit during the run),
    never a corpus session (an engine keeping history would carry the probe into the run)."""
    target = build_target(replace(opts.target_options(), path=path))
    req = replace(sample, id=PROBE_ID, session=PROBE_ID, turn=0, max_tokens=1, stream=False,
                  messages=[{"role": "user", "content": PROBE_MESSAGE}])
    headers = {**opts.base_headers(api_key), "Accept": "application/json"}
    if opts.request_id_header:
        headers[opts.request_id_header] = req.id
    return Probe(path, target.body(req), headers, opts.kind, opts.secrets(api_key), sample.model,
                 opts.api_key_header)


def health_probes(opts: RequestOptions, path: str, api_key: str | None,
                  corpus: Sequence[CorpusRequest]) -> list[Probe]:
    """One probe per model of ``corpus`` (its first request of each, in corpus order): a target
    that knows only some of them fails the check, naming the one it does not know."""
    first: dict[str, CorpusRequest] = {}
    for req in corpus:
        first.setdefault(req.model, req)
    return [health_probe(opts, path, api_key, req) for req in first.values()]


# What a gateway says when the key is missing or wrong, in a 400/404 body (LiteLLM, Portkey and
# others answer a bad key that way): the fix is the key options, never --target-kind.
KEY_TEXTS = ("invalid api key", "invalid_api_key", "incorrect api key", "invalid key", "no api key",
             "missing api key", "api key not found", "authentication", "unauthorized", "unauthorised",
             "not authorized", "invalid token", "invalid authorization")


def key_problem(status: int, body: bytes) -> bool:
    """Whether an answer says the credentials are missing or wrong: 401, 403, or a gateway's
    "invalid key" text in the body of another 4xx."""
    if status in (401, 403):
        return True
    text = body.decode("utf-8", errors="replace").lower()
    return 400 <= status < 500 and any(k in text for k in KEY_TEXTS)


def probe_problem(url: str, status: int, body: bytes, kind: str, model: str | None = None,
                  key_header: str = "Authorization") -> str | None:
    """Why a probe's answer means the run cannot work, or None (2xx; 429 and 5xx: the target is
    there, throttled or failing — the run measures that, ``--max-error-ratio`` judges it)."""
    if 200 <= status < 300 or status == 429 or status >= 500:
        return None
    why = f"HTTP {status}: {error_message(body)}"
    request = "a 1-token test request" + (f" for model {model!r}" if model else "")
    if key_problem(status, body):
        return (f"target {url} refused the credentials of {request} ({why}). Check the key "
                f"(--api-key-env NAME naming the variable that holds it; by default {API_KEY_ENV}, "
                f"then OPENAI_API_KEY) and the header carrying it (--api-key-header, now "
                f"{key_header!r}; or --header).")
    if "/v1/v1/" in url:
        return (f"target {url} answered {request} with {_end(why)} The URL has /v1 twice: drop /v1 from "
                f"--target (give the base URL, e.g. http://host:8000).")
    if status in (404, 405):
        return (f"target {url} answered {request} with {_end(why)} Check that the target serves that "
                f"model (the corpus asks for it), --target-path and --target-kind (this run is "
                f"{kind!r}).")
    return (f"target {url} rejected {request} ({why}). Check --target-kind {kind!r} and, for an "
            f"engine, --engine-template.")


def _end(text: str) -> str:
    """``text`` as a sentence: a full stop unless the target's own message has one."""
    return text if text.endswith((".", "!", "?")) else text + "."


def post_probe(url: str, probe: Probe, timeout: float) -> tuple[int, bytes]:
    """POST the probe; (status, start of the body). A body that breaks off or is garbled after
    the status came is returned as read so far: the status is the answer that matters here."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=probe.body, headers=probe.headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as resp:
            return int(resp.status), _read_some(resp)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), _read_some(exc)


def _read_some(resp: Any) -> bytes:
    try:
        return bytes(resp.read(4096))
    except (OSError, http.client.HTTPException):
        return b""


def probe(url: str, timeout: float, method: str = "GET", headers: Mapping[str, str] | None = None) -> int:
    """``method url`` without proxies, with the run's auth ``headers`` (a gateway may guard its
    health path); return the HTTP status (error statuses included)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}), method=method)
    try:
        with opener.open(request, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def check_target(target: str, timeout: float = 5.0, probe: Probe | None = None,
                 probes: Sequence[Probe] = (), *, health_path: str = HEALTH_PATHS[0],
                 health_method: str = "GET", headers: Mapping[str, str] | None = None) -> int:
    """Raise TargetError unless ``target`` is healthy (see the module docstring); return the
    status of the last check (0: its probe got no answer in ``timeout``, which passes). ``probe``
    is one more entry of ``probes``. ``health_method health_path`` is the first check, sent with
    ``headers`` (the run's auth headers, ``Target.auth_headers()``)."""
    target = target.rstrip("/")
    status = _get(target + health_path, timeout, target, health_method, headers)
    every = [*probes, *([probe] if probe is not None else [])]
    if not every:
        return status if 200 <= status < 300 else _get(target + HEALTH_PATHS[1], timeout, target,
                                                       "GET", headers)
    for one in every:
        status = _check_probe(target, one, timeout)
    return status


def _check_probe(target: str, probe: Probe, timeout: float) -> int:
    """One probe; a target that takes longer than ``timeout`` to answer it passes (reachable, slow
    or hung on that model: the run measures it), one that cannot be connected to does not."""
    url = target + probe.path
    try:
        status, body = post_probe(url, probe, timeout)
    except (OSError, urllib.error.URLError, ValueError, http.client.HTTPException) as exc:
        if reason(exc) == "timed out":
            return 0
        raise TargetError(unreachable_message(url, reason(exc), target)) from None
    problem = probe_problem(url, status, body, probe.kind, probe.model, probe.key_header)
    if problem:
        raise TargetError(Redactor(probe.secrets).text(problem))
    return status


def _get(url: str, timeout: float, target: str, method: str = "GET",
         headers: Mapping[str, str] | None = None) -> int:
    try:
        return probe(url, timeout, method, headers)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        raise TargetError(unreachable_message(url, reason(exc), target)) from None
