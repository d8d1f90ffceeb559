"""Sweep rows on hand-made samples: hit ratio, per-hit speedup, end-to-end gain, bounds, SLO knee."""

from __future__ import annotations

import pytest

from suite.sweep.rows import knee
from tests.unit.sweep.steps import rows_for, verdict


def test_cache_rows_recover_hit_ratio_speedup_and_gain() -> None:
    rows, baseline = rows_for([0, 50, 75])
    assert baseline["step"] == 0
    assert [r["hit_ratio"]["value"] for r in rows] == [0.0, 0.5, 0.75]
    assert rows[0]["per_hit_speedup"]["value"] is None
    assert "no successful hits" in rows[0]["per_hit_speedup"]["why"]
    assert rows[1]["per_hit_speedup"]["value"] == pytest.approx(100.0)
    assert rows[0]["e2e_gain"] == {"value": 1.0, "ci": None, "why": "the baseline step itself"}
    # mean E2E 1.0 → 0.505 → 0.2575: gains 1.98× and 3.88×, just under the bounds 2× and 4×
    assert rows[1]["e2e_gain"]["value"] == pytest.approx(1 / 0.505)
    assert rows[2]["e2e_gain"]["value"] == pytest.approx(1 / 0.2575)
    lo, hi = rows[2]["e2e_gain"]["ci"]
    assert lo < rows[2]["e2e_gain"]["value"] < hi
    assert rows[2]["gain_bound_observed"] == pytest.approx(4.0)
    assert rows[2]["gain_bound_theoretical"] == pytest.approx(4.0)


def test_knee_is_the_first_failing_level() -> None:
    rows = [{"users": u, "slo": verdict(u < 50)} for u in (1, 10, 50, 100)]
    assert knee(rows, "users") == {"level": 50, "failed_checks": ["2.1 breaks < 2"]}
    holds = knee([{"users": 1, "slo": verdict(True)}], "users")
    assert holds["why"] == "the SLO holds at every level up to 1"
    assert knee([{"users": 1, "slo": None}], "users")["level"] is None


def test_scheduled_cells_read_the_steps_own_summary() -> None:
    from suite.sweep.rows import scheduled_cells

    summary = {"overall": {"e2e_from_scheduled": {"p95": 0.4}, "lateness": {"p95": 0.01}}}
    assert scheduled_cells(summary) == {"e2e_from_scheduled_p95": 0.4, "lateness_p95": 0.01}
    closed = {"overall": {"lateness": {"n": 0, "p95": None, "why": "closed-loop run"}}}
    assert scheduled_cells(closed) == {"e2e_from_scheduled_p95": None, "lateness_p95": None}
