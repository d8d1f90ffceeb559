"""Records keep the raw cache headers, run.json says which ones were looked at, and the analysis
names the signal: a real Locust run against the bundled mock (memory cache, ``X-Cache: HIT|MISS``)
recorded with ``--cache-detect none``, then re-attributed with ``auto`` without re-running."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from suite.analyze import analyze_run
from suite.cachesignal import allowlist, parse_rule, served_rule
from suite.driver import run_load
from suite.driver.control.requestopts import RequestOptions
from tests.integration.driver.test_targets import corpus, records

pytestmark = pytest.mark.integration


def test_a_run_recorded_without_a_rule_is_attributed_from_its_headers(
        tmp_path: Path, mock_server_factory: Callable[..., Any]) -> None:
    server = mock_server_factory(cache="memory")
    rows = corpus(tmp_path / "c.jsonl", 4, "gpt-4o")
    write_twice = rows + [{**r, "id": f"{r['id']}-again", "repeat_of": r["id"]} for r in rows]
    (tmp_path / "c.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in write_twice))
    result = run_load(tmp_path / "c.jsonl", server.url, tmp_path / "runs", users=1, spawn_rate=10,
                      duration_s=20, options={"request": RequestOptions(cache_detect="none")})
    assert result.complete
    recs = records(result.requests_path)
    assert len(recs) == 8 and all(r["cache"] is None for r in recs)
    # the mock's own headers: its verdict and the key of the entry it answered with (served key)
    assert all(set(r["cache_headers"]) == {"x-cache", "x-cache-key"} for r in recs)
    seen = {r["cache_headers"]["x-cache"] for r in recs}
    assert seen == {"HIT", "MISS"}

    meta = orjson.loads((result.requests_path.parent / "run.json").read_bytes())
    assert meta["extra"]["cache_headers"] == {
        "rule": "none", "allowlist": list(allowlist(parse_rule("none"), served_rule())),
        "served": {"key": "x-cache-key", "similarity": "x-cache-similarity"}}

    run_dir = result.requests_path.parent
    before = analyze_run(run_dir)["cache"]["detection"]
    assert before["signal_found"] is None and before["why"].startswith("cache detection was off")
    after = analyze_run(run_dir, cache_detect="auto")["cache"]
    hits = sum(r["cache_headers"]["x-cache"] == "HIT" for r in recs)
    assert after["detection"]["signal_found"] == "x-cache" and after["detection"]["reattributed"]
    assert after["detection"]["signals"] == {"x-cache": 8}
    assert after["hit_ratio"]["value"] == pytest.approx(hits / 8)
