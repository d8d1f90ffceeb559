"""Significance as an experiment states it: one primary metric tested at the stated confidence, every
other metric Holm-corrected, so a dozen metrics at 95 % do not hand out "significant" by chance.

p-values come from the bootstrap distribution of the difference itself (B − A replicates, the same
ones the CI is read from): two-sided, ``p = min(1, 2·min((1 + #{Δ* ≤ 0}) / (R + 1),
(1 + #{Δ* ≥ 0}) / (R + 1)))`` for R replicates Δ*. The +1 keeps p above 0 (a finite bootstrap never
proves p = 0), so the smallest p is ``2 / (R + 1)``: Holm over a family of N can only reach
significance when ``2N / (R + 1) ≤ alpha``; the tests block says when ``--n-boot`` is too small.

Families (Holm's step-down adjustment within each):

* all requests: every metric row with a p-value but the primary one — the family the result states;
* each per-model group: all its rows (exploratory: there is no primary there);
* each group of paired deltas: all its rows.

A row keeps its raw ``p``; ``p_holm`` is the adjusted one (null for the primary and untested rows);
``significant`` is ``p ≤ alpha`` for the primary, ``p_holm ≤ alpha`` for the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from suite.compare.read.samples import LATENCY_METRICS
from suite.errors import SpecError

STATS = ("p50", "p95", "p99")
DEFAULT_PRIMARY = "e2e.p50"


def p_value(diffs: np.ndarray | None) -> float | None:
    """Two-sided bootstrap p-value of "no difference" from replicates of B − A (module docstring);
    None when there are no replicates or one is not finite."""
    if diffs is None:
        return None
    d = np.asarray(diffs, dtype=np.float64)
    if d.size == 0 or not np.all(np.isfinite(d)):
        return None
    below = (1 + int((d <= 0).sum())) / (d.size + 1)
    above = (1 + int((d >= 0).sum())) / (d.size + 1)
    return float(min(1.0, 2.0 * min(below, above)))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order: the i-th smallest (0-based) is
    multiplied by ``m − i``, then made monotone (never below the previous one) and capped at 1."""
    m = len(pvalues)
    order = np.argsort(np.asarray(pvalues, dtype=np.float64), kind="stable")
    adjusted = np.empty(m, dtype=np.float64)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(pvalues[i])))
        adjusted[i] = running
    return adjusted.tolist()


def parse_primary(primary: str) -> tuple[str, str]:
    """``"e2e.p50"`` → ``("e2e", "p50")``; a SpecError naming the choices otherwise."""
    metric, _, stat = primary.strip().partition(".")
    if metric not in LATENCY_METRICS or stat not in STATS:
        raise SpecError(f"--primary {primary!r}: use METRIC.STAT with METRIC one of "
                        f"{', '.join(LATENCY_METRICS)} and STAT one of {', '.join(STATS)} (e.g. e2e.p50).")
    return metric, stat


def _correct(rows: list[dict[str, Any]], alpha: float) -> int:
    """Holm across the rows that carry a p-value; returns the family size."""
    tested = [r for r in rows if r.get("p") is not None]
    for r, adj in zip(tested, holm([r["p"] for r in tested]), strict=True):
        r["p_holm"] = adj
        r["significant"] = adj <= alpha
    for r in rows:
        if r.get("p") is None:
            r["p_holm"] = None
            r["significant"] = None
    return len(tested)


def resolution_note(n_boot: int, family: int, alpha: float) -> str | None:
    """Why no family member can be significant, when the bootstrap is too coarse for Holm."""
    if family == 0 or 2 * family / (n_boot + 1) <= alpha:
        return None
    need = int(np.ceil(2 * family / alpha - 1))
    return (f"with {n_boot} bootstrap replicates the smallest p is {2 / (n_boot + 1):.4f}, so none of "
            f"{family} Holm-corrected metrics can reach significance at {alpha:g}; use --n-boot {need} "
            "or more")


def apply_tests(cmp: dict[str, Any], primary: str, alpha: float, n_boot: int,
                better: Any) -> dict[str, Any]:
    """Set ``p_holm``/``significant`` (and ``better`` via the callable) on every row of a comparison;
    returns its tests block: primary, correction, family size, alpha."""
    metric, stat = parse_primary(primary)
    groups = cmp["groups"]
    family = 0
    found: dict[str, Any] | None = None
    for gi, group in enumerate(groups):
        rows = group["metrics"]
        if gi == 0:
            found = next((r for r in rows if r["metric"] == metric and r["stat"] == stat), None)
            family = _correct([r for r in rows if r is not found], alpha)
        else:
            _correct(rows, alpha)
        for r in rows:
            r["better"] = better(r["metric"], r["a"], r["b"], r["significant"])
    if found is not None:
        found["p_holm"] = None
        found["primary"] = True
        found["significant"] = None if found.get("p") is None else found["p"] <= alpha
        found["better"] = better(metric, found["a"], found["b"], found["significant"])
    for group in cmp["paired"].get("groups", []):
        _correct([r for r in group["metrics"] if "median_delta" in r], alpha)
    block: dict[str, Any] = {"primary": primary, "correction": "holm", "family": family, "alpha": alpha,
                             "primary_p": None if found is None else found.get("p")}
    if found is None or found.get("p") is None:
        block["primary_why"] = (found or {}).get("why") or f"no {primary} row in the comparison"
    note = resolution_note(n_boot, family, alpha)
    if note:
        block["note"] = note
    return block
