"""Text of one comparison cell, shared by the HTML page and the terminal table: a value in its
unit, a signed difference with its CI, a ratio with its CI. None renders as an em dash, never 0."""

from __future__ import annotations

from typing import Any

from suite.analyze.outputs.fmt import MISSING, number, percent, seconds, times

NAMES = {"ttft": "TTFT", "tpot": "TPOT", "itl_mean": "ITL mean", "e2e": "E2E", "error_ratio": "error ratio",
         "hit_ratio": "hit ratio", "output_tokens_per_s": "output tokens/s", "requests_per_s": "requests/s"}


def metric_name(r: dict[str, Any]) -> str:
    name = NAMES.get(r["metric"], r["metric"])
    return f"{name} {r['stat']}" if r.get("stat") else name


def fmt_unit(v: float | None, unit: str) -> str:
    if v is None:
        return MISSING
    if unit == "s":
        return seconds(v)
    if unit == "ratio":
        return percent(v)
    return number(v)


def signed(v: float, unit: str) -> str:
    if unit == "ratio":
        return ("+" if v >= 0 else "−") + f"{abs(v) * 100:.1f} pt"
    return ("+" if v >= 0 else "−") + fmt_unit(abs(v), unit)


def cell_value(r: dict[str, Any], side: str) -> str:
    return fmt_unit(r.get(side), r.get("unit", "s"))


def cell_signed(r: dict[str, Any]) -> str:
    delta, unit = r.get("delta"), r.get("unit", "s")
    if delta is None:
        return MISSING
    ci = r.get("delta_ci")
    inside = "" if ci is None else f" ({signed(ci[0], unit)} … {signed(ci[1], unit)})"
    return signed(delta, unit) + inside


def cell_ratio(r: dict[str, Any]) -> str:
    ratio = r.get("ratio")
    if ratio is None:
        return MISSING
    ci = r.get("ratio_ci")
    return times(ratio) if ci is None else f"{ratio:.2f}× ({ci[0]:.2f}–{ci[1]:.2f})"
