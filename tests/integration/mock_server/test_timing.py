"""``--timing-log``: the server's own stamps, one JSONL line per answered request, flushed on
SIGTERM. Timing bounds are loose (a loaded CI machine): the stamps must be at least the plan and
not absurdly later; exact fidelity is the benchmark's job (bench/bench_mock_timing.py)."""

from __future__ import annotations

from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest
import yaml

from tests.integration.conftest import MockServer, launch_mock_server

pytestmark = pytest.mark.integration
PACED = {"ttft_base_s": 0.1, "ttft_jitter_s": 0.0, "tokens_per_s": 50.0,
         "output_tokens": {"median": 5, "spread": 0.0}, "encoding": "o200k_base"}
KEYS = ["request_id", "model", "cache", "t_recv", "ttft_s", "e2e_s", "ttft_target_s", "itl_s",
        "completion_tokens", "key", "served_key", "match", "similarity"]
SLACK_S = 0.5  # upper bound only; a shared CI core can be late, never early by more than 2 ms


def post(server: MockServer, body: object, headers: dict[str, str]) -> int:
    parts = urlsplit(server.url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        conn.request("POST", "/v1/chat/completions", body=orjson.dumps(body),
                     headers={"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_timing_log_lines_from_the_server_stamps(tmp_path: Path) -> None:
    profiles = tmp_path / "models.yaml"
    profiles.write_text(yaml.safe_dump({"models": {"paced": PACED}}))
    log = tmp_path / "timing.jsonl"
    server = launch_mock_server(tmp_path, profiles=profiles, extra_args=["--timing-log", str(log)])
    msg = [{"role": "user", "content": "time me"}]
    try:
        statuses = [
            post(server, {"model": "paced", "messages": msg, "stream": True}, {"X-Request-Id": "s1"}),
            post(server, {"model": "paced", "messages": msg}, {"X-Request-Id": "p1"}),  # HIT
            post(server, {"model": "paced", "messages": [{"role": "user", "content": "other"}]}, {}),
            post(server, {"model": "nope", "messages": msg}, {"X-Request-Id": "bad"}),
            post(server, {"model": "paced", "messages": msg}, {"X-Mock-Fault": "503"}),
        ]
    finally:
        assert server.stop() == 0  # SIGTERM flushes the buffered lines
    assert statuses == [200, 200, 200, 404, 503]
    lines = [orjson.loads(x) for x in log.read_bytes().splitlines()]
    assert [list(r) for r in lines] == [KEYS] * 3  # only answered requests, exactly these keys
    streamed, hit, plain = lines
    assert (streamed["request_id"], hit["request_id"], plain["request_id"]) == ("s1", "p1", None)
    assert (streamed["cache"], hit["cache"], plain["cache"]) == ("miss", "hit", "miss")
    assert streamed["model"] == "paced"
    assert streamed["completion_tokens"] == 5
    assert streamed["ttft_target_s"] == pytest.approx(0.1, abs=1e-3)
    assert 0.098 <= streamed["ttft_s"] <= 0.1 + SLACK_S
    assert len(streamed["itl_s"]) == 4
    assert all(0.0 <= g <= 0.02 + SLACK_S for g in streamed["itl_s"])
    # absolute deadlines: no chunk before its time from the request's start (a first chunk sent a
    # few ms late, as on a loaded machine, shortens the next gap instead of delaying them all)
    assert streamed["ttft_s"] + sum(streamed["itl_s"]) >= 0.1 + 4 * 0.02 - 0.002
    assert streamed["e2e_s"] >= streamed["ttft_s"] + sum(streamed["itl_s"])
    assert (hit["ttft_s"], hit["itl_s"], hit["ttft_target_s"]) == (None, [], 0.0)
    assert hit["e2e_s"] < SLACK_S
    assert plain["e2e_s"] >= 0.1 + 4 * 0.02 - 0.002
    assert streamed["t_recv"] < hit["t_recv"] < plain["t_recv"]


def test_workers_share_one_timing_log(tmp_path: Path) -> None:
    """Each worker appends whole batches to the same file; every line is flushed on SIGTERM."""
    profiles = tmp_path / "models.yaml"
    profiles.write_text(yaml.safe_dump({"models": {"paced": {**PACED, "ttft_base_s": 0.0}}}))
    log = tmp_path / "timing.jsonl"
    server = launch_mock_server(tmp_path, profiles=profiles, cache="none",
                                extra_args=["--timing-log", str(log), "--workers", "2"])
    try:
        for i in range(12):
            assert post(server, {"model": "paced", "messages": [{"role": "user", "content": str(i)}],
                                 "stream": True}, {"X-Request-Id": f"w{i}"}) == 200
    finally:
        assert server.stop() == 0
    lines = [orjson.loads(x) for x in log.read_bytes().splitlines()]
    assert sorted(r["request_id"] for r in lines) == sorted(f"w{i}" for i in range(12))
    assert all(r["cache"] == "miss" and len(r["itl_s"]) == 4 for r in lines)
