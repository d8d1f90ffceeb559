"""Hand-made request logs for analyze tests: records with known answers, written as a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from suite.analyze import analyze_run
from suite.records import RequestRecord, RunMeta, write_jsonl


def rec(i: int, **fields: Any) -> dict[str, Any]:
    """One request-log record: a successful non-streaming gpt-4o request unless told otherwise."""
    base = {"id": f"r{i:06d}", "model": "gpt-4o", "target": "http://127.0.0.1:9", "worker": "w0",
            "user": i % 3, "t_start": 1000.0 + i, "ok": True, "status": 200}
    base.update(fields)
    return RequestRecord(**base).to_dict()


def run_dir(tmp_path: Path, records: list[dict[str, Any]], meta: RunMeta | None = None) -> Path:
    write_jsonl(tmp_path / "requests.jsonl", records)
    if meta is not None:
        (tmp_path / "run.json").write_bytes(orjson.dumps(meta.to_dict()))
    return tmp_path


def analyze(tmp_path: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    return analyze_run(run_dir(tmp_path, records))


def cache_log() -> list[dict[str, Any]]:
    """4 hits at 10 ms, 6 misses at 300 ms (TTFT 5 ms vs 200 ms), 2 requests without a signal."""
    hits = [rec(i, cache="hit", repeat=True, stream=True, ttft=0.005, e2e=0.01) for i in range(4)]
    misses = [rec(i, cache="miss", repeat=i == 4, stream=True, ttft=0.2, e2e=0.3) for i in range(4, 10)]
    return hits + misses + [rec(10, e2e=0.3, repeat=False), rec(11, e2e=0.3, repeat=False)]
