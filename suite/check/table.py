"""The terminal view of a check, rendered from check.json alone: one table of the primary metrics
(baseline, now, change with its CI, verdict) and one sentence per regression or improvement."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from suite.check.verdict import ABSOLUTE_EFFECT, IMPROVED, REGRESSED, SMALL, UNCHANGED, UNTESTED
from suite.compare.outputs.cells import fmt_unit, signed

MISSING = "—"
STYLES = {REGRESSED: "bold red", IMPROVED: "green", SMALL: "yellow", UNTESTED: "dim"}
SHORT = {REGRESSED: "REGRESSED", IMPROVED: "improved", SMALL: "< min effect", UNCHANGED: "same",
         UNTESTED: "no test"}


def pct(v: float) -> str:
    """``+4.2%`` / ``−4.2%``: the same minus sign as the differences beside it."""
    return ("+" if v >= 0 else "−") + f"{abs(v):.1%}"


def _relative(r: dict[str, Any]) -> str:
    rel = r.get("relative")
    return MISSING if rel is None else pct(rel)


def change_text(r: dict[str, Any]) -> str:
    """``+145 ms (+98.0%)``: B − A in the metric's unit and relative to the baseline."""
    if r.get("delta") is None:
        return MISSING
    return f"{signed(r['delta'], r.get('unit') or '')} ({_relative(r)})"


def ci_text(r: dict[str, Any]) -> str:
    """B − A's CI in the metric's unit."""
    ci = r.get("ci")
    if not ci:
        return MISSING
    unit = r.get("unit") or ""
    return f"{signed(ci[0], unit)} … {signed(ci[1], unit)}"


def judged_ci_text(r: dict[str, Any]) -> str:
    """The CI the verdict held against the minimum effect: relative (B / A − 1), or B − A for the
    error ratio (absolute: its baseline is often 0)."""
    rel = r.get("relative_ci")
    if r["metric"] in ABSOLUTE_EFFECT or not rel:
        return ci_text(r)
    return f"{pct(rel[0])} … {pct(rel[1])}"


def p_text(r: dict[str, Any]) -> str:
    """The p-value the verdict used: raw for the primary metric, Holm-adjusted for the others."""
    p = r.get("p") if r.get("primary") else r.get("p_holm")
    return MISSING if p is None else f"{p:.2g}"


def check_table(record: dict[str, Any]) -> Table:
    tests = record.get("tests") or {}
    conf = tests.get("conf") or 0.95
    th = record.get("thresholds") or {}
    title = f"check {record.get('preset')}: now vs baseline ({conf:.0%} bootstrap CI of now − baseline)"
    caption = (f"p: {tests.get('primary')} (primary) uncorrected, the others Holm-adjusted. regressed = "
               f"worse, p ≤ {tests.get('alpha')}, and the whole CI of the change beyond --min-effect "
               f"{th.get('min_effect', 0):.0%} (error ratio: --min-error-delta "
               f"{th.get('min_error_delta', 0):g})")
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for name, justify in (("metric", "left"), ("baseline", "right"), ("now", "right"),
                          ("change", "right"), ("CI", "right"), ("p", "right"),
                          ("verdict", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in record.get("metrics") or []:
        unit = r.get("unit") or ""
        style = STYLES.get(r["status"], "")
        word = SHORT.get(r["status"], r["status"])
        table.add_row(r["label"], fmt_unit(r.get("a"), unit), fmt_unit(r.get("b"), unit), change_text(r),
                      judged_ci_text(r), p_text(r), f"[{style}]{word}[/]" if style else word)
    return table


def sentence(r: dict[str, Any], conf: float) -> str:
    """``E2E p95 regressed: 145 ms → 290 ms, +145 ms (+100.0%), 95% CI +140 ms … +150 ms (+95.0% …
    +105.0%), p 0.024 (Holm)``."""
    unit, judged = r.get("unit") or "", judged_ci_text(r)
    relative = "" if judged == ci_text(r) else f" ({judged})"
    return (f"{r['label']} {r['status']}: {fmt_unit(r.get('a'), unit)} → {fmt_unit(r.get('b'), unit)}, "
            f"{change_text(r)}, {conf:.0%} CI {ci_text(r)}{relative}, "
            f"p {p_text(r)} ({'primary' if r.get('primary') else 'Holm'})")


def verdict_lines(record: dict[str, Any]) -> list[str]:
    """The headline sentences, regressions first; what was not compared and why."""
    conf = (record.get("tests") or {}).get("conf") or 0.95
    if not record.get("compared"):
        return [f"not compared: {record.get('why')}"]
    lines = [sentence(r, conf) for r in record.get("regressed") or []]
    lines += [sentence(r, conf) for r in record.get("improved") or []]
    if not record.get("regressed"):
        lines.append("no significant regression of a primary metric against the baseline")
    paired = record.get("paired") or {}
    if paired.get("paired"):
        for metric, m in (paired.get("median_delta") or {}).items():
            if m.get("median_delta") is not None and m.get("median_delta_ci"):
                lo, hi = m["median_delta_ci"]
                lines.append(f"paired ({m.get('n_pairs')} requests): median per-request {metric.upper()} "
                             f"change {signed(m['median_delta'], 's')} (CI {signed(lo, 's')} … "
                             f"{signed(hi, 's')})")
    elif paired.get("why"):
        lines.append(f"not paired: {paired['why']}")
    return lines
