"""Runs into trends: one group per (target, corpus identity, load), ordered by start time, and per
group the latest run against the previous one and against the median of the earlier ones.

Figures are never pooled across groups: a different corpus or target measures something else, and
a stress run is not a slow smoke run. Within a group nothing is averaged either; the median of the
earlier runs is a reference point for the latest, not a statistic of the trend. These are
differences between runs, not tests: whether a change is significant is ``llmsuite check``'s call,
recorded per run (check.json) and shown as a regression mark.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from suite.history.figures import METRICS, Metric


def group_key(run: dict[str, Any]) -> tuple[str, str, str]:
    """A run without a corpus sha256 is its own group: two unknown corpora are not the same one."""
    corpus = run["corpus_identity"] or f"unknown corpus ({run['run_dir']})"
    return (run["target"] or "unknown target", corpus, run["load"])


def order(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Oldest first by start time; a run with no known start goes last, then by folder."""
    return sorted(runs, key=lambda r: (r["started"] is None, r["started"] or 0.0, r["run_dir"]))


def _change(metric: Metric, latest: float, other: float) -> dict[str, Any]:
    """``delta`` (latest − other, in the metric's unit), ``relative`` (delta / other; null when other
    is 0) and ``direction``: better, worse or same (by the metric's better side)."""
    delta = latest - other
    out: dict[str, Any] = {"delta": delta}
    if other != 0:
        out["relative"] = delta / abs(other)
    else:
        out["relative"], out["relative_why"] = None, "the earlier value is 0"
    good = delta < 0 if metric.better == "lower" else delta > 0
    out["direction"] = "same" if delta == 0 else "better" if good else "worse"
    return out


def compare_latest(metric: Metric, runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The latest run's figure beside the previous run's and the median of every earlier run that
    measured it (``earlier_n`` of them); each comparison null with why when it cannot be made."""
    latest = runs[-1]["figures"][metric.key]
    out: dict[str, Any] = {"metric": metric.key, "latest": latest["value"]}
    if latest["value"] is None:
        out["why"] = latest.get("why", "not measured")
    earlier = runs[:-1]
    if not earlier:
        out.update(previous=None, previous_why="the group has one run", median=None, earlier_n=0,
                   median_why="the group has one run")
        return out
    prev = earlier[-1]["figures"][metric.key]
    out["previous"] = prev["value"]
    if prev["value"] is None:
        out["previous_why"] = f"{earlier[-1]['run_id']}: {prev.get('why', 'not measured')}"
    elif latest["value"] is not None:
        out["vs_previous"] = _change(metric, latest["value"], prev["value"])
    values = [v for r in earlier if (v := r["figures"][metric.key]["value"]) is not None]
    out["earlier_n"] = len(values)
    out["median"] = statistics.median(values) if values else None
    if not values:
        out["median_why"] = "no earlier run of the group measured it"
    elif latest["value"] is not None:
        out["vs_median"] = _change(metric, latest["value"], out["median"])
    return out


def summarize_group(gid: str, runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    ordered = order(runs)
    latest = ordered[-1]
    return {
        "id": gid,
        "target": ordered[0]["target"],
        "corpus_identity": ordered[0]["corpus_identity"],
        "corpus_identity_source": latest["corpus_identity_source"],
        "corpus": latest["corpus"],
        "load": latest["load"],
        "runs_n": len(ordered),
        "first_started": ordered[0]["started"],
        "latest_started": latest["started"],
        "latest_run": latest["run_id"],
        "regressions": [r["run_id"] for r in ordered if r["check"].get("regression")],
        "checked": sum(1 for r in ordered if r["check"].get("regression") is not None),
        "slo_failed": [r["run_id"] for r in ordered if r["slo"].get("passed") is False],
        "latest_vs": [compare_latest(m, ordered) for m in METRICS],
        "runs": ordered,
    }


def group_runs(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups, the most recently active first (``g1`` is the group whose latest run is newest)."""
    by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for run in runs:
        by_key.setdefault(group_key(run), []).append(run)
    groups = [order(rs) for rs in by_key.values()]
    groups.sort(key=lambda rs: (rs[-1]["started"] is None, -(rs[-1]["started"] or 0.0), rs[-1]["run_dir"]))
    return [summarize_group(f"g{i}", rs) for i, rs in enumerate(groups, 1)]
