"""The history's figures in words: one formatter per unit, changes in the unit that reads best
(percentage points for ratios, per cent for the rest), times in UTC, and the answer sentences.
A missing figure is the missing mark, never 0."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from suite.analyze.outputs.fmt import MISSING, seconds
from suite.compare.outputs.cells import fmt_unit
from suite.history.figures import BY_KEY


def value(key: str, v: float | None) -> str:
    unit = BY_KEY[key].unit
    if unit == "x" and v is not None:
        return f"{v:,.1f}×"
    return fmt_unit(v, unit)


def change(key: str, c: Mapping[str, Any] | None) -> str:
    """``+3.1 %`` (relative), ``+1.2 pt`` for ratios; the missing mark when not computed."""
    if not c:
        return MISSING
    if BY_KEY[key].unit == "ratio":
        return f"{c['delta'] * 100:+.1f} pt".replace("-", "−")
    if c.get("relative") is None:
        return MISSING
    return f"{c['relative'] * 100:+.1f} %".replace("-", "−")


def when(epoch: float | None) -> str:
    return MISSING if epoch is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def short_id(sha: str | None) -> str:
    return sha[:12] if sha else "unknown"


def group_title(group: Mapping[str, Any]) -> str:
    corpus = f"{group['corpus'] or 'corpus'} ({short_id(group['corpus_identity'])})"
    return f"{group['id']}: {group['target'] or 'unknown target'} · {corpus} · {group['load']}"


def slo_text(slo: Mapping[str, Any]) -> str:
    if slo.get("passed") is None:
        return "no SLO given"
    verdict = "pass" if slo["passed"] else "FAIL"
    return f"{slo.get('profile') or 'SLO'} {verdict}"


def regression_text(check: Mapping[str, Any]) -> str:
    """``e2e.p50 +0.35 (CI 0.2–0.5)`` per regressed metric; ``none`` / ``not checked``."""
    if check.get("regression") is None:
        return "not checked"
    if not check["regression"]:
        return "none"
    parts = [_regressed_row(r) for r in check.get("regressed") or []]
    return "REGRESSED: " + ("; ".join(parts) if parts else f"exit code {check.get('exit_code')}")


def _pair(ci: Any) -> bool:
    return isinstance(ci, list) and len(ci) == 2 and all(isinstance(x, int | float) for x in ci)


def _regressed_row(r: Mapping[str, Any]) -> str:
    """One row of check.json's ``regressed``: relative change with its CI when check gave one, else
    the difference in the metric's unit (seconds for latencies)."""
    text = str(r.get("label") or r.get("metric") or "?")
    rel, delta = r.get("relative"), r.get("delta")
    if isinstance(rel, int | float):
        text += f" {rel * 100:+.1f} %"
        if _pair(r.get("relative_ci")):
            lo, hi = r["relative_ci"]
            text += f" (CI {lo * 100:+.1f} … {hi * 100:+.1f} %)"
        return text
    def show(v: float) -> str:
        return f"{'+' if v >= 0 else '−'}{seconds(abs(v))}" if r.get("unit") == "s" else f"{v:+.3g}"

    if isinstance(delta, int | float):
        text += f" {show(delta)}"
    if _pair(r.get("ci")):
        text += f" (CI {show(r['ci'][0])} … {show(r['ci'][1])})"
    return text


ANSWER_METRICS = ("e2e_p95", "ttft_p95", "error_ratio", "hit_ratio")


def _figure_phrase(row: Mapping[str, Any]) -> str:
    key = row["metric"]
    text = f"{BY_KEY[key].label} {value(key, row['latest'])}"
    if row["latest"] is None:
        return text + " (not measured)"
    bits = []
    if row.get("vs_previous"):
        bits.append(f"{change(key, row['vs_previous'])} vs previous")
    if row.get("vs_median") and row["earlier_n"] > 1:
        bits.append(f"{change(key, row['vs_median'])} vs median of {row['earlier_n']} earlier")
    return text + (f" ({', '.join(bits)})" if bits else "")


def group_answer(group: Mapping[str, Any]) -> str:
    """One sentence per group: what, the latest run's headline figures against the earlier runs,
    its SLO verdict and the regressions ``llmsuite check`` marked."""
    latest = group["runs"][-1]
    rows = {r["metric"]: r for r in group["latest_vs"]}
    figs = ", ".join(_figure_phrase(rows[k]) for k in ANSWER_METRICS)
    n = group["runs_n"]
    head = f"{group_title(group)} — {n} run{'s' if n != 1 else ''}; latest {latest['run_id']} " \
           f"({when(latest['started'])}): {figs}; SLO: {slo_text(latest['slo'])}"
    regs = group["regressions"]
    if regs:
        which = ", ".join(regs[-3:]) + (", …" if len(regs) > 3 else "")
        tail = f"; regression marked by llmsuite check in {len(regs)} run{'s' if len(regs) > 1 else ''} " \
               f"({which}); latest: {regression_text(latest['check'])}"
    elif group["checked"]:
        tail = f"; no regression in the {group['checked']} run{'s' if group['checked'] > 1 else ''} " \
               "checked by llmsuite check"
    else:
        tail = "; no run checked by llmsuite check (no regression verdicts)"
    return head + tail + "."
