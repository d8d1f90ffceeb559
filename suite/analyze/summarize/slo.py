"""SLO profiles and verdicts: ``load_slo(name_or_path) -> SloSpec``, ``evaluate_slo(summary, spec)``.

A spec is data: checks of the form ``metric.stat OP threshold`` on the summary's ``overall`` block
(``e2e.p95 < 5``, ``ttft.p99 <= 800ms``, ``error_ratio < 0.01``, ``goodput_ratio >= 0.95``) plus
per-request limits that define goodput (a request is *good* when it succeeded and every limited
value of its own was measured and within its limit).

Rule: a check whose value is missing from the summary fails, with the reason in ``why``; a verdict
never passes on data it did not see.

Custom YAML (every key but ``checks`` optional)::

    name: checkout-api
    checks: ["ttft.p95 < 500ms", "e2e.p99 < 3", "error_ratio < 0.01", "goodput_ratio >= 0.9"]
    request_limits: {ttft: 1.0, e2e: 3.0}
    per_model: true          # also check every model's own block
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import yaml

from suite.analyze.outputs.fmt import seconds
from suite.analyze.schema import GoodputBlock, SloCheck, SloVerdict, Summary
from suite.errors import SpecError

LATENCY_METRICS = ("ttft", "e2e", "tpot", "itl", "itl_mean", "e2e_from_scheduled", "lateness")
STATS = ("mean", "p50", "p90", "p95", "p99", "max")
SCALAR_METRICS = ("error_ratio", "goodput", "goodput_ratio", "output_tokens_per_s", "requests_per_s",
                  "ok_requests_per_s")
REQUEST_LIMIT_METRICS = ("ttft", "e2e", "tpot", "itl_mean", "e2e_from_scheduled")
OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
_CHECK = re.compile(r"^\s*([a-z_0-9]+)(?:\.([a-z0-9]+))?\s*(<=|>=|<|>)\s*([0-9.eE+-]+)\s*(ms|s)?\s*$")
# The suite adds an error ceiling to the docs/design.md profiles: latency is measured on successful requests
# only, so a run where most requests fail could otherwise pass on the few that answered.
PROFILE_ERROR_CEILING = 0.01


@dataclass(frozen=True)
class Check:
    """``metric.stat op threshold``; ``stat`` is None for scalar metrics (error_ratio, goodput...)."""

    metric: str
    stat: str | None
    op: str
    threshold: float

    @property
    def text(self) -> str:
        name = f"{self.metric}.{self.stat}" if self.stat else self.metric
        return f"{name} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class SloSpec:
    name: str
    checks: tuple[Check, ...]
    request_limits: dict[str, float] = field(default_factory=dict)
    per_model: bool = False
    users: tuple[int, int | None] | None = None
    source: str = "profile"


def _profile(name: str, p95: float, p99: float, users: tuple[int, int | None]) -> SloSpec:
    checks = (Check("e2e", "p95", "<", p95), Check("e2e", "p99", "<", p99),
              Check("error_ratio", None, "<", PROFILE_ERROR_CEILING))
    return SloSpec(name, checks, {"e2e": p95}, users=users)


PROFILES: dict[str, SloSpec] = {
    "single-tenant": _profile("single-tenant", 12.0, 15.0, (1, 10)),
    "multi-tenant": _profile("multi-tenant", 5.0, 8.0, (100, 500)),
    "enterprise": _profile("enterprise", 2.0, 3.0, (1000, None)),
    "high-frequency": _profile("high-frequency", 0.5, 1.0, (50, 100)),
}


def parse_check(text: str, where: str = "check") -> Check:
    """``"ttft.p95 < 500ms"`` → Check; latency thresholds are seconds unless suffixed ``ms``."""
    m = _CHECK.match(str(text))
    if not m:
        raise SpecError(f"{where}: {text!r} is not a check; write 'metric.stat < value' (e.g. "
                        "'e2e.p95 < 5', 'ttft.p99 <= 800ms') or 'error_ratio < 0.01'.")
    metric, stat, op, raw, unit = m.groups()
    try:
        threshold = float(raw) / (1000.0 if unit == "ms" else 1.0)
    except ValueError:
        raise SpecError(f"{where}: {raw!r} in {text!r} is not a number.") from None
    _validate(metric, stat, where, text)
    return Check(metric, stat, op, threshold)


def _validate(metric: str, stat: str | None, where: str, text: str) -> None:
    if metric in LATENCY_METRICS:
        if stat not in STATS:
            raise SpecError(f"{where}: {text!r} needs a statistic for {metric}: one of {', '.join(STATS)} "
                            f"(e.g. '{metric}.p95 < 1').")
    elif metric in SCALAR_METRICS:
        if stat is not None:
            raise SpecError(f"{where}: {text!r}: {metric} is a single number; drop '.{stat}'.")
    else:
        known = ", ".join((*LATENCY_METRICS, *SCALAR_METRICS))
        raise SpecError(f"{where}: unknown metric {metric!r} in {text!r}; known: {known}.")


def _limits(raw: Any, where: str) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: request_limits must be a mapping like {{ttft: 1.0, e2e: 5}} (seconds).")
    out: dict[str, float] = {}
    for name, limit in raw.items():
        if name not in REQUEST_LIMIT_METRICS:
            raise SpecError(f"{where}: request_limits.{name}: unknown per-request metric; known: "
                            f"{', '.join(REQUEST_LIMIT_METRICS)}.")
        if isinstance(limit, bool) or not isinstance(limit, int | float) or limit <= 0:
            raise SpecError(f"{where}: request_limits.{name}: {limit!r} is not a limit in seconds (> 0).")
        out[str(name)] = float(limit)
    return out


def spec_from_dict(raw: Any, where: str) -> SloSpec:
    """Validate a custom SLO mapping (see module docstring); every error names the key."""
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: an SLO file is a mapping with 'checks' (a list of 'metric.stat < value').")
    unknown = sorted(set(raw) - {"name", "checks", "request_limits", "per_model"})
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(unknown)}; known: name, checks, "
                        "request_limits, per_model.")
    items = raw.get("checks")
    if not isinstance(items, list) or not items:
        raise SpecError(f"{where}: checks must be a non-empty list, e.g. "
                        "['e2e.p95 < 5', 'error_ratio < 0.01'].")
    checks = tuple(parse_check(item, f"{where}: checks[{i}]") for i, item in enumerate(items))
    limits = _limits(raw.get("request_limits"), where)
    if any(c.metric.startswith("goodput") for c in checks) and not limits:
        raise SpecError(f"{where}: a goodput check needs request_limits (what makes one request good), "
                        "e.g. request_limits: {e2e: 5}.")
    return SloSpec(str(raw.get("name") or Path(where).stem), checks, limits,
                   per_model=bool(raw.get("per_model", False)), source=where)


def load_slo(name_or_path: str | Path) -> SloSpec:
    """A built-in profile by name, or a custom YAML file by path."""
    key = str(name_or_path)
    if key in PROFILES:
        return PROFILES[key]
    path = Path(key)
    if path.suffix in (".yaml", ".yml") or path.exists():
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SpecError(f"SLO file {path} does not exist. Check the path.") from None
        except OSError as exc:
            raise SpecError(f"SLO file {path}: cannot read it ({exc.strerror}). Check the path.") from None
        except UnicodeDecodeError as exc:
            raise SpecError(f"SLO file {path}: not UTF-8 text (byte {exc.start}: {exc.reason}). Save it "
                            "as UTF-8.") from None
        except yaml.YAMLError as exc:
            raise SpecError(f"{path}: not valid YAML ({exc}).") from None
        return spec_from_dict(raw, str(path))
    raise SpecError(f"unknown SLO profile {key!r}; known: {', '.join(PROFILES)} (or give a path to a "
                    ".yaml file of checks).")


def with_checks(spec: SloSpec | None, texts: list[str] | tuple[str, ...]) -> SloSpec | None:
    """``spec`` plus checks given as flags (``--check 'ttft.p95 < 500ms'``); flags alone make a
    spec named ``custom``."""
    if not texts:
        return spec
    extra = tuple(parse_check(t, "--check") for t in texts)
    if spec is None:
        return SloSpec("custom", extra, source="--check")
    return replace(spec, checks=spec.checks + extra, name=f"{spec.name}+checks")


# --- goodput: per-request limits over arrays (pure) ---------------------------------------------------


def good_mask(ok: np.ndarray, values: dict[str, np.ndarray], limits: dict[str, float]) -> np.ndarray:
    """Requests that succeeded and whose every limited value was measured and ≤ its limit."""
    good = np.asarray(ok, dtype=bool).copy()
    for name, limit in limits.items():
        with np.errstate(invalid="ignore"):
            good &= np.asarray(values[name], dtype=np.float64) <= limit  # NaN (not measured) → False
    return good


def goodput_block(spec: SloSpec, good: np.ndarray, seconds: float) -> GoodputBlock:
    """Good requests, goodput (good / window s) and goodput ratio (good / sent) under ``spec``."""
    n, sent = int(good.sum()), int(good.size)
    limits = ", ".join(f"{k} <= {v:g} s" for k, v in spec.request_limits.items())
    block: dict[str, Any] = {"slo": spec.name, "limits": dict(spec.request_limits), "good": n, "sent": sent}
    if not spec.request_limits:
        why = f"SLO {spec.name!r} sets no per-request limits, so no request can be judged good"
        return cast("GoodputBlock", {**block, "goodput": {"value": None, "why": why},
                                     "goodput_ratio": {"value": None, "why": why}})
    block["rule"] = f"ok and {limits}"
    block["goodput"] = ({"value": n / seconds, "unit": "requests/s"} if seconds > 0 else
                        {"value": None, "why": "the measured window has zero length"})
    block["goodput_ratio"] = {"value": n / sent} if sent else {"value": None, "why": "no requests"}
    return cast("GoodputBlock", block)


# --- verdicts -------------------------------------------------------------------------------------------


def _lookup(block: Mapping[str, Any], check: Check,
            goodput: Mapping[str, Any] | None) -> tuple[Any, str | None]:
    """The summary value a check reads, or (None, why it is missing)."""
    if check.metric in ("goodput", "goodput_ratio"):
        if goodput is None:
            return None, ("the summary has no goodput under this SLO's request limits "
                          "(analyze with this --slo)")
        node = goodput[check.metric]
        return node["value"], node.get("why")
    node = block.get(check.metric)
    if node is None:
        return None, f"the summary has no {check.metric!r}"
    if check.stat is None:
        return (node["value"], node.get("why")) if isinstance(node, dict) else (node, None)
    if node.get(check.stat) is None:
        return None, node.get("why") or f"{check.metric} {check.stat} is not in the summary"
    return node[check.stat], None


def check_result(block: Mapping[str, Any], check: Check, scope: str,
                 goodput: Mapping[str, Any] | None) -> SloCheck:
    value, missing = _lookup(block, check, goodput)
    out: dict[str, Any] = {"metric": check.metric, "stat": check.stat, "op": check.op,
                           "threshold": check.threshold, "value": value, "scope": scope}
    if value is None:
        return cast("SloCheck", {**out, "passed": False, "why": f"not measured: {missing}"})
    passed = bool(OPS[check.op](value, check.threshold))
    verb = "meets" if passed else "breaks"
    shown = f"{_shown(check.metric, value)} {verb} {check.op} {_shown(check.metric, check.threshold)}"
    return cast("SloCheck", {**out, "passed": passed, "why": shown})


def _shown(metric: str, number: float) -> str:
    """Latencies in s / ms (as the tables print them), ratios and rates as plain numbers."""
    return seconds(number) if metric in LATENCY_METRICS else f"{number:.4g}"


def _goodput_for(summary: Summary, spec: SloSpec, scope: str) -> Mapping[str, Any] | None:
    node: Any = summary.get("goodput")  # also summaries read back from JSON: checked, not trusted
    if not isinstance(node, dict) or node.get("limits") != spec.request_limits or not spec.request_limits:
        return None
    return node if scope == "overall" else node.get("models", {}).get(scope)


def evaluate_slo(summary: Summary, spec: SloSpec) -> SloVerdict:
    """Every check of ``spec`` on the summary's overall block (and each model's with ``per_model``)."""
    scopes: list[tuple[str, Mapping[str, Any]]] = [("overall", summary.get("overall", {}))]
    if spec.per_model:
        scopes += sorted(summary.get("models", {}).items())
    checks = [check_result(block, c, scope, _goodput_for(summary, spec, scope))
              for scope, block in scopes for c in spec.checks]
    verdict: SloVerdict = {"profile": spec.name, "source": spec.source,
                               "passed": all(c["passed"] for c in checks), "checks": checks}
    note = _users_note(summary, spec)
    if note:
        verdict["note"] = note
    return verdict


def _users_note(summary: Summary, spec: SloSpec) -> str | None:
    """Profiles are written for a user range; say so when the run's concurrency lies outside it."""
    users = summary.get("run", {}).get("meta", {}).get("users")
    if spec.users is None or not isinstance(users, int):
        return None
    low, high = spec.users
    if users < low or (high is not None and users > high):
        span = f"{low}+" if high is None else f"{low}-{high}"
        return f"profile {spec.name!r} is meant for {span} users; this run had {users}"
    return None
