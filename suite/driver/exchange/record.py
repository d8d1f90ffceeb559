"""Request-log records: build them, serialize them, and check a log is complete.

Rule 1 (suite.records): every request sent has exactly one record, failures included.
``record_line`` is one record's JSONL line (sink.py's ``BatchWriter`` appends them);
``check_log`` is how the runner proves the rule held for a run.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

import orjson

from suite.driver.exchange.measure import Measured
from suite.records import CorpusRequest, RequestRecord

_LINE = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE

# Exception class names from gevent / geventhttpclient, matched by name so this module stays free
# of gevent (it is imported by unit tests and by the runner, which must not be monkey-patched);
# tests/unit/driver/exchange/test_send.py fails if one of these classes is renamed upstream.
_KIND_BY_CLASS_NAME = {
    "GreenletExit": "cancelled",
    "Timeout": "timeout",
    "HTTPConnectionClosed": "connection_closed",
    "HTTPParseError": "connection_closed",
    "HTTPProtocolViolationError": "connection_closed",
}


class RequestTimeout(TimeoutError):
    """A per-request limit of the run fired: ``which`` is ``total`` (--timeout) or ``ttft``
    (--ttft-timeout). A TimeoutError, so that when it fires inside the HTTP client Locust hands it
    back as the response's error (its FastHttpSession catches socket errors) instead of raising,
    and geventhttpclient never retries a POST on it."""

    def __init__(self, which: str, seconds: float) -> None:
        self.which = which
        self.seconds = seconds
        limit = ("the response was not complete within --timeout" if which == "total"
                 else "no content arrived within --ttft-timeout")
        super().__init__(f"{which}: {limit} {seconds:g} s")


def classify_exception(exc: BaseException) -> dict[str, str]:
    """An exception raised while sending or reading → the record's ``error`` dict.

    geventhttpclient wraps a POST's timeout in ``RetriesExceeded(original=...)`` (an attribute
    it sets, not a documented API): judge the original, which says what really happened.
    """
    original = getattr(exc, "original", None)
    if isinstance(original, BaseException):
        exc = original
    if isinstance(exc, RequestTimeout):  # the message says which limit fired, nothing else
        return {"kind": "timeout", "message": str(exc)}
    for cls in type(exc).__mro__:
        if cls.__name__ in _KIND_BY_CLASS_NAME:
            return _err(_KIND_BY_CLASS_NAME[cls.__name__], exc)
    if isinstance(exc, TimeoutError):
        return _err("timeout", exc)
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return _err("connection_closed", exc)
    if isinstance(exc, OSError):  # refused, unreachable, DNS
        return _err("connect", exc)
    return _err("client", exc)


def _err(kind: str, exc: BaseException) -> dict[str, str]:
    text = str(exc).strip()
    return {"kind": kind, "message": f"{type(exc).__name__}: {text}" if text else type(exc).__name__}


def build_record(req: CorpusRequest, m: Measured, *, target: str, worker: str, user: int,
                 t_start: float, scheduled: float | None = None) -> RequestRecord:
    """Join who/where/when (the caller) with what was measured (``m``).

    Every name of ``records.MEASURED_FIELDS`` is copied, spelled out: keyword arguments are the
    cheapest way to build a record once per request (a test checks none is missed)."""
    return RequestRecord(
        id=req.id, model=req.model, target=target, worker=worker, user=user, t_start=t_start,
        scheduled=scheduled, ttft=m.ttft, e2e=m.e2e, itl=m.itl, prompt_tokens=m.prompt_tokens,
        completion_tokens=m.completion_tokens, tokens_source=m.tokens_source, status=m.status,
        ok=m.ok, error=m.error, cache=m.cache, cached_tokens=m.cached_tokens,
        response_id=m.response_id, repeat=req.repeat_of is not None, stream=req.stream,
        completion_tokens_tiktoken=m.completion_tokens_tiktoken, chunks=m.chunks,
        retry_after=m.retry_after, cache_headers=m.cache_headers, key=req.key,
    )


def record_line(record: RequestRecord) -> bytes:
    """The same bytes as ``records.dumps_line(record.to_dict())`` (sorted keys), without its cost
    on the hot path: ``asdict`` deep-copies every list and dict, whereas the instance's own
    ``__dict__`` (a plain dataclass: exactly its fields) is serialized and sorted in C."""
    return orjson.dumps(record.__dict__, option=_LINE)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class LogCheck:
    """What a request log holds, against what the driver says it sent."""

    records: int
    sent: int | None
    duplicate_ids: list[str] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)
    unknown_ids: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Rule 1 held: one well-formed record per request sent, no id twice."""
        return (not self.duplicate_ids and not self.bad_lines and not self.unknown_ids
                and (self.sent is None or self.sent == self.records))

    def problems(self) -> list[str]:
        out = []
        if self.sent is not None and self.sent != self.records:
            out.append(f"{self.sent} request(s) sent but {self.records} record(s) written")
        if self.duplicate_ids:
            out.append(f"{len(self.duplicate_ids)} id(s) recorded twice, e.g. {self.duplicate_ids[0]}")
        if self.bad_lines:
            out.append(f"{len(self.bad_lines)} malformed line(s), first at line {self.bad_lines[0]}")
        if self.unknown_ids:
            out.append(f"{len(self.unknown_ids)} id(s) not in the corpus, e.g. {self.unknown_ids[0]}")
        return out


def check_log(lines: list[bytes], sent: int | None, corpus_ids: set[str] | None = None) -> LogCheck:
    """Check request-log lines (pure: the caller reads the file)."""
    seen: set[str] = set()
    check = LogCheck(records=0, sent=sent)
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        rid = _record_id(raw)
        if rid is None:
            check.bad_lines.append(n)
            continue
        check.records += 1
        if rid in seen:
            check.duplicate_ids.append(rid)
        seen.add(rid)
        if corpus_ids is not None and rid not in corpus_ids:
            check.unknown_ids.append(rid)
    return check


def _record_id(raw: bytes) -> str | None:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    rid = obj.get("id") if isinstance(obj, dict) else None
    return rid if isinstance(rid, str) else None
