"""One run's entry in the history, read from what the run folder already holds: its key figures
(from summary.json, never recomputed), its identity (target, corpus, load), its SLO verdict and the
regression verdict ``llmsuite check`` left beside it (check.json).

Pure functions over parsed JSON: the walk that reads the files is ``suite.history.collect``. Rule:
a figure summary.json did not measure stays ``None`` beside the summary's own ``why`` (or why the
path is absent), never 0 — a trend line with a gap is honest, one that dips to 0 is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from suite.errors import EXIT_REGRESSION


@dataclass(frozen=True)
class Metric:
    """A key figure: where it sits in summary.json, its unit, which direction is better."""

    key: str
    label: str
    path: tuple[str, ...]
    unit: str  # s, ratio, x, tokens/s
    better: str  # lower | higher


METRICS: tuple[Metric, ...] = (
    Metric("ttft_p50", "TTFT p50", ("overall", "ttft", "p50"), "s", "lower"),
    Metric("ttft_p95", "TTFT p95", ("overall", "ttft", "p95"), "s", "lower"),
    Metric("e2e_p50", "E2E p50", ("overall", "e2e", "p50"), "s", "lower"),
    Metric("e2e_p95", "E2E p95", ("overall", "e2e", "p95"), "s", "lower"),
    Metric("error_ratio", "error ratio", ("totals", "error_ratio"), "ratio", "lower"),
    Metric("hit_ratio", "hit ratio", ("cache", "hit_ratio", "value"), "ratio", "higher"),
    Metric("per_hit_speedup", "per-hit speedup", ("cache", "speedup", "e2e_p50", "value"), "x", "higher"),
    Metric("output_tokens_per_s", "output tok/s", ("overall", "output_tokens_per_s", "value"), "tokens/s",
           "higher"),
)
BY_KEY = {m.key: m for m in METRICS}


def _dig(obj: Any, path: tuple[str, ...]) -> tuple[Any, Mapping[str, Any] | None, str | None]:
    """The value at ``path``, the innermost dict on the way (its ``why`` explains a null), or the
    first missing key."""
    parent: Mapping[str, Any] | None = None
    for i, key in enumerate(path):
        if not isinstance(obj, Mapping) or key not in obj:
            return None, parent, ".".join(path[:i + 1])
        parent, obj = obj, obj[key]
    return obj, parent, None


def figure(summary: Mapping[str, Any], metric: Metric) -> dict[str, Any]:
    """``{"value": x}`` or ``{"value": None, "why": ...}``; the speedup keeps its bootstrap ``ci``."""
    value, parent, absent = _dig(summary, metric.path)
    dotted = ".".join(metric.path)
    if absent is not None:
        return {"value": None, "why": f"summary.json has no {absent} (written by an older suite?)"}
    if metric.key == "error_ratio" and not (summary.get("totals") or {}).get("sent"):
        return {"value": None, "why": "no request was sent (outside the warm-up)"}
    if isinstance(value, bool) or not isinstance(value, int | float):
        why = (parent or {}).get("why") if value is None else f"{dotted} is not a number ({value!r})"
        return {"value": None, "why": str(why or f"{dotted} was not measured (no reason given)")}
    out: dict[str, Any] = {"value": float(value)}
    ci = (parent or {}).get("ci") if metric.key == "per_hit_speedup" else None
    if isinstance(ci, list) and len(ci) == 2:
        out["ci"] = [float(ci[0]), float(ci[1])]
    return out


def figures(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {m.key: figure(summary, m) for m in METRICS}


def slo_verdict(summary: Mapping[str, Any]) -> dict[str, Any]:
    """``{profile, passed, failed}`` (the checks that failed, as ``metric stat``), or
    ``{"passed": None, "why"}`` when the run was not checked against an SLO."""
    slo = summary.get("slo")
    if not isinstance(slo, Mapping) or "passed" not in slo:
        why = (slo or {}).get("why") if isinstance(slo, Mapping) else None
        return {"passed": None, "why": str(why or "summary.json has no SLO verdict")}
    failed = [" ".join(str(p) for p in (c.get("metric"), c.get("stat")) if p)
              for c in slo.get("checks") or [] if isinstance(c, Mapping) and not c.get("passed")]
    return {"profile": slo.get("profile"), "passed": bool(slo["passed"]), "failed": failed}


def metric_key(name: Any, stat: Any = None) -> str | None:
    """A check's metric name (``e2e.p50``, ``e2e_p50``, ``e2e`` + stat ``p50``, ``hit_ratio``) as the
    history's key, or None when the history does not chart it."""
    text = str(name).strip().lower().replace(".", "_")
    if stat:
        text = f"{text}_{str(stat).strip().lower()}"
    return text if text in BY_KEY else None


