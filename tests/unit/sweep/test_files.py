"""The sweep files (json, csv, png, html) of hand-made results; no sockets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from suite.sweep.files import write_sweep
from suite.sweep.rows import knee, latency_cells
from tests.unit.compare.fakes import samples
from tests.unit.sweep.steps import rows_for, verdict


def test_sweep_files(tmp_path: Path) -> None:
    rows, baseline = rows_for([0, 75])
    result = {"schema": "llmsuite.sweep/1", "kind": "cache", "target": "<b>mock</b>", "seeds": "same",
              "baseline": baseline, "steps": [{**r, "slo": None} for r in rows]}
    files = write_sweep(tmp_path, result)
    assert [f.name for f in files] == ["sweep.json", "sweep.csv", "sweep.png", "sweep.html"]
    assert json.loads(files[0].read_text())["steps"][1]["hit_ratio"]["value"] == 0.75
    header = files[1].read_text().splitlines()[0].split(",")
    assert {"hit_ratio", "hit_ratio_lo", "hit_ratio_hi", "e2e_gain", "slo_passed"} <= set(header)
    page = files[3].read_text()
    assert "<b>mock</b>" not in page
    assert "&lt;b&gt;mock&lt;/b&gt;" in page


def test_load_sweep_chart_marks_the_knee(tmp_path: Path) -> None:
    steps = [{"users": u, **latency_cells(samples(f"u{u}", np.full(10, u / 10))), "slo": verdict(u < 10)}
             for u in (1, 5, 10)]
    result = {"kind": "load", "level_key": "users", "target": "t", "seeds": "s",
              "knee": knee(steps, "users"), "steps": steps}
    files = write_sweep(tmp_path, result)
    assert result["knee"]["level"] == 10
    page = files[3].read_text()
    assert "the SLO breaks at 10 users (E2E p95 2.1, limit &lt; 2); it held at 5 users" in page


def test_sweep_csv_neutralises_formula_cells_only(tmp_path: Path) -> None:
    from suite.sweep.files import write_csv

    path = write_csv(tmp_path / "sweep.csv", {"steps": [{"label": "=cmd|' /C calc'!A0", "delta": -0.5,
                                                          "run": "@runs/x"}]})
    assert path.read_text(encoding="utf-8").splitlines() == [
        "label,delta,run", "'=cmd|' /C calc'!A0,-0.5,'@runs/x"]
