"""The probe's HTTP side: a handful of short requests, each recorded as an ``Answer``; what they
mean is decided in conclude.py and cachediff.py.

The order: ``GET /v1/models`` (reachability and model names), one fresh request per known kind and
path until one answers (a refused key is tried in the other usual headers first), the same request
without the key (is one needed?), the health paths until one answers 2xx, one streamed request,
then the cache pair — a fresh request and its repeat after the first finished — and one more fresh
request (what changes on every answer anyway). Every prompt carries a nonce, so no cache has seen
it. Proxies from the environment are ignored, as in every check of the suite: the load goes
straight to the target. At most ~20 requests, each bounded by ``timeout``.
"""

from __future__ import annotations

import http.client
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from suite.driver.control.health import reason
from suite.driver.exchange.redact import Redactor
from suite.errors import TargetError
from suite.init import cachediff
from suite.init.answer import Answer, lower
from suite.init.asks import (
    HEALTH_TRIES,
    KEY_HEADERS,
    KIND_TRIES,
    key_headers,
    no_kind_message,
    refused_message,
    request_body,
)
from suite.init.conclude import Observed, models_of, text_path

BODY_LIMIT = 1 << 20  # a probe's answer is a few words; a megabyte is already a wrong endpoint
USER_AGENT = "llmsuite-init"


@dataclass
class Prober:
    """Sends the probe's requests to one base URL; ``key`` is sent, never shown (``Redactor``)."""

    url: str
    key: str | None = None
    timeout: float = 10.0
    header: str | None = None  # the key header in use (None: no key)

    def send(self, what: str, method: str, path: str, body: bytes | None = None,
             with_key: bool = True, header: str | None = None) -> Answer:
        key_header = (header or self.header or "Authorization") if with_key and self.key else None
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json, text/event-stream",
                   **key_headers(key_header, self.key)}
        if body is not None:
            headers["Content-Type"] = "application/json"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        start = time.perf_counter()
        try:
            with opener.open(request, timeout=self.timeout) as resp:
                data = resp.read(BODY_LIMIT)
                return Answer(what, method, path, int(resp.status), lower(resp.headers.items()), data,
                              time.perf_counter() - start, auth=key_header)
        except urllib.error.HTTPError as exc:
            with exc:
                data = exc.read(BODY_LIMIT) if exc.fp is not None else b""
                return Answer(what, method, path, int(exc.code), lower(exc.headers.items()), data,
                              time.perf_counter() - start, auth=key_header)
        except (OSError, urllib.error.URLError, http.client.HTTPException, TimeoutError) as exc:
            why = Redactor([self.key] if self.key else []).text(reason(exc))
            return Answer(what, method, path, None, {}, b"", time.perf_counter() - start, why, key_header)


def _nonce() -> str:
    return secrets.token_hex(6)


def _prompt(nonce: str) -> str:
    return f"[llmsuite init {nonce}] Answer with one word: is this a test?"


def unreachable(url: str, answer: Answer, timeout: float) -> TargetError:
    if answer.error == "timed out":
        return TargetError(f"no answer from {url} within {timeout:g} s; if the target is just slow, "
                           f"raise --timeout (e.g. --timeout 60) and re-run llmsuite init.")
    return TargetError(f"cannot reach {url} ({answer.error}): check the URL (scheme, host, port) and "
                       f"that the server is running and reachable from here, then re-run llmsuite init.")


def _reread_models(p: Prober, obs: Observed, model: str | None) -> bool:
    """Read /v1/models again with the key header that worked, when it refused the first one;
    whether the model to ask for changed."""
    if obs.models_answer is None or not obs.models_answer.refused:
        return False
    obs.models_answer = p.send("model list", "GET", "/v1/models")
    before, obs.model = obs.model, model or next(iter(models_of(obs.models_answer)), obs.model)
    return obs.model != before


def find_kind(p: Prober, obs: Observed, model: str | None = None) -> None:
    """Try each known kind and path; on a refused key, the other key headers first."""
    for kind, path in KIND_TRIES:
        body = request_body(kind, obs.model, _prompt(_nonce()), False, f"llmsuite-init-{_nonce()}")
        answer = p.send(f"{kind} request", "POST", path, body)
        obs.tries.append(answer)
        if answer.status is None:
            raise unreachable(p.url + path, answer, p.timeout)
        if answer.refused:
            if p.key is None:
                raise TargetError(refused_message(p.url, answer, None))
            answer = _other_headers(p, obs, kind, path, body)
            if _reread_models(p, obs, model) and kind != "engine":  # the list wanted this header too
                body = request_body(kind, obs.model, _prompt(_nonce()), False, f"llmsuite-init-{_nonce()}")
                answer = p.send(f"{kind} request, model {obs.model}", "POST", path, body)
                obs.tries.append(answer)
        if answer.missing_route:
            continue
        text = text_path(kind, answer)
        if text is not None:
            obs.kind, obs.path, obs.text = kind, path, text
            obs.auth_header = p.header if p.key else None
            return
        # 2xx without this kind's text, a 4xx or a 5xx: another kind may still answer
    raise TargetError(no_kind_message(p.url, obs.tries))


def _other_headers(p: Prober, obs: Observed, kind: str, path: str, body: bytes) -> Answer:
    last = obs.tries[-1]
    for header in KEY_HEADERS[1:]:
        answer = p.send(f"{kind} request, key in {header}", "POST", path, body, header=header)
        obs.tries.append(answer)
        if not answer.refused:
            p.header = header
            return answer
        last = answer
    raise TargetError(refused_message(p.url, last, obs.key_env))


def probe(url: str, key: str | None, key_env: str | None, timeout: float = 10.0,
          model: str | None = None, key_named: bool = False) -> Observed:
    """Every answer ``init`` reasons from; TargetError (exit 4) when the target cannot be reached,
    wants a key it was not given, refuses the key, or answers no known API."""
    p = Prober(url, key, timeout, "Authorization" if key else None)
    obs = Observed(url=url, key_env=key_env if key else None, key_named=key_named and key is not None)
    first = p.send("model list", "GET", "/v1/models")
    if first.status is None:
        raise unreachable(url, first, timeout)
    obs.models_answer = first
    obs.model = model or next(iter(models_of(first)), obs.model)
    find_kind(p, obs, model)
    assert obs.kind is not None and obs.path is not None
    _reread_models(p, obs, model)
    if key is not None:
        body = request_body(obs.kind, obs.model, _prompt(_nonce()), False, f"llmsuite-init-{_nonce()}")
        obs.no_key = p.send("request without the key", "POST", obs.path, body, with_key=False)
    for path in HEALTH_TRIES:
        answer = p.send("health", "GET", path)
        obs.health.append(answer)
        if answer.ok:
            break
    body = request_body(obs.kind, obs.model, _prompt(_nonce()), True, f"llmsuite-init-{_nonce()}")
    obs.stream = p.send("streamed request", "POST", obs.path, body)
    obs.cache = cache_pair(p, obs.kind, obs.path, obs.model)
    return obs


def cache_pair(p: Prober, kind: str, path: str, model: str) -> cachediff.CacheFinding:
    """A fresh request, the same again once it has finished, and another fresh one."""
    session = f"llmsuite-init-{_nonce()}"
    body = request_body(kind, model, _prompt(_nonce()), False, session)
    first = p.send("fresh request", "POST", path, body)
    repeat = p.send("repeat", "POST", path, body)
    other = p.send("another fresh request", "POST", path,
                   request_body(kind, model, _prompt(_nonce()), False, f"llmsuite-init-{_nonce()}"))
    return cachediff.discover(first, repeat, other)
