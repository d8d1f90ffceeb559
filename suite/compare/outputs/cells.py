"""Text of one comparison cell, shared by the HTML page and the terminal table: a value in its
unit, a signed difference with its CI, a ratio with its CI, a p-value. None renders as an em dash,
never 0."""

from __future__ import annotations

from typing import Any

from suite.analyze.outputs.fmt import MISSING, number, percent, seconds, times
from suite.compare.summarize.headline import method_sentence
from suite.compare.summarize.population import describe_population

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


def cell_p(v: float | None) -> str:
    return MISSING if v is None else f"{v:.2g}"


def cell_significant(r: dict[str, Any]) -> str:
    """yes/no after the correction, marked "(primary)" on the row tested without one."""
    flag = "yes" if r.get("significant") else ("no" if r.get("significant") is False else MISSING)
    return f"{flag} (primary)" if r.get("primary") else flag


def tests_caption(result: dict[str, Any], tests: dict[str, Any] | None = None) -> str:
    """The method in one line, as the headlines state it; empty for a dict without tests."""
    tests = tests or result.get("tests")
    if not tests or tests.get("family") is None:
        return ""
    conf = 1.0 - float(tests["alpha"])
    return method_sentence(tests, describe_population(result.get("population")), conf) or ""
