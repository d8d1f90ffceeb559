"""Compare from run folders on disk (through the analyze stage's loader), its output files and the
``llmsuite compare`` command; no sockets."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from suite.cli import cli
from suite.compare import Boot, compare_runs, write_all
from suite.errors import EXIT_SLO_FAILED, SpecError
from suite.records import file_sha256, write_jsonl
from suite.sweep.model_override import write_model_copy
from tests.unit.sweep.test_model_override import corpus_request

BOOT = Boot(n_boot=200)


EVIL = "<script>alert(1)</script>"


def record(i: int, model: str, e2e: float, ttft: float, cache: str | None = None, ok: bool = True) -> dict:
    return {"id": f"r{i:03d}", "model": model, "target": "http://127.0.0.1:1", "worker": "w", "user": 1,
            "t_start": 1000.0 + i * 0.1, "ttft": ttft, "e2e": e2e, "itl": [0.01, 0.012, 0.011],
            "prompt_tokens": 20, "completion_tokens": 4, "tokens_source": "usage", "status": 200, "ok": ok,
            "error": None, "cache": cache, "stream": True, "repeat": False}


def write_run(folder: Path, records: list[dict], sha: str = "f00d", corpus: str = "corpus.jsonl") -> Path:
    write_jsonl(folder / "requests.jsonl", records)
    meta = {"run_id": folder.name, "target": "http://127.0.0.1:1", "corpus": corpus, "corpus_sha256": sha,
            "users": 4, "duration_s": 10.0, "started": 1000.0}
    (folder / "run.json").write_bytes(orjson.dumps(meta))
    return folder


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = write_run(tmp_path / "slow", [record(i, "gpt-4o", 1.0 + i / 100, 0.5 + i / 200) for i in range(60)])
    b = write_run(tmp_path / "fast", [record(i, "gpt-4o", 0.5 + i / 200, 0.2 + i / 400) for i in range(60)])
    return a, b


def test_compare_run_folders_pairs_by_id_and_writes_every_file(tmp_path: Path, two_runs) -> None:
    result = compare_runs([two_runs[0], two_runs[1] / "run.json"], boot=BOOT)
    cmp = result["comparisons"][0]
    assert (cmp["a"], cmp["b"]) == ("slow", "fast")
    assert cmp["paired"]["paired"] is True
    assert cmp["paired"]["matched"] == 60
    files = write_all(tmp_path / "out", result)
    assert [f.name for f in files] == ["compare.json", "compare.csv", "compare_ab.png",
                                       "compare_throughput.png", "compare.html"]
    saved = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert saved["schema"] == "llmsuite.compare/1"
    with (tmp_path / "out" / "compare.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    e2e = next(r for r in rows if r["kind"] == "unpaired" and r["metric"] == "e2e" and r["stat"] == "p50")
    assert float(e2e["ratio"]) == pytest.approx(0.5, rel=0.01)
    assert e2e["significant"] == "True"
    hit = next(r for r in rows if r["metric"] == "hit_ratio")
    assert hit["value_a"] == ""
    assert "cache signal" in hit["why"]  # missing is empty, never 0


def test_html_escapes_labels_and_reasons(tmp_path: Path, two_runs) -> None:
    result = compare_runs(list(two_runs), labels=[EVIL, "fast"], boot=BOOT)
    page = write_all(tmp_path / "o", result)[-1].read_text()
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_labels_must_match_the_runs(two_runs) -> None:
    with pytest.raises(SpecError, match="--labels: 1 label"):
        compare_runs(list(two_runs), labels=["one"])


def test_cli_compare_exit_codes(tmp_path: Path, two_runs) -> None:
    runner = CliRunner()
    args = ["compare", *map(str, two_runs), "-o", str(tmp_path / "c"), "--n-boot", "100"]
    ok = runner.invoke(cli, args)
    assert ok.exit_code == 0, ok.output
    assert "fast completes requests" in ok.output
    failing = runner.invoke(cli, [*args, "--slo", "high-frequency"])  # p95 E2E ≥ 0.5 s in both runs
    assert failing.exit_code == EXIT_SLO_FAILED
    assert "SLO high-frequency: FAIL" in failing.output
    single = runner.invoke(cli, ["compare", str(two_runs[0])])
    assert single.exit_code == 2
    assert "compare needs at least two runs; got 1" in single.output


def test_model_copies_pair_with_each_other(tmp_path: Path) -> None:
    src = tmp_path / "c.jsonl"
    write_jsonl(src, [corpus_request(i, "gpt-4o", f"p{i}").to_dict() for i in range(30)])
    dirs = []
    for model, scale in (("gpt-4o", 1.0), ("gpt-5-mini", 2.0)):
        copy, _ = write_model_copy(src, model, tmp_path / model / "corpus.jsonl")
        recs = [dict(record(i, model, scale * (1 + i / 50), scale * 0.3), id=f"q{i}") for i in range(30)]
        dirs.append(write_run(tmp_path / model, recs, sha=file_sha256(copy), corpus=str(copy)))
    result = compare_runs(dirs, boot=BOOT)
    assert [r["label"] for r in result["runs"]] == ["gpt-4o", "gpt-5-mini"]
    assert [r["model_override"] for r in result["runs"]] == ["gpt-4o", "gpt-5-mini"]
    paired = result["comparisons"][0]["paired"]
    assert paired["paired"] is True
    assert paired["groups"][0]["group"] == "gpt-4o → gpt-5-mini"


def test_csv_neutralises_formula_labels_and_keeps_negative_deltas(tmp_path: Path, two_runs) -> None:
    formula = '=HYPERLINK("http://evil.example","x")'
    result = compare_runs(list(two_runs), labels=[formula, "fast"], boot=BOOT)
    write_all(tmp_path / "o", result)
    with (tmp_path / "o" / "compare.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["a"] for r in rows} == {"'" + formula}
    assert not any(cell.startswith(("=", "@", "+")) for r in rows for cell in r.values())
    e2e = next(r for r in rows if r["kind"] == "unpaired" and r["metric"] == "e2e" and r["stat"] == "p50")
    assert float(e2e["delta"]) < 0  # B is faster: a negative number, left a number


def test_cli_compare_on_misses_states_the_population_and_the_method(tmp_path: Path) -> None:
    def cache(i: int, every: int) -> str:
        return "hit" if i % every == 0 else "miss"

    a = write_run(tmp_path / "a", [record(i, "gpt-4o", 1.0 + i / 100, 0.5, cache(i, 3)) for i in range(60)])
    b = write_run(tmp_path / "b", [record(i, "gpt-4o", 0.5 + i / 200, 0.2, cache(i, 4)) for i in range(60)])
    out = tmp_path / "c"
    got = CliRunner().invoke(cli, ["compare", str(a), str(b), "-o", str(out), "--population", "miss",
                                   "--primary", "e2e.p95"])
    assert got.exit_code == 0, got.output
    assert "• on cache misses: b completes requests" in got.output
    assert "population miss: a 40/60 (signalled-miss), b 45/60 (signalled-miss)" in got.output
    saved = json.loads((out / "compare.json").read_text())
    assert saved["tests"]["primary"] == "e2e.p95"
    assert saved["population"]["population"] == "miss"
    page = (out / "compare.html").read_text()
    assert "primary metric E2E p95 of cache misses, tested at 95%; 13 other metrics Holm-corrected" in page
    assert "<summary>Population: miss</summary>" in page
    with (out / "compare.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    primary = next(r for r in rows if r["kind"] == "unpaired" and r["metric"] == "e2e" and r["stat"] == "p95")
    assert float(primary["p"]) < 0.05 and primary["p_holm"] == ""
    bad = CliRunner().invoke(cli, ["compare", str(a), str(b), "--primary", "e2e"])
    assert bad.exit_code == 2 and "--primary 'e2e': use METRIC.STAT" in bad.output
