"""compare.html on the shared skeleton: answers first (every headline metric), folds for the
tables, folder names (never paths) outside the metadata fold, no false model-in-common note on a
swap, truncation in the banner. From run folders on disk; no sockets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

from suite.compare import Boot, compare_runs, write_all
from suite.compare.summarize.build import compare_samples
from suite.records import file_sha256, write_jsonl
from suite.sweep.model_override import write_model_copy
from tests.unit.compare.fakes import samples
from tests.unit.compare.outputs.test_files import BOOT, record, write_run
from tests.unit.sweep.test_model_override import corpus_request


def swap_runs(tmp_path: Path) -> list[Path]:
    """Two model-override copies of one corpus, each replayed by its own run (as ``llmsuite swap``)."""
    src = tmp_path / "c.jsonl"
    write_jsonl(src, [corpus_request(i, "gpt-4o", f"p{i}").to_dict() for i in range(30)])
    dirs = []
    for model, scale in (("gpt-4o", 1.0), ("gpt-5-mini", 2.0)):
        copy, _ = write_model_copy(src, model, tmp_path / model / "corpus.jsonl")
        recs = [dict(record(i, model, scale * (1 + i / 50), scale * 0.3), id=f"q{i}") for i in range(30)]
        dirs.append(write_run(tmp_path / model, recs, sha=file_sha256(copy), corpus=str(copy)))
    return dirs


def test_a_model_swap_has_no_model_in_common_note(tmp_path: Path) -> None:
    result = compare_runs(swap_runs(tmp_path), boot=BOOT)
    assert "note" not in result["comparisons"][0]
    page = write_all(tmp_path / "out", result)[-1].read_text()
    assert "no model in common" not in page
    assert "model-override copies" in page  # the banner says what the runs replayed


def test_other_corpora_with_other_models_keep_the_note() -> None:
    a = samples("A", np.full(20, 1.0), sha="aaa")
    b = samples("B", np.full(20, 2.0), sha="bbb", model="gpt-5-mini")
    assert compare_samples([a, b], BOOT)["comparisons"][0]["note"].startswith("no model in common")


def test_headlines_cover_e2e_ttft_throughput_errors_and_hits() -> None:
    rng = np.random.default_rng(3)
    ok_b = np.ones(200, dtype=bool)
    ok_b[:30] = False
    a = samples("gpt-4o", 1.0 + rng.random(200) / 10, hit=(np.arange(200) % 3 == 0), tokens=20.0)
    b = samples("gpt-5-mini", 2.0 + rng.random(200) / 10, model="gpt-5-mini", ok=ok_b,
                hit=(np.arange(200) % 4 == 0), tokens=10.0)
    heads = compare_samples([a, b], Boot(n_boot=999))["comparisons"][0]["headlines"]
    text = "\n".join(heads)
    assert "gpt-4o completes requests" in heads[0]  # the primary metric (E2E p50) first
    assert "gpt-4o reaches the first token" in text
    # 200 × 20 tokens vs 170 successful × 10 tokens over the same 10 s window
    assert "gpt-4o generates 2.4× the output tokens/s of gpt-5-mini (400.0 vs 170.0;" in text
    assert "no CI, not tested" in text  # a run-level figure is never called significant
    assert "error ratio 15.0 % in gpt-5-mini vs 0.0 % in gpt-4o (significant after correction)" in text
    assert "cache hit ratio" in text and "after correction)" in text.split("cache hit ratio")[1]


def truncated_run(folder: Path, recs: list[dict]) -> Path:
    """A run that sent 60 of its corpus's 80 requests before its 10 s duration ran out."""
    write_run(folder, recs)
    meta = orjson.loads((folder / "run.json").read_bytes())
    meta.update(requests_in_corpus=80, ended=1010.0, extra={"sent": 60})
    (folder / "run.json").write_bytes(orjson.dumps(meta))
    return folder


def test_page_answers_first_then_folds_with_folder_names_only(tmp_path: Path) -> None:
    a = write_run(tmp_path / "slow", [record(i, "gpt-4o", 1.0 + i / 100, 0.5) for i in range(60)])
    b = truncated_run(tmp_path / "fast", [record(i, "gpt-4o", 0.5 + i / 200, 0.2) for i in range(60)])
    page = write_all(tmp_path / "out", compare_runs([a, b], boot=BOOT))[-1].read_text()
    assert "<h1>Comparison: slow vs fast</h1>" in page  # baseline first, as every section
    assert "<summary>slow vs fast: every metric" in page
    assert page.index('class="answers"') < page.index("<figure") < page.index("<details")
    assert page.count("<figure") == 2  # latency, throughput
    assert "fast coverage:</b> stopped by the duration limit (10 s) after 60 of 80 corpus requests (20 not " \
           "sent)" in page
    before_metadata = page.split("<summary>Run metadata")[0]
    assert str(tmp_path) not in before_metadata
    assert "<td>slow</td>" in before_metadata  # the folder's name in the runs table
    assert str(tmp_path / "slow") in page  # the full path, in the metadata fold


def test_a_swap_model_measured_in_segments_is_complete_unless_the_swap_warns() -> None:
    from suite.compare.outputs.provenance import coverage_text

    run = {"label": "gpt-4o", "coverage": None}
    assert coverage_text(run, {"warnings": []}) == "whole corpus sent"
    cut = {"warnings": ["gpt-4o: 60 of the corpus's 80 requests were sent — --duration 10 s ended …"]}
    assert coverage_text(run, cut) == "cut short: see the warnings above"
    assert coverage_text({"label": "x"}, cut) == "—"  # a compare.json written before coverage existed
