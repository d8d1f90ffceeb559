"""The file contracts between stages (docs/design.md): corpus lines, manifests and request-log records.

Stages never reach into each other; they exchange these shapes through files. Field names here are
the contract: change them only together with docs/design.md.

Rule 1: every request the driver sends has exactly one ``RequestRecord`` line, failures included.
Rule 2: a field that was not measured is ``None`` — never a default standing in for data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import orjson

from suite.errors import CorpusError

CORPUS_SCHEMA = "llmsuite.corpus/1"
REQUEST_LOG_SCHEMA = "llmsuite.requests/1"


@dataclass(frozen=True)
class CorpusRequest:
    """One request of a corpus: what to send and the ground truth about its repetition."""

    id: str
    t: float | None
    session: str
    turn: int
    model: str
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    stream: bool
    prompt_tokens: int
    domain: str
    intent: str
    key: str
    repeat_of: str | None = None
    variant_of: str | None = None
    # completion tokens the scenario expects (drawn, capped by max_tokens); None: the spec set none.
    expected_output_tokens: int | None = None
    # a hard negative: the id of the earlier request this one imitates (same template and wording,
    # other slot values, so another answer) — a pair a semantic cache must NOT hit; else None. Last,
    # and left out of the line when None, so corpora without hard negatives keep their bytes.
    near_miss_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_CORPUS_FIELDS = frozenset(f.name for f in fields(CorpusRequest))
_CORPUS_REQUIRED = _CORPUS_FIELDS - {"repeat_of", "variant_of", "expected_output_tokens", "near_miss_of"}


@dataclass
class RequestRecord:
    """One line of ``requests.jsonl``: what was sent, what came back, and how long each part took."""

    id: str
    model: str
    target: str
    worker: str
    user: int
    t_start: float
    scheduled: float | None = None
    ttft: float | None = None
    e2e: float | None = None
    itl: list[float] | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_source: str | None = None
    status: int | None = None
    ok: bool = False
    error: dict[str, str] | None = None
    cache: str | None = None
    cached_tokens: int | None = None
    response_id: str | None = None
    repeat: bool | None = None
    stream: bool | None = None
    # tiktoken count of the received text, when it was counted beside ``usage`` (a sample of
    # requests, so the analyzer can report the usage-vs-tiktoken discrepancy); else None.
    completion_tokens_tiktoken: int | None = None
    # number of content chunks received (streaming), None when not streamed.
    chunks: int | None = None
    # sent inside the warm-up window: kept in the log, excluded from statistics.
    warmup: bool = False
    # seconds the target asked to wait (``Retry-After`` of a 429/503, a delay or an HTTP date);
    # None when absent. Last, so logs written before it read the same (the field is simply missing).
    retry_after: float | None = None
    # the response's cache-relevant headers (lower-case names; the allow-list is
    # suite.cachesignal.allowlist: every preset's header, the common ones, and the header the run's
    # --cache-detect names), as received; None when the response carried none of them or there was
    # no response (run.json extra.cache_headers records the rule and the list). Kept so that
    # ``analyze --cache-detect RULE`` can re-attribute hits without re-running.
    cache_headers: dict[str, str] | None = None
    # the corpus request's ``key`` (what an exact-match cache keys on): the analyzer finds a
    # repeat's earlier copies by it, to tell a miss sent while its first copy was in flight from one
    # after it had finished. None in logs written before it.
    key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The fields of a RequestRecord that come from the response (the driver's ``Measured`` has exactly
# these, with the types and defaults declared above); the others — which request, who sent it,
# where, when, the corpus's ground truth — are known before it is sent. A new measured field is
# declared once, above, and named here.
MEASURED_FIELDS: tuple[str, ...] = (
    "ttft", "e2e", "itl", "prompt_tokens", "completion_tokens", "tokens_source", "status", "ok",
    "error", "cache", "cached_tokens", "response_id", "completion_tokens_tiktoken", "chunks",
    "retry_after", "cache_headers",
)


def request_key(model: str, messages: list[dict[str, str]], max_tokens: int, temperature: float) -> str:
    """Hash of the normalized request: what an exact-match cache keys on (same inputs ⇒ same key)."""
    canonical = orjson.dumps(
        {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()[:32]


def dumps_line(obj: dict[str, Any]) -> bytes:
    """One JSONL line, keys sorted so the same object always gives the same bytes."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS) + b"\n"


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("wb") as fh:
        for row in rows:
            fh.write(dumps_line(row))
            n += 1
    return n


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object); a malformed line is a CorpusError naming file and line."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror}. Check the path.") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise CorpusError(
                    f"{path}:{lineno}: not valid JSON ({exc}). Fix or remove the line."
                ) from None
            if not isinstance(obj, dict):
                raise CorpusError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}.")
            yield lineno, obj


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    """A finite JSON number (orjson never yields NaN or inf, so no ``isfinite`` is needed)."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def _nonempty_str(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _opt_str(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _message(m: Any) -> bool:
    """``{"role": str, "content": str | [part, ...]}`` (parts are objects, OpenAI's content parts)."""
    if not isinstance(m, dict) or not isinstance(m.get("role"), str):
        return False
    content = m.get("content")
    return isinstance(content, str) or (isinstance(content, list)
                                         and all(isinstance(p, dict) for p in content))


def _messages(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(_message(m) for m in v)


# field -> (check, what a good value is). One table, read once per line: a few isinstance checks
# per field keep a 100k-line corpus fast to read.
_CORPUS_CHECKS: dict[str, tuple[Any, str]] = {
    "id": (_nonempty_str, "a non-empty string"),
    "t": (lambda v: v is None or (_is_number(v) and v >= 0), "seconds >= 0, or null (closed loop)"),
    "session": (lambda v: isinstance(v, str), "a string"),
    "turn": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "model": (_nonempty_str, "a non-empty model name"),
    "messages": (_messages, 'a non-empty list of {"role": str, "content": str or list of parts}'),
    "max_tokens": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "temperature": (lambda v: _is_number(v) and 0 <= v <= 2, "a number in [0, 2]"),
    "stream": (lambda v: isinstance(v, bool), "true or false"),
    "prompt_tokens": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "domain": (lambda v: isinstance(v, str), "a string"),
    "intent": (lambda v: isinstance(v, str), "a string"),
    "key": (lambda v: isinstance(v, str), "a string"),
    "repeat_of": (_opt_str, "a request id, or null"),
    "variant_of": (_opt_str, "a request id, or null"),
    "expected_output_tokens": (lambda v: v is None or (_is_int(v) and v >= 0), "an integer >= 0, or null"),
    "near_miss_of": (_opt_str, "a request id, or null"),
}


def _bad_field(where: str, name: str, value: Any) -> CorpusError:
    shown = orjson.dumps(value).decode()
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return CorpusError(f"{where}: {name}: {shown} is not valid (must be {_CORPUS_CHECKS[name][1]}). "
                       f"Fix the line or regenerate the corpus with `llmsuite synth`.")


def corpus_request_from_dict(obj: dict[str, Any], where: str) -> CorpusRequest:
    """One corpus line, every field's type and range checked (``where`` is ``file:line``): a bad
    line fails here, naming the field, not later inside Locust or as an internal error."""
    missing = sorted(_CORPUS_REQUIRED - obj.keys())
    if missing:
        raise CorpusError(
            f"{where}: missing field(s) {', '.join(missing)}; a corpus line needs "
            f"{', '.join(sorted(_CORPUS_REQUIRED))}. Regenerate it with `llmsuite synth`."
        )
    kept = {}
    for name, value in obj.items():
        check = _CORPUS_CHECKS.get(name)
        if check is None:
            continue  # an unknown field is tolerated (a newer writer), and dropped
        if not check[0](value):
            raise _bad_field(where, name, value)
        kept[name] = value
    return CorpusRequest(**kept)


def read_corpus(path: Path) -> list[CorpusRequest]:
    """Every line of a corpus, validated (a ``CorpusError`` names file:line and field)."""
    out = [corpus_request_from_dict(obj, f"{path}:{n}") for n, obj in iter_jsonl(path)]
    if not out:
        raise CorpusError(f"{path}: the corpus is empty. Create one with `llmsuite synth -o {path}`.")
    return out


# OWASP's CSV-injection rule: a spreadsheet runs a cell starting with one of these as a formula
# (a model named ``=HYPERLINK(...)``); such a string cell gets a leading ``'``. Numbers are never
# touched, so -0.5 stays a number.
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_FORMULA_REGEX = r"^([=+\-@\t\r])"


def csv_cell(value: Any) -> Any:
    """A value as every CSV the suite writes holds it: a string that a spreadsheet would run as a
    formula gets a leading ``'`` (``"=1+1"`` → ``"'=1+1"``); anything else is unchanged."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_START):
        return "'" + value
    return value


def manifest_path(corpus_path: Path) -> Path:
    """``x.jsonl`` → ``x.manifest.json`` (the manifest sits beside its corpus)."""
    return corpus_path.with_name(corpus_path.name.removesuffix(".jsonl") + ".manifest.json")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class RunMeta:
    """``reports/<run>/run.json``: what the driver was asked to do, read back by the analyzer."""

    run_id: str
    target: str
    corpus: str
    corpus_sha256: str
    users: int
    duration_s: float
    started: float
    ended: float | None = None
    requests_in_corpus: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
