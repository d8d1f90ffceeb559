"""Human formatting shared by the HTML report, the terminal tables and the headline sentences.

``None`` (a metric that was not measured) always renders as an em dash, never as 0.
"""

from __future__ import annotations

MISSING = "—"


def seconds(v: float | None) -> str:
    """``0.0123`` → ``12.3 ms``; ``1.5`` → ``1.50 s``; three significant digits below a second."""
    if v is None:
        return MISSING
    if v >= 1:
        return f"{v:.2f} s"
    ms = v * 1000
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms * 1000:.0f} µs"


def percent(v: float | None) -> str:
    return MISSING if v is None else f"{v * 100:.1f} %"


def times(v: float | None) -> str:
    return MISSING if v is None else f"{v:.1f}×"


def number(v: float | None, decimals: int = 1) -> str:
    return MISSING if v is None else f"{v:,.{decimals}f}"

