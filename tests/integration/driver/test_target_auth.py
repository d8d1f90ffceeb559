"""Health checks and the /metrics monitor send the run's credentials (issue 14).

The target is a small loopback server written here, independent of the bundled mock, guarded the
way a gateway is: without the key ``/ready`` (the health path) answers 500 — as a gateway whose
health check calls its backend does —, ``/metrics`` answers 401 and a chat completion 401. A run
that forgot the key in its periodic health checks would abort a healthy run; a monitor that forgot
it would record nothing. The key lives in an environment variable named with ``--api-key-env``,
and no file of the run holds it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from suite import api
from tests.integration.threaded import serving

KEY = "gw-SENTINEL-4b1d7c"
METRICS = b"# TYPE gw_requests_total counter\ngw_requests_total 7\n"


class _Guarded(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: list[tuple[str, str, bool]] = []  # (method, path, carried the key)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 — keep pytest output clean
        pass

    def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _keyed(self) -> bool:
        keyed = self.headers.get("Authorization") == f"Bearer {KEY}"
        type(self).hits.append((self.command, self.path, keyed))
        return keyed

    def do_GET(self) -> None:  # noqa: N802 — http.server's name
        keyed = self._keyed()
        if self.path == "/ready":
            self._answer(200 if keyed else 500, b'{"status": "ok"}' if keyed else b'{"error": "no key"}')
        elif self.path == "/metrics":
            if keyed:
                self._answer(200, METRICS, "text/plain; version=0.0.4")
            else:
                self._answer(401, b'{"error": {"message": "Unauthorized"}}')
        else:
            self._answer(404, b'{"error": {"message": "not found"}}')

    do_HEAD = do_GET  # noqa: N815

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self._keyed():
            self._answer(401, b'{"error": {"message": "Invalid API key"}}')
            return
        time.sleep(0.3)  # long enough for the periodic health checks to run during the load
        text = "all good"
        body = {"id": "cmpl-1", "object": "chat.completion", "model": "gpt-4o",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}
        self._answer(200, json.dumps(body).encode())


@pytest.fixture
def guarded() -> Iterator[str]:
    _Guarded.hits = []
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Guarded)) as url:
        yield url


def test_health_and_monitor_carry_the_key(guarded: str, tmp_path: Path) -> None:
    from suite.driver.control.health import check_target, probe
    from suite.monitor import monitor_target

    auth = {"Authorization": f"Bearer {KEY}"}
    assert probe(guarded + "/ready", 5.0) == 500
    assert probe(guarded + "/ready", 5.0, "HEAD", auth) == 200
    assert check_target(guarded, health_path="/ready", headers=auth) == 200
    with monitor_target(guarded, None, tmp_path / "none.jsonl") as refused:
        pass
    assert refused.monitor is None
    assert "the target's /metrics refused the run's credentials" in refused.note
    with monitor_target(guarded, 0.1, tmp_path / "m.jsonl", headers=auth) as monitoring:
        time.sleep(0.3)
    lines = [orjson.loads(x) for x in (tmp_path / "m.jsonl").read_bytes().splitlines()]
    assert lines and all(line["ok"] for line in lines)
    assert lines[0]["values"] == {"gw_requests_total": 7.0}
    assert monitoring.monitor is not None


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """12 non-streamed requests (the server answers plain JSON)."""
    made = api.synthesize("ops-assistant", tmp_path / "src.jsonl", n=12, seed=3,
                          overrides={"max_tokens": {"choices": [8]}}).corpus
    out = tmp_path / "corpus.jsonl"
    lines = [orjson.loads(line) for line in made.read_bytes().splitlines() if line.strip()]
    out.write_bytes(b"".join(orjson.dumps({**obj, "stream": False}) + b"\n" for obj in lines))
    return out


def test_a_guarded_target_is_checked_and_monitored_with_the_run_key(guarded: str, tmp_path: Path,
                                                                   corpus: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LLMSUITE_API_KEY", "OPENAI_API_KEY", "LLMSUITE_DEBUG")}
    out = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "suite.cli", "run", "-c", str(corpus), "-t", f"{guarded}/v1", "-u", "2",
         "-d", "30", "--out", str(out), "--run-id", "guarded", "--api-key-env", "GW_KEY",
         "--health-path", "/ready", "--abort-health-failures", "1", "--health-interval", "200ms",
         "--monitor-interval", "0.2"],
        cwd=tmp_path, env={**env, "GW_KEY": KEY}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ends in /v1" in proc.stderr  # the SDK-style base URL was stripped, with a notice
    run_dir = out / "guarded"
    meta = orjson.loads((run_dir / "run.json").read_bytes())
    assert "aborted" not in meta["extra"]
    assert meta["extra"]["target"]["health_path"] == "/ready"
    assert meta["extra"]["target"]["api_key"] == "<redacted>"
    assert meta["extra"]["target"]["url"] == guarded
    ready = [keyed for method, path, keyed in _Guarded.hits if path == "/ready"]
    assert len(ready) >= 2 and all(ready)  # the pre-flight check and the periodic ones, all keyed
    assert all(keyed for _, path, keyed in _Guarded.hits if path == "/metrics")
    scrapes = [orjson.loads(x) for x in (run_dir / "target_metrics.jsonl").read_bytes().splitlines()]
    assert scrapes and all(s["ok"] for s in scrapes)
    leaks = [p.name for p in sorted(run_dir.rglob("*")) if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaks == []
    assert KEY not in proc.stdout + proc.stderr


def test_an_unset_key_variable_is_one_clear_line(guarded: str, tmp_path: Path, corpus: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GW_KEY"}
    proc = subprocess.run(
        [sys.executable, "-m", "suite.cli", "run", "-c", str(corpus), "-t", guarded, "--api-key-env",
         "GW_KEY", "--out", str(tmp_path / "reports")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--api-key-env GW_KEY: the environment variable GW_KEY is not set" in proc.stderr
    assert _Guarded.hits == []  # nothing was sent
