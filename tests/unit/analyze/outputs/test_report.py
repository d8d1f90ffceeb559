"""Report files: summary.json, per_model.csv, PNG charts and an escaped, self-contained report.html."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest
from rich.console import Console

from suite.analyze import analyze_and_write, analyze_run, render_summary_table, write_reports
from suite.analyze.read.load import load_run
from suite.records import RunMeta
from tests.unit.analyze.logs import cache_log, rec, run_dir

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = "<script>alert('x')</script>"


def test_all_files_written(tmp_path: Path) -> None:
    summary, files = analyze_and_write(run_dir(tmp_path, cache_log()))
    names = sorted(p.name for p in files)
    pngs = ["cache_latency.png", "cache_speedup.png", "latency_cdf.png", "throughput.png",
            "ttft_histogram.png"]
    assert names == sorted([*pngs, "per_model.csv", "report.html", "requests.csv", "summary.json"])
    for png in pngs:
        assert (tmp_path / png).read_bytes().startswith(PNG_MAGIC)
    assert orjson.loads((tmp_path / "summary.json").read_bytes()) == orjson.loads(orjson.dumps(summary))


def test_no_cache_chart_without_hits_and_misses(tmp_path: Path) -> None:
    _, files = analyze_and_write(run_dir(tmp_path, [rec(i, e2e=0.1 * i) for i in range(1, 5)]))
    assert not {"cache_latency.png", "cache_speedup.png"} & {p.name for p in files}
    assert (tmp_path / "latency_cdf.png").read_bytes().startswith(PNG_MAGIC)


def test_report_escapes_text_from_the_log(tmp_path: Path) -> None:
    records = [rec(1, model=HOSTILE, e2e=0.2, stream=True, ttft=0.1),
               rec(2, ok=False, status=500, error={"kind": "http_5xx", "message": HOSTILE})]
    analyze_and_write(run_dir(tmp_path, records))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("data:image/png;base64,") == 3


def test_report_holds_headlines_definitions_and_missing(tmp_path: Path) -> None:
    summary, _ = analyze_and_write(run_dir(tmp_path, cache_log()))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert summary["headlines"][1].replace("'", "&#x27;") in page
    assert "(e2e - ttft) / (completion_tokens - 1)" in page
    assert "closed-loop run (no scheduled send times)" in page
    assert page.count("data:image/png;base64,") == 5


def test_csv_rows_per_model_with_empty_cells_for_missing(tmp_path: Path) -> None:
    records = [rec(1, model="a", e2e=0.2), rec(2, model="b", e2e=0.4, stream=True, ttft=0.1)]
    analyze_and_write(run_dir(tmp_path, records))
    with (tmp_path / "per_model.csv").open(newline="") as fh:
        rows = {row["model"]: row for row in csv.DictReader(fh)}
    assert set(rows) == {"a", "b", "(all)"}
    assert rows["a"]["ttft_p50_s"] == ""
    assert float(rows["b"]["ttft_p50_s"]) == 0.1
    assert float(rows["a"]["e2e_max_s"]) == 0.2
    assert rows["b"]["vllm_tpot_mean_s"] == ""
    assert float(rows["(all)"]["e2e_p50_s"]) == pytest.approx(0.3)


def test_write_reports_takes_a_loaded_frame(tmp_path: Path) -> None:
    run = load_run(run_dir(tmp_path, cache_log()))
    paths = write_reports(tmp_path, analyze_run(tmp_path), run.requests)
    assert all(p.exists() and p.parent == tmp_path for p in paths)


def test_terminal_tables_print_data_literally(tmp_path: Path) -> None:
    records = [rec(1, model="[bold]m[/bold]", e2e=0.2), rec(2, model="gpt-4o", e2e=0.3, cache="hit")]
    summary = analyze_run(run_dir(tmp_path, records))
    console = Console(record=True, width=220, color_system=None)
    console.print(render_summary_table(summary))
    text = console.export_text()
    assert "[bold]m[/bold]" in text
    assert "gpt-4o" in text
    assert "Latency" in text
    assert "Cache hits vs misses (E2E)" in text


def test_hostile_prompt_from_the_corpus_is_inert(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(orjson.dumps({"id": "r000001", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": f"{HOSTILE}<img src=x onerror=alert(1)> & \"quotes\""}]}) + b"\n")
    meta = RunMeta(run_id="<b>run</b>", target="http://127.0.0.1:9", corpus=str(corpus), corpus_sha256="x",
                   users=1, duration_s=1.0, started=1000.0)
    summary, _ = analyze_and_write(run_dir(tmp_path, [rec(1, e2e=2.0), rec(2, e2e=0.1)], meta))
    assert summary["slowest"][0]["prompt"].startswith(HOSTILE)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "<img src=x" not in page
    assert "<b>run</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;" in page
    assert "&lt;b&gt;run&lt;/b&gt;" in page


def test_aborted_run_is_marked_everywhere(tmp_path: Path) -> None:
    meta = RunMeta(run_id="a", target="http://127.0.0.1:9", corpus="c.jsonl", corpus_sha256="x", users=1,
                   duration_s=1.0, started=1000.0, extra={"aborted": {"reason": "error ratio 0.6 > 0.5",
                                                                      "at": 1012.5}})
    summary, _ = analyze_and_write(run_dir(tmp_path, [rec(1, e2e=0.2)], meta))
    assert summary["run"]["aborted"] == {"reason": "error ratio 0.6 > 0.5", "at": 1012.5}
    assert summary["headlines"][0] == ("the run was ABORTED early (error ratio 0.6 > 0.5); every figure "
                                       "covers only what ran")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<li class=warn><b>run ABORTED early:</b> error ratio 0.6 &gt; 0.5 (at 1012.5)</li>" in page


def test_requests_csv_has_derived_values(tmp_path: Path) -> None:
    analyze_and_write(run_dir(tmp_path, [rec(1, stream=True, ttft=0.1, e2e=1.0, completion_tokens=10,
                                             itl=[0.1, 0.3])]))
    with (tmp_path / "requests.csv").open(newline="") as fh:
        row = next(csv.DictReader(fh))
    assert float(row["tpot"]) == pytest.approx(0.1)
    assert float(row["itl_mean"]) == pytest.approx(0.2)
    assert row["gaps"] == "2"
    assert row["scheduled"] == ""
    assert row["model"] == "gpt-4o"
