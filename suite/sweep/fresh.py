"""Before the first step against a real target: is a request the target never saw a miss?

Salting (suite.sweep.salt) makes every prompt new to an exact-match cache. A target that still
answers a never-seen request from its cache either ignores what the salt changes (it keys on part
of the request only) or caches semantically (a near-identical prompt counts as the same): then
every hit ratio of the sweep is inflated, and the person must hear it before reading the curve.
So one salted, never-seen, 1-token request (the health check's probe, suite.driver.control.health,
with a prompt of its own) is sent with the run's kind, path, headers and key, and its cache signal
is read from the answer with the run's ``--cache-detect`` rule, as the driver reads every response.

A probe that fails (no answer, an HTTP error) or whose answer carries no cache signal says so in
sweep.json (``why``); it never stops the sweep: the first step's own health check judges the target.
"""

from __future__ import annotations

import dataclasses
import http.client
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from suite.driver.control.health import Probe, health_probe, reason
from suite.driver.control.target import Target
from suite.driver.exchange.redact import Redactor
from suite.driver.exchange.targets import build_target, default_path
from suite.records import CorpusRequest, read_corpus, request_key

FRESH_PROBE_ID = "llmsuite-fresh-probe"
_BODY_LIMIT = 65536


def fresh_request(model: str, salt: str) -> CorpusRequest:
    """A 1-token request no corpus holds: its prompt names the salt, so no cache has seen it."""
    from suite.sweep.salt import tag

    content = f"{tag(salt)}\nllmsuite fresh-traffic probe: answer with one word."
    messages = [{"role": "user", "content": content}]
    return CorpusRequest(id=FRESH_PROBE_ID, t=None, session=FRESH_PROBE_ID, turn=0, model=model,
                         messages=messages, max_tokens=1, temperature=0.0, stream=False, prompt_tokens=0,
                         domain="probe", intent="probe", key=request_key(model, messages, 1, 0.0))


def build_probe(target: Target, model: str, salt: str) -> Probe:
    """The health check's probe (headers, key, request id, kind) carrying the fresh request."""
    opts = target.request
    path = opts.path or default_path(opts.kind)
    req = fresh_request(model, salt)
    probe = health_probe(opts, path, target.api_key, req)
    body = build_target(replace(opts.target_options(), path=path)).body(req)
    headers = dict(probe.headers)
    if opts.request_id_header:
        headers[opts.request_id_header] = FRESH_PROBE_ID
    return replace(probe, body=body, headers=headers)


