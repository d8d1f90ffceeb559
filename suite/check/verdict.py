"""The verdict of a check: which primary metric regressed against the baseline, by how much, with
the CI — a pure function of a comparison (``suite.compare``, schema ``llmsuite.compare/1``).

Why the rule is what it is:

* **significance is the comparison's own**: a row's ``significant`` already says ``p ≤ alpha`` for
  the comparison's primary metric (E2E p50 unless told otherwise) and ``p_holm ≤ alpha`` for every
  other metric (Holm across the family), so watching six metrics does not hand out a regression by
  chance; the CI shown is the row's bootstrap CI of B − A;
* **a minimum effect, cleared by the whole CI**: the bootstrap resamples requests *within* each
  run, so it sees request noise but not the drift *between* runs (the machine, the network, the
  hour): two checks of an unchanged loopback gateway on a busy host differed by +13 % in E2E p95
  and +22 % in TTFT p95, both "significant" (p_holm 0.028), and with a few thousand requests a 1 %
  shift is significant too. So a row counts only when its CI lies entirely beyond the minimum
  effect: the relative change (B / A − 1, its CI from the comparison's ``ratio_ci``) at least
  ``min_effect`` (default 10 %) for latency and throughput — a one-sided test with a margin, "worse
  by at least 10 %, with confidence" — and B − A at least ``min_error_delta`` (default 0.01 = 1
  percentage point) for the error ratio, which is often 0 in the baseline (a relative change is
  then infinite). Those two checks had CIs of +3.4 … +16 % and +5.7 … +26 %: not regressions;
  a 2× slower backend gave +67 … +215 % and +74 … +98 %;
* **no test, no verdict**: output tokens/s is one figure per run window (no per-request sample to
  resample, so no CI): it is shown, never judged; a metric missing from either run says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# (metric, stat) in display order; stat None: a run-level figure (error ratio, throughput)
PRIMARY: tuple[tuple[str, str | None], ...] = (
    ("e2e", "p50"), ("e2e", "p95"), ("ttft", "p50"), ("ttft", "p95"), ("error_ratio", None),
    ("output_tokens_per_s", None))
LABELS = {"e2e": "E2E", "ttft": "TTFT", "error_ratio": "error ratio", "output_tokens_per_s": "output tok/s"}
LOWER_IS_BETTER = {"e2e": True, "ttft": True, "error_ratio": True, "output_tokens_per_s": False}
ABSOLUTE_EFFECT = frozenset({"error_ratio"})  # judged by B − A, not by the relative change
ALL_GROUP = "(all)"

REGRESSED, IMPROVED, SMALL, UNCHANGED, UNTESTED = (
    "regressed", "improved", "below min effect", "no significant change", "not tested")


@dataclass(frozen=True)
class Thresholds:
    """The smallest change that counts, even when significant (module docstring)."""

    min_effect: float = 0.10
    min_error_delta: float = 0.01


@dataclass
class Verdict:
    """One row per primary metric (``rows``), and which of them regressed or improved."""

    rows: list[dict[str, Any]]
    thresholds: Thresholds
    alpha: float | None
    primary: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] == REGRESSED]

    @property
    def improved(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] == IMPROVED]


def metric_name(metric: str, stat: str | None) -> str:
    """``e2e.p95``, ``error_ratio``: the name check.json and the table use."""
    return f"{metric}.{stat}" if stat else metric


def label_of(metric: str, stat: str | None) -> str:
    return f"{LABELS[metric]} {stat}" if stat else LABELS[metric]


def _find(rows: list[Mapping[str, Any]], metric: str, stat: str | None) -> Mapping[str, Any] | None:
    return next((r for r in rows if r.get("metric") == metric and r.get("stat") == stat), None)


def _relative(delta: float | None, a: float | None) -> float | None:
    return None if delta is None or not a else delta / a


def _shift(ci: list[float] | None) -> list[float] | None:
    """B / A's CI as a relative change's CI (B / A − 1)."""
    return None if ci is None else [ci[0] - 1.0, ci[1] - 1.0]


def status_of(metric: str, row: Mapping[str, Any], relative_ci: list[float] | None,
              th: Thresholds) -> tuple[str, str]:
    """(status, why) of one comparison row: significant, and its CI clear of the minimum effect."""
    significant, delta = row.get("significant"), row.get("delta")
    if significant is None or delta is None:
        return UNTESTED, str(row.get("why") or "no test of this metric in the comparison")
    if not significant or delta == 0:
        return UNCHANGED, "the difference is within the noise (not significant)"
    if metric in ABSOLUTE_EFFECT:
        ci, margin = row.get("delta_ci") or [delta, delta], th.min_error_delta
        option, show = "--min-error-delta", "{:+.4f}"
    elif relative_ci is None:
        return UNTESTED, "the baseline's value is 0 (or was in a resample): no relative change to judge"
    else:
        ci, margin = relative_ci, th.min_effect
        option, show = "--min-effect", "{:+.1%}"
    worse = (delta > 0) == LOWER_IS_BETTER[metric]
    clear = ci[0] >= margin if delta > 0 else ci[1] <= -margin  # the whole CI beyond the margin
    if not clear:
        return SMALL, (f"significant, but the CI ({show.format(ci[0])} … {show.format(ci[1])}) does not rule "
                       f"out a change smaller than {option} {margin:g}")
    return (REGRESSED, "worse than the baseline") if worse else (IMPROVED, "better than the baseline")


def judge_row(metric: str, stat: str | None, row: Mapping[str, Any] | None, th: Thresholds) -> dict[str, Any]:
    """One primary metric's line of check.json."""
    out: dict[str, Any] = {"metric": metric_name(metric, stat), "label": label_of(metric, stat)}
    if row is None:
        return {**out, "unit": None, "a": None, "b": None, "delta": None, "ci": None, "relative": None,
                "relative_ci": None, "p": None, "p_holm": None, "primary": False, "significant": None,
                "status": UNTESTED, "why": "the comparison has no such row"}
    relative, relative_ci = _relative(row.get("delta"), row.get("a")), _shift(row.get("ratio_ci"))
    status, why = status_of(metric, row, relative_ci, th)
    return {**out, "unit": row.get("unit"), "a": row.get("a"), "b": row.get("b"), "delta": row.get("delta"),
            "ci": row.get("delta_ci"), "relative": relative, "relative_ci": relative_ci,
            "p": row.get("p"), "p_holm": row.get("p_holm"), "primary": bool(row.get("primary")),
            "significant": row.get("significant"), "n_a": row.get("n_a"), "n_b": row.get("n_b"),
            "status": status, "why": why}


def judge(comparison: Mapping[str, Any], thresholds: Thresholds | None = None) -> Verdict:
    """The verdict on a compare result of exactly two runs (baseline first): its all-requests rows."""
    th = thresholds or Thresholds()
    comparisons = comparison.get("comparisons") or []
    tests = comparison.get("tests") or {}
    if len(comparisons) != 1:
        raise ValueError(f"a check compares the run with one baseline; got {len(comparisons)} comparisons")
    groups = comparisons[0].get("groups") or []
    rows = next((g["metrics"] for g in groups if g.get("group") == ALL_GROUP), [])
    verdict = Verdict([judge_row(m, s, _find(rows, m, s), th) for m, s in PRIMARY], th,
                      tests.get("alpha"), tests.get("primary"))
    note = (comparisons[0].get("tests") or {}).get("note")
    if note:  # the bootstrap was too coarse for Holm: nothing but the primary can be significant
        verdict.notes.append(note)
    return verdict
