"""Hand-made summaries and history runs: only the fields the history reads, with known values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NO_STREAM = "no successful streaming request"


def dist(p50: float | None, p95: float | None, why: str | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"n": 0 if p50 is None else 10, "mean": p50, "p50": p50, "p90": p95, "p95": p95,
                         "p99": p95, "max": p95, "unit": "s"}
    if why:
        d["why"] = why
    return d


def summary(e2e: float = 1.0, *, ttft: float | None = 0.5, sent: int = 10, failed: int = 0,
            hit: float | None = 0.25, speedup: float | None = 40.0, tokens_per_s: float | None = 100.0,
            slo: bool | None = None, run_id: str = "r", started: float = 1000.0, sha: str = "a" * 64,
            target: str = "http://t", users: int = 4) -> dict[str, Any]:
    """A summary.json whose key figures are the arguments (``None``: not measured, with a why)."""
    return {
        "schema": "llmsuite.summary/2",
        "run": {"targets": [target], "window": {"start": started + 0.5, "end": started + 10, "seconds": 9.5},
                "meta": {"run_id": run_id, "target": target, "corpus": "/c/corpus.jsonl",
                         "corpus_sha256": sha, "users": users, "started": started,
                         "extra": {"load": {"mode": "closed"}}}},
        "totals": {"sent": sent, "ok": sent - failed, "failed": failed,
                   "error_ratio": failed / sent if sent else 0.0},
        "overall": {"ttft": dist(ttft, None if ttft is None else ttft * 2,
                                 None if ttft is not None else NO_STREAM),
                    "e2e": dist(e2e, e2e * 2),
                    "output_tokens_per_s": ({"value": tokens_per_s, "unit": "tokens/s"}
                                            if tokens_per_s is not None
                                            else {"value": None, "why": "the window has zero length"})},
        "cache": {"hit_ratio": {"value": hit} if hit is not None else
                  {"value": None, "why": "no successful request carried a cache signal"},
                  "speedup": {"e2e_p50": {"value": speedup, "ci": [speedup * 0.8, speedup * 1.2], "unit": "x"}
                              if speedup is not None else {"value": None, "why": "no successful hits"}}},
        "slo": {"why": "no SLO given (analyze with --slo PROFILE|FILE)"} if slo is None else
               {"profile": "p", "source": "profile", "passed": slo,
                "checks": [{"metric": "e2e", "stat": "p95", "op": "<", "threshold": 1.0, "value": e2e * 2,
                            "scope": "overall", "passed": slo, "why": ""}]},
    }


def run(run_id: str, started: float | None, *, e2e: float = 1.0, sha: str | None = "a" * 64,
        target: str | None = "http://t", load: str = "4 users", regression: bool | None = None,
        slo: bool | None = None, **figs: float | None) -> dict[str, Any]:
    """A history run entry (what ``suite.history.collect.read_run`` returns) with chosen figures."""
    from suite.history.figures import METRICS

    values: dict[str, float | None] = {m.key: 1.0 for m in METRICS}
    values.update(e2e_p50=e2e, **figs)
    return {
        "run_dir": run_id, "run_id": run_id, "started": started, "started_source": "run.json started",
        "target": target, "corpus": "corpus.jsonl", "corpus_identity": sha,
        "corpus_identity_source": "run.json corpus_sha256", "load": load, "sent": 10,
        "figures": {k: {"value": v} if v is not None else {"value": None, "why": f"{k} not measured"}
                    for k, v in values.items()},
        "slo": {"passed": None, "why": "no SLO"} if slo is None else
               {"profile": "p", "passed": slo, "failed": []},
        "check": {"regression": None, "why": "no check.json"} if regression is None else
                 {"regression": regression, "baseline": "b", "exit_code": 9 if regression else 0,
                  "regressed": [{"metric": "e2e.p50", "delta": 0.3, "ci": [0.1, 0.5], "key": "e2e_p50"}]
                  if regression else []},
        "partial": None,
    }


def write_run(folder: Path, s: dict[str, Any], *, run_json: bool = True, check: Any = None) -> Path:
    """A run folder: summary.json, run.json (the summary's meta) and check.json (an object, or text)."""
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(s))
    if run_json:
        (folder / "run.json").write_text(json.dumps(s["run"]["meta"]))
    if check is not None:
        (folder / "check.json").write_text(check if isinstance(check, str) else json.dumps(check))
    return folder
