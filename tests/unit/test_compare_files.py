"""Compare from run folders on disk (through the analyze stage's loader), its output files, the
model-override corpus copy and the ``llmsuite compare`` command; no sockets."""

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
from suite.model_override import override_model, slug, write_model_copy
from suite.records import CorpusRequest, file_sha256, request_key, write_jsonl

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
    assert cmp["paired"]["paired"] is True and cmp["paired"]["matched"] == 60
    files = write_all(tmp_path / "out", result)
    assert [f.name for f in files] == ["compare.json", "compare.csv", "compare_ab.png", "compare.html"]
    saved = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert saved["schema"] == "llmsuite.compare/1"
    with (tmp_path / "out" / "compare.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    e2e = next(r for r in rows if r["kind"] == "unpaired" and r["metric"] == "e2e" and r["stat"] == "p50")
    assert float(e2e["ratio"]) == pytest.approx(0.5, rel=0.01) and e2e["significant"] == "True"
    hit = next(r for r in rows if r["metric"] == "hit_ratio")
    assert hit["value_a"] == "" and "cache signal" in hit["why"]  # missing is empty, never 0


def test_html_escapes_labels_and_reasons(tmp_path: Path, two_runs) -> None:
    result = compare_runs(list(two_runs), labels=[EVIL, "fast"], boot=BOOT)
    page = write_all(tmp_path / "o", result)[-1].read_text()
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_labels_must_match_the_runs(two_runs) -> None:
    with pytest.raises(SpecError, match="--labels: 1 label"):
        compare_runs(list(two_runs), labels=["one"])


def test_cli_compare_exit_codes(tmp_path: Path, two_runs) -> None:
    runner = CliRunner()
    args = ["compare", *map(str, two_runs), "-o", str(tmp_path / "c"), "--n-boot", "100"]
    ok = runner.invoke(cli, args)
    assert ok.exit_code == 0, ok.output
    assert "fast reaches the first token" in ok.output
    failing = runner.invoke(cli, [*args, "--slo", "high-frequency"])  # p95 E2E ≥ 0.5 s in both runs
    assert failing.exit_code == EXIT_SLO_FAILED
    assert "SLO high-frequency: FAIL" in failing.output
    single = runner.invoke(cli, ["compare", str(two_runs[0])])
    assert single.exit_code == 2 and "compare needs at least two runs; got 1" in single.output


def corpus_request(i: int, model: str, text: str) -> CorpusRequest:
    messages = [{"role": "user", "content": text}]
    return CorpusRequest(id=f"q{i}", t=None, session=f"s{i}", turn=1, model=model, messages=messages,
                         max_tokens=16, temperature=0.0, stream=True, prompt_tokens=9, domain="d", intent="i",
                         key=request_key(model, messages, 16, 0.0))


def test_override_recomputes_keys_and_repeats() -> None:
    # same prompt for two models: distinct requests before, an exact repeat once both ask one model
    reqs = [corpus_request(0, "gpt-4o", "hello"), corpus_request(1, "gpt-4.1", "hello")]
    out, recounted = override_model(reqs, "gpt-5-mini")
    assert [r.id for r in out] == ["q0", "q1"] and {r.model for r in out} == {"gpt-5-mini"}
    assert out[0].key == out[1].key == request_key("gpt-5-mini", reqs[0].messages, 16, 0.0)
    assert (out[0].repeat_of, out[1].repeat_of) == (None, "q0")
    assert recounted is False  # every model here uses o200k_base


def test_model_copy_manifest_names_its_source(tmp_path: Path) -> None:
    src = tmp_path / "c.jsonl"
    write_jsonl(src, [corpus_request(i, "gpt-4o", f"prompt {i % 3}").to_dict() for i in range(6)])
    copy, manifest = write_model_copy(src, "gpt-5-mini", tmp_path / "m" / "c.jsonl")
    assert manifest["derived_from"] == {"corpus": str(src), "corpus_sha256": file_sha256(src),
                                        "model_override": "gpt-5-mini", "prompt_tokens_recounted": False}
    assert manifest["corpus_sha256"] == file_sha256(copy)
    assert manifest["theoretical_hit_ratio"] == 0.5
    again, m2 = write_model_copy(copy, "gpt-4o", tmp_path / "n" / "c.jsonl")  # a copy of a copy
    assert m2["derived_from"]["corpus_sha256"] == file_sha256(src)


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
    assert paired["paired"] is True and paired["groups"][0]["group"] == "gpt-4o → gpt-5-mini"


@pytest.mark.parametrize("model, expected", [("gpt-4o", "gpt-4o"), ("meta/llama:3", "meta-llama-3")])
def test_slug(model: str, expected: str) -> None:
    assert slug(model) == expected
