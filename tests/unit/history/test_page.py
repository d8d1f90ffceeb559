"""history.html, history.json and the trend chart from hand-made runs; no sockets."""

from __future__ import annotations

import json
from pathlib import Path

from suite.analyze.outputs.savefig import plt
from suite.history import HISTORY_HTML, HISTORY_JSON, build_history, write_history
from suite.history.chart import trend_figure
from suite.history.group import group_runs
from tests.unit.history.fakes import run, summary, write_run


def test_every_line_of_the_chart_has_a_legend_entry_and_unmeasured_series_a_note() -> None:
    group = group_runs([run("r1", 1.0, ttft_p50=None, ttft_p95=None), run("r2", 2.0, regression=True,
                                                                        ttft_p50=None, ttft_p95=None)])[0]
    fig = trend_figure(group)
    try:
        lat, ratios, speed, tput = fig.axes
        labels = [t.get_text() for t in lat.get_legend().get_texts()]
        assert labels == ["E2E p50", "E2E p95"]
        marks = [t.get_text() for t in fig.legends[0].get_texts()]
        assert marks == ["run marked regressed by llmsuite check"]
        notes = " ".join(t.get_text() for t in lat.texts)
        assert "not measured in any run: TTFT p50, TTFT p95" in notes
        for ax in (ratios, speed, tput):
            drawn = [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")]
            legend = [t.get_text() for t in ax.get_legend().get_texts()]
            assert set(drawn) <= set(legend)
        assert [t.get_text().split("\n")[0] for t in lat.get_xticklabels()] == ["01-01", "01-01"]
    finally:
        plt.close(fig)


def test_page_answers_first_with_regressions_and_escaped_data(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    write_run(reports / "r1", summary(run_id="r1", started=1.0, e2e=1.0, target="http://<b>t</b>"))
    write_run(reports / "r2", summary(run_id="r2", started=2.0, e2e=2.0, target="http://<b>t</b>", slo=False),
              check={"baseline": "r1", "exit_code": 9, "regressed": [  # as llmsuite check writes a row
                  {"metric": "e2e.p95", "label": "E2E p95", "unit": "s", "a": 2.0, "b": 4.0, "delta": 2.0,
                   "ci": [1.5, 2.5], "relative": 1.0, "relative_ci": [0.75, 1.25], "status": "regressed"}]})
    write_run(reports / "f1", summary(run_id="f1", started=3.0, sha="b" * 64, hit=None, speedup=None))
    history = build_history(reports)
    files = write_history(reports / "history", history)
    assert [f.name for f in files] == [HISTORY_JSON, HISTORY_HTML]
    data = json.loads(files[0].read_text())
    assert data["schema"] == "llmsuite.history/1" and data["runs_n"] == 3
    assert [[r["run_id"] for r in g["runs"]] for g in data["groups"]] == [["f1"], ["r1", "r2"]]
    page = files[1].read_text()
    assert "<b>t</b>" not in page and "&lt;b&gt;t&lt;/b&gt;" in page
    answers = page[page.index('<ul class="answers">'):]
    answers = answers[:answers.index("</ul>")]
    assert "3 runs in 2 groups" in answers
    assert "E2E p95 4.00 s (+100.0 % vs previous)" in answers  # r2 against r1; one earlier run: no median
    assert "regression marked by llmsuite check in 1 run (r2)" in answers
    assert "hit ratio — (not measured)" in answers
    assert "the latest run r2 regressed against its baseline — REGRESSED: E2E p95 +100.0 % " \
           "(CI +75.0 … +125.0 %)" in page
    assert "failed its SLO (p: e2e p95)" in page
    start = page.index('<ul class="answers">')
    assert start < page.index('<section class="charts">') < page.index("<details")
    assert page.count("<figure>") == 2  # one trend chart per group
    assert "no successful request carried a cache signal" in page  # why a figure is missing


def test_latencies_that_span_orders_of_magnitude_get_a_log_axis() -> None:
    for e2e, scale in ((0.005, "log"), (0.9, "linear")):
        fig = trend_figure(group_runs([run("r1", 1.0, e2e=1.0), run("r2", 2.0, e2e=e2e)])[0])
        try:
            assert fig.axes[0].get_yscale() == scale
        finally:
            plt.close(fig)
