"""Terminal tables of hand-made sweep results."""

from __future__ import annotations

import numpy as np

from suite.sweep.rows import knee, latency_cells
from tests.unit.compare.fakes import samples
from tests.unit.sweep.steps import rows_for, verdict


def test_terminal_tables_show_the_knee_and_missing_values() -> None:
    from rich.console import Console

    from suite.sweep.table import cache_sweep_table, load_sweep_table

    steps = [{"users": u, **latency_cells(samples(f"u{u}", np.full(10, u / 10))), "slo": verdict(u < 10)}
             for u in (1, 10)]
    console = Console(record=True, width=140)
    console.print(load_sweep_table({"level_key": "users", "knee": knee(steps, "users"), "steps": steps}))
    rows, _ = rows_for([0, 50])
    console.print(cache_sweep_table({"steps": rows}))
    text = console.export_text()
    assert "10 ◀ knee" in text
    assert "FAIL" in text
    assert "—" in text  # no per-hit speedup without hits: a dash, never 0
