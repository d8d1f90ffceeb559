"""``summarize(run) -> dict``: the machine interface of a run (summary.json), from per-request rows.

Every number is computed here from the request records; reports and terminal tables only render
this dict. Layout: schema, generator, run, totals, overall, models, cache, headlines, missing,
definitions.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd

import suite
from suite.analyze.cache import cache_section
from suite.analyze.definitions import DEFINITIONS
from suite.analyze.headlines import headlines
from suite.analyze.load import LoadedRun
from suite.analyze.metrics import collect_missing, column, dist, flags, value
from suite.analyze.stats import pooled_gaps, ratio, tpot, window

SUMMARY_SCHEMA = "llmsuite.summary/1"
NO_WINDOW = "the measured window has zero length (a single request without a measured e2e)"


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def ttft_why(frame: pd.DataFrame) -> str:
    stream = flags(frame, "stream")
    if not stream.any():
        return "no streaming requests (TTFT is measured on streaming replies only)"
    if not (stream & frame["ok"].to_numpy()).any():
        return "no successful streaming requests"
    return "no TTFT recorded on successful streaming requests"


def latency_block(frame: pd.DataFrame) -> dict[str, Any]:
    """TTFT, E2E, TPOT and ITL distributions over the successful requests of one group."""
    ok = frame["ok"].to_numpy()
    streamed = ok & flags(frame, "stream")
    e2e, ttft = column(frame, "e2e"), column(frame, "ttft")
    per_token = tpot(e2e[streamed], ttft[streamed], column(frame, "completion_tokens")[streamed])
    return {
        "ttft": dist(ttft[streamed], ttft_why(frame)),
        "e2e": dist(e2e[ok], "no successful requests"),
        "tpot": dist(per_token, "no successful streaming request with more than one completion token"),
        "itl": dist(pooled_gaps(column(frame, "itl")[ok]),
                    "no inter-token gaps recorded (non-streaming or single-chunk replies)"),
    }


def throughput_block(frame: pd.DataFrame, seconds: float) -> dict[str, Any]:
    """Output tokens/s and requests/s over the run's measured window."""
    ok = frame["ok"].to_numpy()
    tokens = column(frame, "completion_tokens")[ok]
    counted = tokens[np.isfinite(tokens)]
    out: dict[str, Any] = {
        "output_tokens": int(counted.sum()),
        "ok_without_token_count": int(ok.sum() - counted.size),
        "output_tokens_per_s": value(ratio(counted.sum(), seconds) if counted.size else None,
                                     NO_WINDOW if counted.size else "no completion token counts recorded",
                                     "tokens/s"),
        "requests_per_s": value(ratio(len(frame), seconds), NO_WINDOW, "requests/s"),
        "ok_requests_per_s": value(ratio(int(ok.sum()), seconds), NO_WINDOW, "requests/s"),
    }
    if out["ok_without_token_count"]:
        out["note"] = (f"{out['ok_without_token_count']} successful requests reported no completion_tokens "
                       "and are not counted in output_tokens")
    return out


def group_block(frame: pd.DataFrame, seconds: float) -> dict[str, Any]:
    """Everything measured for one model (or for all requests together)."""
    ok = int(frame["ok"].sum())
    lateness = column(frame, "t_start") - column(frame, "scheduled")
    return {
        "requests": len(frame),
        "ok": ok,
        "failed": len(frame) - ok,
        "error_ratio": (len(frame) - ok) / len(frame),
        **latency_block(frame),
        **throughput_block(frame, seconds),
        "lateness": dist(lateness, "closed-loop run (no scheduled send times)"),
    }


def errors_table(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Failed requests grouped by error kind, most frequent first, with one example message."""
    failed = frame[~frame["ok"].to_numpy()]
    kinds = failed["error_kind"].fillna("(no error recorded)")
    rows = []
    for kind, group in failed.groupby(kinds, sort=False):
        messages = group["error_message"].dropna()
        statuses = sorted({int(s) for s in group["status"].dropna()})
        rows.append({"kind": str(kind), "count": len(group), "share": len(group) / len(failed),
                     "statuses": statuses, "example": str(messages.iloc[0]) if len(messages) else None})
    return sorted(rows, key=lambda row: (-row["count"], row["kind"]))


def totals_section(frame: pd.DataFrame) -> dict[str, Any]:
    ok = int(frame["ok"].sum())
    counts = frame["status"].value_counts(dropna=False)
    statuses = {("none" if np.isnan(s) else str(int(s))): int(n) for s, n in counts.items()}
    return {
        "sent": len(frame), "ok": ok, "failed": len(frame) - ok,
        "error_ratio": (len(frame) - ok) / len(frame),
        "errors": errors_table(frame),
        "status_counts": dict(sorted(statuses.items())),
    }


def run_section(run: LoadedRun, start: float, end: float) -> dict[str, Any]:
    """What was run: from run.json when present, plus what the records themselves show."""
    frame = run.requests
    seen = {
        "run_dir": str(run.run_dir), "records": len(frame),
        "targets": sorted(str(t) for t in frame["target"].dropna().unique()),
        "workers": int(frame["worker"].nunique()), "users_seen": int(pd.Series(frame["user"]).nunique()),
        "window": {"start": start, "end": end, "seconds": end - start},
    }
    if run.meta is None:
        return {**seen, "meta": {"why": run.meta_why}}
    return {**seen, "meta": run.meta.to_dict()}


def summarize(run: LoadedRun) -> dict[str, Any]:
    """The summary dict of a loaded run (see module docstring for its layout)."""
    frame = run.requests
    start, end = window(column(frame, "t_start"), column(frame, "e2e"))
    seconds = end - start
    summary: dict[str, Any] = {
        "schema": SUMMARY_SCHEMA,
        "generator": {"name": "suite.analyze", "version": suite.__version__,
                      "numpy": _version("numpy"), "pandas": _version("pandas")},
        "run": run_section(run, start, end),
        "totals": totals_section(frame),
        "overall": group_block(frame, seconds),
        "models": {str(m): group_block(g, seconds) for m, g in frame.groupby("model", sort=True)},
        "cache": cache_section(frame),
    }
    summary["headlines"] = headlines(summary)
    summary["missing"] = collect_missing({k: summary[k] for k in ("run", "overall", "models", "cache")})
    summary["definitions"] = dict(DEFINITIONS)
    return summary
