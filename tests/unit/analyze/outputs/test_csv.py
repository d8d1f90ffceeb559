"""per_model.csv and requests.csv: OWASP's CSV-injection rule on string cells, numbers untouched."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson

from suite.analyze.pipeline import analyze_and_write
from suite.records import write_jsonl

EVIL = '=HYPERLINK("http://evil.example","x")'


def record(i: int, model: str) -> dict:
    return {"id": f"r{i:03d}", "model": model, "target": "http://127.0.0.1:1", "worker": "@w", "user": 1,
            "t_start": 1000.0 + i * 0.1, "ttft": 0.1, "e2e": 0.5, "itl": [0.01, 0.012], "prompt_tokens": 20,
            "completion_tokens": 3, "tokens_source": "usage", "status": 200, "ok": True, "error": None,
            "cache": None, "stream": True, "repeat": False}


def test_formula_cells_are_neutralised_and_numbers_kept(tmp_path: Path) -> None:
    run = tmp_path / "run"
    write_jsonl(run / "requests.jsonl", [record(i, EVIL if i % 2 else "gpt-4o") for i in range(6)])
    (run / "run.json").write_bytes(orjson.dumps({
        "run_id": "run", "target": "http://127.0.0.1:1", "corpus": "c.jsonl", "corpus_sha256": "0",
        "users": 1, "duration_s": 1.0, "started": 1000.0}))
    analyze_and_write(run)
    with (run / "requests.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["model"] for r in rows} == {"'" + EVIL, "gpt-4o"}
    assert {r["worker"] for r in rows} == {"'@w"}
    assert {r["e2e"] for r in rows} == {"0.5"}
    with (run / "per_model.csv").open(newline="", encoding="utf-8") as fh:
        models = {r["model"]: r for r in csv.DictReader(fh)}
    assert "'" + EVIL in models and EVIL not in models and "gpt-4o" in models
    assert float(models["gpt-4o"]["e2e_p50_s"]) == 0.5
