"""``run.coverage``: how much of the corpus a run sent, and what stopped it.

A run cut short by ``--duration``, ``--max-requests``, an abort rule or a signal reads like a
measurement of the whole corpus unless something says otherwise; this node says it, from run.json
alone (the corpus size, the requests sent and the run's own marks), so the report, the terminal and
a sweep can all repeat the same sentence. A fact run.json does not hold stays null with the reason
(runs written by an older driver), never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from suite.analyze.schema import Coverage

STOPPED_BY = ("corpus_exhausted", "duration", "max_requests", "abort", "signal", "worker_lost")
# a run that stopped this far short of its duration was not stopped by it
DURATION_SLACK = 0.9
NO_CORPUS = "run.json does not record the corpus size (requests_in_corpus): written by an older driver"
NO_SENT = "run.json does not record how many requests were sent (extra.sent): the run never finished"
NO_STOP = ("the corpus was not exhausted and run.json records no limit, abort or signal that explains "
           "the stop")


def _count(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def stopped_by(meta: Mapping[str, Any], corpus: int, sent: int) -> str | None:
    """What ended a run that sent ``sent`` of ``corpus`` requests (pure); None when nothing recorded
    explains a short run. A corpus sent in full is exhausted, whatever came after the last send."""
    extra = meta.get("extra") or {}
    if sent >= corpus:
        return "corpus_exhausted"
    if extra.get("interrupted"):
        return "signal"
    if extra.get("aborted"):
        return "abort"
    if extra.get("partial"):
        return "worker_lost"
    cap = _count((extra.get("load") or {}).get("max_requests"))
    if cap is not None and sent >= cap:
        return "max_requests"
    duration, started, ended = meta.get("duration_s"), meta.get("started"), meta.get("ended")
    if not duration:
        return None
    if isinstance(started, int | float) and isinstance(ended, int | float) and \
            ended - started < DURATION_SLACK * duration:
        return None
    return "duration"


def _cause(stop: str, meta: Mapping[str, Any]) -> str:
    extra = meta.get("extra") or {}
    if stop == "duration":
        return f"the duration limit ({meta.get('duration_s'):g} s)"
    if stop == "max_requests":
        return f"--max-requests {(extra.get('load') or {}).get('max_requests'):,}"
    if stop == "abort":
        return f"an abort rule ({(extra.get('aborted') or {}).get('reason')})"
    if stop == "signal":
        return f"{(extra.get('interrupted') or {}).get('signal')}"
    return "a lost worker"


def coverage_note(stop: str | None, corpus: int, sent: int, meta: Mapping[str, Any]) -> str:
    """The one sentence the report, the terminal and a sweep print."""
    if stop == "corpus_exhausted":
        return f"every one of the {corpus:,} corpus requests was sent (corpus exhausted)"
    counts = f"{sent:,} of {corpus:,} corpus requests ({corpus - sent:,} not sent)"
    if stop is None:
        return f"{counts}; {NO_STOP}"
    return f"stopped by {_cause(stop, meta)} after {counts}"


def run_coverage(meta: Mapping[str, Any] | None, meta_why: str | None = None) -> Coverage:
    """The ``run.coverage`` node of run.json's dict form (``None``: no run.json, ``meta_why`` says
    why)."""
    if meta is None:
        return _unknown(None, None, meta_why or "no run.json beside the request log")
    corpus = _count(meta.get("requests_in_corpus")) or None  # 0: the field's default, not a corpus
    sent = _count((meta.get("extra") or {}).get("sent"))
    if corpus is None or sent is None:
        return _unknown(corpus, sent, NO_CORPUS if corpus is None else NO_SENT)
    stop = stopped_by(meta, corpus, sent)
    node: Coverage = {"corpus_requests": corpus, "sent": sent, "not_sent": max(corpus - sent, 0),
                      "stopped_by": stop, "note": coverage_note(stop, corpus, sent, meta)}
    if stop is None:
        node["why"] = NO_STOP
    return node


def _unknown(corpus: int | None, sent: int | None, why: str) -> Coverage:
    return {"corpus_requests": corpus, "sent": sent, "not_sent": None, "stopped_by": None, "note": None,
            "why": why}


def truncated(node: Mapping[str, Any] | None) -> bool:
    """Whether the run left corpus requests unsent (False when unknown: nothing to announce)."""
    return node is not None and bool(node.get("not_sent"))