def send(url: str, probe: Probe, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """POST the probe without proxies; (status, lower-case headers, start of the body)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=probe.body, headers=probe.headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as resp:
            return int(resp.status), _lower(resp.headers.items()), resp.read(_BODY_LIMIT)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), _lower(exc.headers.items()), b""


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}


def verdict(spec: str, headers: dict[str, str], body: bytes) -> tuple[str | None, dict[str, str] | None]:
    """hit / miss / None by the run's cache rule, and the cache-relevant headers it saw."""
    from suite.cachesignal import allowlist, capture
    from suite.driver.exchange.cachedetect import cache_rule

    rule = cache_rule(spec)
    cache = rule.from_headers(headers.get)
    if cache is None and body:
        try:
            cache = rule.from_json(orjson.loads(body))
        except orjson.JSONDecodeError:
            cache = None
    return cache, capture(allowlist(rule), headers.get)


def probe_fresh(target: Target, model: str, salt: str) -> dict[str, Any]:
    """Send the fresh probe; the record sweep.json keeps (``cache`` hit / miss / None, ``why``)."""
    opts = target.request
    probe = build_probe(target, model, salt)
    url = target.url + probe.path
    out: dict[str, Any] = {"url": url, "model": model, "probe_salt": salt, "rule": opts.cache_detect,
                           "status": None, "cache": None, "cache_headers": None}
    try:
        status, headers, body = send(url, probe, target.timeout_s)
    except (OSError, urllib.error.URLError, ValueError, http.client.HTTPException) as exc:
        return {**out, "why": Redactor(probe.secrets).text(f"the probe got no answer ({reason(exc)})")}
    out["status"] = status
    if not 200 <= status < 300:
        return {**out, "why": f"the probe was answered HTTP {status}: its cache signal means nothing"}
    out["cache"], out["cache_headers"] = verdict(opts.cache_detect, headers, body)
    if out["cache"] is None:
        out["why"] = (f"the answer carried no cache signal under --cache-detect {opts.cache_detect}: "
                      "whether a fresh request misses cannot be checked")
    return out


def probe_warning(result: dict[str, Any]) -> str | None:
    """The loud line for a never-seen request answered as a hit, else None."""
    if result.get("cache") != "hit":
        return None
    return (f"the target answered a never-seen (salted) request as a cache HIT (--cache-detect "
            f"{result.get('rule')}, headers {result.get('cache_headers')}): it ignores the salt or "
            "caches semantically, so this sweep's hit ratios and gains are inflated. Check the "
            "gateway's cache mode (exact vs semantic) and --cache-detect.")


def probe_model(plan: Any, corpus: Path | None = None) -> str:
    """The model the probe asks for: the replayed corpus's first, else the sweep's model mix's
    heaviest, else the scenario's first (every step's corpus asks for it)."""
    if corpus is not None:
        return read_corpus(corpus)[0].model
    if plan.models:
        return str(max(plan.models.items(), key=lambda kv: kv[1])[0])
    from suite import api
    from suite.synth import load_spec

    return load_spec(api.resolve_scenario(plan.scenario)).models[0][0]


def salt_record(salt: str, given: bool) -> dict[str, Any]:
    """How sweep.json keeps the salt: its value, where it came from and how to reproduce it."""
    return {"value": salt, "source": "given with --salt" if given else "new for this invocation",
            "steps": f"step i's corpus is salted with '{salt}-i'", "reproduce": f"--salt {salt}"}


def start_fresh(plan: Any, ui: Any, corpus: Path | None = None) -> tuple[Any, dict[str, Any]]:
    """The plan with this invocation's salt, and what sweep.json adds: ``salt``, ``fresh_probe`` and
    the ``warnings`` so far. The bundled mock (its cache flushed before every step) is salted only
    when ``--salt`` is given, and never probed; a real target always gets a salt and a probe."""
    from suite.sweep.salt import check_salt, new_salt

    given = plan.salt is not None
    if plan.uses_mock and not given:
        return plan, {}
    salt = check_salt(plan.salt) if given else new_salt()
    plan = dataclasses.replace(plan, salt=salt)
    extra: dict[str, Any] = {"salt": salt_record(salt, given), "warnings": []}
    if plan.uses_mock:
        return plan, extra
    target = plan.target  # a real target here: StepPlan holds a Target (None is the bundled mock)
    # a nonce of its own, even with --salt S: a reproduced salt's probe must still be never-seen
    result = probe_fresh(target, probe_model(plan, corpus), f"{salt}-probe-{new_salt()}")
    extra["fresh_probe"] = result
    warning = probe_warning(result)
    if warning:
        extra["warnings"].append(warning)
        ui.note(f"WARNING: {warning}")
    elif result.get("why"):
        ui.note(f"fresh-traffic probe: {result['why']}")
    return plan, extra


def warned(fresh: dict[str, Any], more: list[str], ui: Any) -> dict[str, Any]:
    """sweep.json's ``salt`` / ``fresh_probe`` / ``warnings`` (only when there is something to say
    for the bundled mock, always for a real target)."""
    for line in more:
        ui.note(f"WARNING: {line}")
    warnings = [*fresh.get("warnings", []), *more]
    return {**fresh, **({"warnings": warnings} if warnings or "warnings" in fresh else {})}


def level_corpus(plan: Any, corpus: Path | None, i: int) -> Path | None:
    """The corpus level ``i`` replays: with a salt, its own salted copy (``corpora/level-<i>.jsonl``)."""
    if corpus is None or plan.salt is None:
        return corpus
    from suite.sweep.salt import step_salt, write_salted

    return write_salted(corpus, plan.out / "corpora" / f"level-{i}.jsonl", step_salt(plan.salt, i))

