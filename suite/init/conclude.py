"""What the probe's answers say about the target — kind and path, models, where the text is,
streaming, auth, health — as table rows with their evidence and as target.yaml settings. Pure:
probe.py sends (what asks.py builds), this module only reads ``Answer`` values; probe.py also asks
it between requests which kind answered (``text_path``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suite.gateways import PRESETS
from suite.init.answer import Answer, flatten
from suite.init.asks import DEFAULT_MODEL
from suite.init.cachediff import CacheFinding

# where a JSON engine usually puts its answer, most likely first
TEXT_NAMES = ("response", "answer", "text", "output", "reply", "content", "completion", "result",
              "generated_text", "message")
# response header prefixes that name a gateway (suite.gateways presets)
GATEWAY_HEADERS = {"x-litellm-": "litellm", "cf-aig-": "cloudflare", "x-portkey-": "portkey",
                   "helicone-": "helicone", "x-kong-": "kong", "openai-organization": "openai"}


def models_of(answer: Answer | None) -> list[str]:
    """Model ids of a ``/v1/models`` answer (``{"data": [{"id": ...}]}``), in its order."""
    body = answer.json() if answer is not None and answer.ok else None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return []
    return [str(m["id"]) for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]


def find_text(obj: Any) -> str | None:
    """The path of the answer text in an engine's JSON: a string at a usual name (``response``,
    ``answer``, ``output.text``...), shallowest first; None when there is none."""
    if isinstance(obj, str):
        return None
    leaves = [(p, v) for p, v in flatten(obj) if isinstance(v, str)]
    for depth in range(1, 5):
        for name in TEXT_NAMES:
            for path, _ in leaves:
                parts = path.split(".")
                if len(parts) == depth and name in (parts[-1], parts[-2] if depth > 1 else ""):
                    return path
    return None


WHOLE_TEXT = {"openai-chat": "choices.0.message.content", "openai-completions": "choices.0.text"}
STREAM_TEXT = {"openai-chat": "choices.0.delta.content", "openai-completions": "choices.0.text"}


def text_path(kind: str, answer: Answer) -> str | None:
    """Where the text is in a 2xx answer of ``kind`` (None: this is not that kind's answer)."""
    if not answer.ok:
        return None
    if answer.sse:  # an engine that streams even when asked not to
        events, _ = answer.events()
        return next((p for p in (_stream_text(kind, e) for e in events) if p), None)
    body = answer.json()
    if kind in WHOLE_TEXT:
        path = WHOLE_TEXT[kind]
        return path if isinstance(dict(flatten(body)).get(path), str) else None
    return find_text(body)


def _stream_text(kind: str, event: Any) -> str | None:
    if kind in STREAM_TEXT:
        path = STREAM_TEXT[kind]
        return path if path in dict(flatten(event)) else None
    return find_text(event)


@dataclass(frozen=True)
class StreamShape:
    """What a stream looked like: SSE or a whole body, the text's place, its end, usage in it."""

    sse: bool
    text: str | None = None
    end: str = "eof"  # done: [DONE] or a finish reason; eof: the response simply ended
    done: bool = False  # data: [DONE] arrived
    finish: bool = False  # a finish_reason arrived
    usage: bool = False
    events: int = 0


def stream_shape(kind: str, answer: Answer) -> StreamShape:
    if not answer.ok or not answer.sse:
        return StreamShape(sse=False)
    events, done = answer.events()
    dicts = [e for e in events if isinstance(e, dict)]
    text = next((p for p in (_stream_text(kind, e) for e in dicts) if p), None)
    finish = any(v is not None for e in dicts for p, v in flatten(e) if p.endswith("finish_reason"))
    usage = any(isinstance(e.get("usage"), dict) for e in dicts)
    return StreamShape(True, text, "done" if done or finish else "eof", done, finish, usage, len(events))


def gateway_of(answers: list[Answer]) -> str | None:
    """A gateway preset named by a response header (``x-litellm-...``), else None."""
    for answer in answers:
        for name in answer.headers:
            for prefix, preset in GATEWAY_HEADERS.items():
                if name.startswith(prefix):
                    return preset
    return None


@dataclass(frozen=True)
class Finding:
    item: str
    conclusion: str
    evidence: str


@dataclass
class Observed:
    """Every answer the probe got, by purpose (probe.py fills it in, request by request)."""

    url: str
    key_env: str | None = None  # the variable holding the key (None: no key given)
    key_named: bool = False  # the user named that variable (--api-key-env), not a default one
    models_answer: Answer | None = None
    model: str = DEFAULT_MODEL
    tries: list[Answer] = field(default_factory=list)  # kind and key-header attempts, in order
    kind: str | None = None
    path: str | None = None
    text: str | None = None
    auth_header: str | None = None
    no_key: Answer | None = None  # the working request without the key (key given)
    health: list[Answer] = field(default_factory=list)
    stream: Answer | None = None
    cache: CacheFinding | None = None

    @property
    def answered(self) -> Answer | None:
        return next((a for a in reversed(self.tries) if a.ok), None)


@dataclass
class Conclusion:
    findings: list[Finding]
    settings: dict[str, Any]  # target.yaml, in its key order
    models: list[str]
    stream: bool  # the starter scenario streams only when the target does
    comments: dict[str, str]  # target.yaml key → why (a comment beside the value)
    probe_s: float = 0.0  # how long the answered fresh request took (the SLO starter quotes it)


def health_path(answers: list[Answer]) -> Answer | None:
    return next((a for a in answers if a.ok), None)


def _auth(obs: Observed) -> tuple[Finding, Finding | None]:
    answered = obs.answered
    assert answered is not None
    refused = [a for a in obs.tries if a.refused]
    if obs.key_env is None:
        return Finding("auth", "no key needed", f"{answered.line()} without a key"), None
    if obs.no_key is not None and not obs.no_key.refused and not obs.key_named:
        return (Finding("auth", f"no key needed (${obs.key_env} not written)",
                        f"without a key: {obs.no_key.line()}"), None)
    without = f"without a key: {obs.no_key.status_text()}" if obs.no_key is not None else "key sent"
    if obs.no_key is not None and not obs.no_key.refused:
        verdict = f"not needed; ${obs.key_env} kept, as --api-key-env named it"
    else:
        verdict = f"key needed (${obs.key_env})"
    header = obs.auth_header or "Authorization"
    tried = "; ".join(f"{a.auth}: {a.status_text()}" for a in refused)
    shown = "Authorization: Bearer $KEY" if header.lower() == "authorization" else f"{header}: $KEY"
    return (Finding("auth", verdict, without),
            Finding("key header", shown, f"{answered.line()}{'; refused ' + tried if tried else ''}"))


def conclude(obs: Observed) -> Conclusion:
    """The table and the target file from the answers (the probe found a kind that answers)."""
    answered = obs.answered
    assert answered is not None and obs.kind and obs.path
    rows: list[Finding] = [Finding("target", obs.url, "reachable")]
    settings: dict[str, Any] = {"url": obs.url}
    why: dict[str, str] = {}
    misses = [a for a in obs.tries if a.missing_route]
    tried = f"; {', '.join(a.path + ' ' + a.status_text() for a in misses)}" if misses else ""
    rows.append(Finding("kind and path", f"{obs.kind} POST {obs.path}", f"{answered.line()}{tried}"))
    settings.update(kind=obs.kind, path=obs.path)
    why["kind"] = f"POST {obs.path} answered {answered.status_text()}"
    models = models_of(obs.models_answer)
    listed = obs.models_answer.line() if obs.models_answer is not None else "not read"
    rows.append(Finding("models", ", ".join(models[:5]) + (" …" if len(models) > 5 else "")
                        if models else "none listed", listed))
    rows.append(Finding("text", obs.text or "?", f"in the whole answer of {obs.path}"))
    if obs.kind == "engine" and obs.text:
        settings["text_field"] = obs.text
    shape = stream_shape(obs.kind, obs.stream) if obs.stream is not None else StreamShape(False)
    rows += _stream_rows(obs, shape)
    if shape.sse:
        settings["stream_end"] = shape.end
        why["stream_end"] = "[DONE] seen" if shape.done else "finish_reason seen" if shape.finish else \
            "no [DONE]: the stream ends when the response does"
        if obs.kind == "engine" and shape.text and shape.text != obs.text:
            settings["text_field"] = shape.text  # one field path serves body and events; the stream wins
    auth, header = _auth(obs)
    rows.append(auth)
    if header is not None:
        rows.append(header)
        settings.update(api_key_env=obs.key_env, api_key_header=obs.auth_header or "Authorization")
    rows += _cache_rows(obs, settings, why)
    health = health_path(obs.health)
    tried_health = ", ".join(f"{a.path} {a.status_text()}" for a in obs.health)
    if health is not None:
        rows.append(Finding("health", f"GET {health.path}", tried_health))
        settings["health_path"] = health.path
    else:
        rows.append(Finding("health", "none found (the run's pre-flight request proves the target)",
                            tried_health or "not probed"))
        settings["health_path"] = "/"
        why["health_path"] = "no health path answered 2xx; any answer at / proves reachability"
    return Conclusion(rows, settings, models or ([] if obs.kind == "engine" else [obs.model]),
                      shape.sse, why, answered.elapsed_s)


def _stream_rows(obs: Observed, shape: StreamShape) -> list[Finding]:
    if obs.stream is None:
        return [Finding("streaming", "not probed", "")]
    line = obs.stream.line()
    if not shape.sse:
        return [Finding("streaming", "no: answers whole even when asked to stream (scenario stream: false)",
                        f"{line}, content-type {obs.stream.headers.get('content-type', '?')}")]
    end = ("data: [DONE]" if shape.done else "a finish_reason, then close" if shape.finish
           else "close (no [DONE])")
    usage = ("yes (stream_options.include_usage)" if shape.usage
             else "no: counted with tiktoken" if obs.kind != "engine" else "no")
    return [Finding("streaming", f"SSE, text at {shape.text or '?'}", f"{line}, {shape.events} events"),
            Finding("stream end", end, f"stream_end: {shape.end}"),
            Finding("usage in stream", usage, "a chunk with usage" if shape.usage else "no chunk had usage")]


def _cache_rows(obs: Observed, settings: dict[str, Any], why: dict[str, str]) -> list[Finding]:
    found = obs.cache
    gateway = (found.preset if found else None) or gateway_of([*obs.tries, *obs.health])
    rows: list[Finding] = []
    if found is None:
        rows.append(Finding("cache signal", "not probed", ""))
    elif found.rule is None:
        rows.append(Finding("cache signal", "no cache signal found", found.evidence))
        settings["cache_detect"] = "none"
        why["cache_detect"] = "no header or field changed on a repeated request"
    else:
        rows.append(Finding("cache signal", found.rule, found.evidence))
        settings["cache_detect"] = found.rule
        why["cache_detect"] = "changed only on a repeated request (llmsuite init)"
    if gateway:
        rows.append(Finding("gateway", f"{PRESETS[gateway].title} (preset {gateway})",
                            "its cache header" if found and found.preset else "a response header names it"))
        settings["preset"] = gateway
    return rows
