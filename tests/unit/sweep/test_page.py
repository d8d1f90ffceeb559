"""sweep.html on the shared skeleton: answers first, human column names with units, step folder
names (never paths) outside the metadata fold, every column in a fold, warnings as alerts."""

from __future__ import annotations

import numpy as np

from suite.sweep.answers import cache_answers, load_answers
from suite.sweep.html import main_table, render_html
from suite.sweep.rows import knee, latency_cells
from tests.unit.compare.fakes import samples
from tests.unit.sweep.steps import rows_for, verdict

RUNS = "/home/someone/runs/sweep-cache"


def cache_result() -> dict:
    rows, baseline = rows_for([0, 75])
    steps = [{**r, "run_dir": f"{RUNS}/ratio-{r['repeat_ratio']:g}", "slo": None} for r in rows]
    return {"schema": "llmsuite.sweep/1", "kind": "cache", "target": "bundled mock", "seeds": "same",
            "settings": {"cache": "memory", "scenario": "finance", "n": 100, "users": 4},
            "bootstrap": {"conf": 0.95, "n_boot": 300, "seed": 0}, "baseline": baseline, "steps": steps,
            "warnings": ["step 'ratio-0.75' stopped by the duration limit"]}


def test_cache_page_reads_in_words_and_units_without_paths() -> None:
    page = render_html(cache_result(), b"png")
    assert page.index('class="alert"') < page.index('class="answers"') < page.index("<figure") \
        < page.index("<details")
    assert "stopped by the duration limit" in page.split('class="answers"')[0]  # a warning before answers
    main = page.split("<details")[0]
    for header in ("theoretical hit", "observed hit (CI)", "per-hit speedup (CI)", "E2E gain (CI)",
                   "miss E2E p50"):
        assert f">{header}</th>" in main
    assert "_" not in "".join(main.split("<thead>")[1].split("</thead>")[0])  # no snake_case header
    assert "75.0 %" in main and "1.00 s" in main and "×" in main  # percent, seconds, factors
    assert RUNS not in page.split("<summary>Sweep metadata")[0]
    assert "<td>ratio-0.75</td>" in page  # the step folder's name, in the full table
    assert "<summary>Every column of sweep.csv" in page


def test_cache_answers_compare_observed_with_theory_and_the_bound() -> None:
    ratio0, ratio75, speedup, coalescing = cache_answers(cache_result())
    assert ratio0.startswith("ratio 0: hit ratio 0.0 % of a theoretical 0.0 % (the baseline step)")
    # h = 0.75: mean E2E 1 → 0.2575 s, bound 1/(1 − 0.75) = 4×
    assert ratio75.startswith("ratio 0.75: hit ratio 75.0 % (95% CI")
    assert "of a theoretical 75.0 %; 3.88× faster end to end than ratio 0 (95% CI" in ratio75
    assert "of at most 4.00× at that hit ratio" in ratio75
    assert speedup.startswith("a cache hit answers 100× faster than a miss (median E2E 10.0 ms vs 1.00 s")
    assert coalescing.startswith("what coalescing would add is not known")


def step(users: int):
    return samples(f"u{users}", np.full(10, users / 10))


def load_result(levels: tuple[int, ...], fail_from: int | None) -> dict:
    steps = [{"users": u, "run_dir": f"/abs/users-{u}", **latency_cells(step(u)),
              "slo": verdict(fail_from is None or u < fail_from)} for u in levels]
    return {"kind": "load", "level_key": "users", "target": "t",
            "seeds": "every level replays /abs/corpus.jsonl", "corpus": "/abs/corpus.jsonl",
            "settings": {"slo": "interactive"}, "knee": knee(steps, "users"), "steps": steps}


def test_load_answers_say_where_the_slo_breaks_or_that_it_held() -> None:
    broke = load_answers(load_result((1, 5, 10), 10))
    assert broke[0] == "SLO interactive breaks at 10 users (E2E p95 2.1, limit < 2); it held at 5 users"
    assert broke[1].startswith("from 1 users to 10 users: p95 E2E 100 ms → 1.00 s")
    held = load_answers(load_result((1, 5), None))
    assert held[0] == "no knee: the SLO holds at every level up to 5"


def test_load_table_marks_the_knee_and_hides_paths() -> None:
    result = load_result((1, 5, 10), 5)
    table = main_table(result)
    assert "FAIL (knee)" in table and table.count("FAIL") == 2
    assert ">E2E p95</th>" in table and ">errors</th>" in table
    page = render_html(result, b"png")
    assert "/abs/" not in page.split("<summary>Sweep metadata")[0]  # corpus.jsonl by name in the banner
    assert "corpus.jsonl" in page