def check_verdict(check: Mapping[str, Any] | None, why: str | None = None) -> dict[str, Any]:
    """What ``llmsuite check`` concluded for this run (check.json: ``{baseline, regressed: [{metric,
    delta, ci, ...}], exit_code}``): ``regression`` true when a primary metric regressed (a non-empty
    ``regressed`` or exit code 9); without check.json, ``{"regression": None, "why"}``."""
    if check is None:
        return {"regression": None, "why": why or "no check.json (the run was not made by llmsuite check)"}
    if check.get("compared") is False:  # check ran but had nothing to compare with (no baseline yet)
        why = f"llmsuite check compared nothing: {check.get('why') or 'no baseline'}"
        return {"regression": None, "why": why, "baseline": None, "exit_code": check.get("exit_code"),
                "regressed": []}
    rows = check.get("regressed")
    if rows is not None and not isinstance(rows, list):
        return {"regression": None, "why": f"check.json: 'regressed' is not a list ({type(rows).__name__})"}
    regressed = [dict(r) if isinstance(r, Mapping) else {"metric": str(r)} for r in rows or []]
    for r in regressed:
        r["key"] = metric_key(r.get("metric"), r.get("stat"))
    code = check.get("exit_code")
    baseline = check.get("baseline")
    if isinstance(baseline, Mapping):
        baseline = baseline.get("run_id") or baseline.get("run_dir") or baseline.get("path")
    return {"regression": bool(regressed) or code == EXIT_REGRESSION, "baseline": baseline,
            "exit_code": code, "regressed": regressed}


def corpus_identity(meta: Mapping[str, Any], manifest: Mapping[str, Any] | None) -> tuple[str | None, str]:
    """The sha256 of the corpus the run replayed — of the source corpus when it replayed a
    model-override copy — and where it comes from (the rule of ``suite.compare``'s pairing)."""
    derived = (manifest or {}).get("derived_from")
    if isinstance(derived, Mapping) and derived.get("corpus_sha256"):
        return str(derived["corpus_sha256"]), "source corpus of a model-override copy (manifest)"
    if meta.get("corpus_sha256"):
        return str(meta["corpus_sha256"]), "run.json corpus_sha256"
    return None, "no run.json with a corpus_sha256"


def load_shape(meta: Mapping[str, Any]) -> str:
    """The offered load in words (a preset, users in closed loop, a rate in open loop): runs at
    different loads are different trends, even on one target and corpus."""
    load = ((meta.get("extra") or {}).get("load") or {}) if isinstance(meta.get("extra"), Mapping) else {}
    if load.get("preset"):
        return f"preset {load['preset']}"
    if load.get("mode") == "open" or load.get("rate"):
        return f"open loop {load.get('rate')}/s"
    users = meta.get("users")
    return f"{users} users" if users is not None else "load unknown"


def target_of(meta: Mapping[str, Any], summary: Mapping[str, Any]) -> str | None:
    """The target URL with its request path when run.json names one (two endpoints of one host are
    two targets); the records' targets when there is no run.json."""
    target = meta.get("target")
    if not target:
        seen = (summary.get("run") or {}).get("targets") or []
        target = ", ".join(sorted(str(t) for t in seen)) or None
    path = (meta.get("extra") or {}).get("target_path") if isinstance(meta.get("extra"), Mapping) else None
    if target and path and not str(target).rstrip("/").endswith(str(path)):
        return str(target).rstrip("/") + str(path)
    return str(target) if target else None
