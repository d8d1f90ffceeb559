"""``sweep semantic`` without running anything: the operating point (lower bound, not the point
estimate), the step rows from a summary's ``semantic`` block, ``--before-step`` and its refusals,
and the page, chart and table of a hand-made sweep.json."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from suite.analyze.summarize.semantic import wilson
from suite.errors import SpecError, TargetError
from suite.sweep.html import render_html
from suite.sweep.run import StepPlan
from suite.sweep.semantic import (
    before_step_argv,
    check_thresholds,
    operating_point,
    run_before_step,
    step_cells,
    sweep_semantic,
)
from suite.sweep.semanticfiles import semantic_answers, semantic_figure, semantic_sweep_table


def prop(k: int, n: int) -> dict[str, Any]:
    ci = wilson(k, n)
    return {"value": k / n if n else None, "ci": list(ci) if ci else None}


def step(t: float, correct: int, false: int, hits: int, n: int = 1000) -> dict[str, Any]:
    return {"threshold": t, "hit_ratio": prop(hits, n), "precision": prop(correct, correct + false),
            "false_hit_ratio": prop(false, hits), "recall": prop(correct, 400),
            "exact_hits": hits - correct - false,
            "paraphrase_hits": correct, "false_hits": false, "false_near_miss": false // 2,
            "missed_paraphrase": 400 - correct, "tokens_saved_net": 1000, "run_dir": f"/x/threshold-{t:g}"}


def test_the_lowest_threshold_whose_lower_bound_qualifies_is_recommended() -> None:
    steps = [step(0.8, 300, 40, 600), step(0.9, 380, 1, 560), step(0.95, 390, 0, 540), step(0.98, 0, 0, 200)]
    point = operating_point(steps, 0.99)
    # 0.9: 380/381 has a lower bound of 0.985 < 0.99; 0.95: 390/390 has 0.990
    assert (wilson(380, 381) or (1.0,))[0] < 0.99 <= (wilson(390, 390) or (0.0,))[0]
    assert point["threshold"] == 0.95 and point["hit_ratio"] == pytest.approx(0.54)
    assert point["by_point_estimate"]["threshold"] == 0.9  # 99.7 % by the point estimate alone
    assert "not shown at 95 %" in point["by_point_estimate"]["note"]


def test_none_qualifies_says_so_with_the_best_bound() -> None:
    point = operating_point([step(0.8, 30, 5, 100), step(0.9, 0, 0, 50)], 0.99)
    assert point["threshold"] is None
    assert point["why"].startswith("no threshold's precision has a 95 % lower bound ≥ 0.99; "
                                   "best lower bound 0.")
    assert "no recommended threshold" in semantic_answers({"operating_point": point, "steps": []})[0]


def test_step_cells_from_a_summary_and_from_one_without_a_block() -> None:
    block = {"requests": 10, "hits": 4, "hit_ratio": {"value": 0.4, "ci": [0.17, 0.69], "k": 4, "n": 10},
             "hits_by_class": {"exact": 1, "paraphrase": 2, "false": 1, "false_near_miss": 1},
             "opportunities": {"paraphrase": 3, "missed_paraphrase": 1},
             "precision": {"value": 2 / 3, "ci": [0.2, 0.9], "k": 2, "n": 3},
             "cannot_judge": [{"figure": "recall", "why": "because"}]}
    row = step_cells({"semantic": block})  # type: ignore[typeddict-item]
    assert row["hit_ratio"] == {"value": 0.4, "ci": [0.17, 0.69]}
    assert (row["false_hits"], row["false_near_miss"], row["missed_paraphrase"]) == (1, 1, 1)
    assert row["recall"] == {"value": None, "ci": None, "why": "because"}
    assert step_cells({})["precision"]["why"].startswith("the run recorded no served-key rule")  # type: ignore[typeddict-item]


def test_before_step_fills_the_threshold_and_stops_on_failure(tmp_path: Path) -> None:
    assert before_step_argv("set-t --to {threshold} 'a b'", 0.9) == ["set-t", "--to", "0.9", "a b"]
    with pytest.raises(SpecError, match="does not contain \\{threshold\\}"):
        before_step_argv("set-threshold 0.9", 0.9)
    out = tmp_path / "t.txt"
    code = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
    run_before_step(f"{sys.executable} -c \"{code}\" {out} {{threshold}}", 0.85)
    assert out.read_text() == "0.85"
    with pytest.raises(TargetError, match="exited 3: no output; the threshold was not set"):
        run_before_step(f"{sys.executable} -c 'raise SystemExit(3)' {{threshold}}", 0.85)


def test_bad_settings_are_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="--thresholds: \\[1.5\\] must be"):
        check_thresholds([1.5])
    mock = StepPlan(out=tmp_path)
    with pytest.raises(SpecError, match="--before-step sets a real target's threshold"):
        sweep_semantic(mock, [0.9], tmp_path / "c.jsonl", before_step="x {threshold}")
    remote = StepPlan(out=tmp_path, target="http://127.0.0.1:9")
    with pytest.raises(SpecError, match="give --before-step 'CMD \\{threshold\\}'"):
        sweep_semantic(remote, [0.9], tmp_path / "c.jsonl")


def test_page_chart_and_table_of_a_semantic_sweep() -> None:
    from rich.console import Console

    steps = [step(0.8, 300, 40, 600), step(0.95, 390, 0, 540)]
    result = {"schema": "llmsuite.sweep/1", "kind": "semantic", "levels": [0.8, 0.95], "settings": {},
              "target": "bundled mock", "seeds": "every threshold replays c.jsonl", "corpus": "c.jsonl",
              "operating_point": operating_point(steps, 0.99), "steps": steps}
    page = render_html(result, b"\x89PNG")
    assert "Semantic cache sweep" in page and "similarity thresholds 0.8, 0.95" in page
    assert "run at threshold 0.95: precision 100.0 %" in page
    assert "false-hit ratio (CI)" in page
    fig = semantic_figure(result)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "recommended 0.95" in labels and "min precision 0.99" in labels
    console = Console(width=200, record=True)
    console.print(semantic_sweep_table(result))
    assert "0.95 ◀" in console.export_text()
