"""Sweep rows on hand-made samples (hit ratio, per-hit speedup, end-to-end gain, bounds, SLO knee),
the sweep files, and option parsing; no sockets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from suite.cli_compare import parse_list
from suite.compare import Boot
from suite.compare.sweep_files import write_sweep
from suite.compare.sweep_rows import add_gains, cache_cells, knee, latency_cells
from suite.errors import SpecError
from tests.unit.test_compare import samples

BOOT = Boot(n_boot=300)


def cache_step(label: str, n_hits: int, n: int = 100):
    """Misses take 1 s, hits 10 ms: with h = n_hits / n, mean E2E = 1 − 0.99 h."""
    e2e = np.r_[np.full(n_hits, 0.01), np.full(n - n_hits, 1.0)]
    hit = np.r_[np.ones(n_hits), np.zeros(n - n_hits)]
    return samples(label, e2e, hit=hit)


def rows_for(hits: list[int]) -> tuple[list[dict], dict]:
    steps = [cache_step(f"ratio-{h}", h) for h in hits]
    manifests = [{"repeat_ratio": {"achieved": h / 100}, "theoretical_hit_ratio": h / 100} for h in hits]
    rows = [{"repeat_ratio": h / 100, **cache_cells(s, m, BOOT), **latency_cells(s)}
            for h, s, m in zip(hits, steps, manifests, strict=True)]
    return rows, add_gains(rows, steps, BOOT)


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


def verdict(passed: bool) -> dict:
    return {"passed": passed, "checks": [{"passed": passed, "why": "2.1 breaks < 2" if not passed else "ok"}]}


def test_knee_is_the_first_failing_level() -> None:
    rows = [{"users": u, "slo": verdict(u < 50)} for u in (1, 10, 50, 100)]
    assert knee(rows, "users") == {"level": 50, "failed_checks": ["2.1 breaks < 2"]}
    holds = knee([{"users": 1, "slo": verdict(True)}], "users")
    assert holds["why"] == "the SLO holds at every level up to 1"
    assert knee([{"users": 1, "slo": None}], "users")["level"] is None


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
    assert "<b>mock</b>" not in page and "&lt;b&gt;mock&lt;/b&gt;" in page


def test_load_sweep_chart_marks_the_knee(tmp_path: Path) -> None:
    steps = [{"users": u, **latency_cells(samples(f"u{u}", np.full(10, u / 10))), "slo": verdict(u < 10)}
             for u in (1, 5, 10)]
    result = {"kind": "load", "level_key": "users", "target": "t", "seeds": "s",
              "knee": knee(steps, "users"), "steps": steps}
    files = write_sweep(tmp_path, result)
    assert result["knee"]["level"] == 10
    assert "SLO knee: 10" in files[3].read_text()


@pytest.mark.parametrize("value, kind, expected", [("0,0.25, 0.5", float, [0.0, 0.25, 0.5]),
                                                   ("1,5,10", int, [1, 5, 10]), (None, int, None)])
def test_parse_list(value, kind, expected) -> None:
    assert parse_list("--x", value, kind) == expected


@pytest.mark.parametrize("value, message", [("1,x", "--users: 'x' is not an integer (in '1,x')."),
                                            (",", "--users: ',' holds no value")])
def test_parse_list_errors_name_the_item(value: str, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_list("--users", value, int)


def test_sweep_option_errors() -> None:
    from suite.sweep import StepPlan, sweep_cache, sweep_load

    plan = StepPlan(out=Path("unused"))
    with pytest.raises(SpecError, match=r"--ratios: \[1.0\] must be one or more repetition ratios"):
        sweep_cache(plan, [1.0])
    with pytest.raises(SpecError, match="give exactly one of --users"):
        sweep_load(plan, users=[1], rates=[2.0])


def test_terminal_tables_show_the_knee_and_missing_values() -> None:
    from rich.console import Console

    from suite.compare.table import cache_sweep_table, load_sweep_table

    steps = [{"users": u, **latency_cells(samples(f"u{u}", np.full(10, u / 10))), "slo": verdict(u < 10)}
             for u in (1, 10)]
    console = Console(record=True, width=140)
    console.print(load_sweep_table({"level_key": "users", "knee": knee(steps, "users"), "steps": steps}))
    rows, _ = rows_for([0, 50])
    console.print(cache_sweep_table({"steps": rows}))
    text = console.export_text()
    assert "10 ◀ knee" in text and "FAIL" in text
    assert "—" in text  # no per-hit speedup without hits: a dash, never 0


def test_the_api_key_never_reaches_sweep_json() -> None:
    from suite.sweep import StepPlan, _header

    plan = StepPlan(out=Path("x"), api_key="sk-secret-123")
    header = _header("cache", plan, [0.0])
    assert "sk-secret" not in json.dumps(header) and "sk-secret" not in repr(plan)
    assert header["settings"]["profiles"].endswith("models.yaml")


def test_scheduled_cells_read_the_steps_own_summary() -> None:
    from suite.compare.sweep_rows import scheduled_cells

    summary = {"overall": {"e2e_from_scheduled": {"p95": 0.4}, "lateness": {"p95": 0.01}}}
    assert scheduled_cells(summary) == {"e2e_from_scheduled_p95": 0.4, "lateness_p95": 0.01}
    closed = {"overall": {"lateness": {"n": 0, "p95": None, "why": "closed-loop run"}}}
    assert scheduled_cells(closed) == {"e2e_from_scheduled_p95": None, "lateness_p95": None}


def test_a_failed_step_is_named_and_keeps_its_exit_code() -> None:
    from suite.errors import TargetError
    from suite.sweep import StepError, _naming

    with pytest.raises(StepError, match=r"^step 'ratio-0.5' failed: cannot reach target$") as info, \
            _naming("ratio-0.5"):
        raise TargetError("cannot reach target")
    assert info.value.exit_code == TargetError.exit_code
