"""A secret given to a run in any way appears in no file the run writes, nor on its terminal.

A sentinel key is passed once per way a run learns a secret (--api-key, LLMSUITE_API_KEY,
OPENAI_API_KEY, an Authorization header, an engine template's credential field) and, every time,
repeated in an innocently named header (``X-Forwarded-Client``), which only a scrub by value can
catch. The target is a small loopback server written here: it answers every request, and every
third one with a 500 whose message echoes all the headers and the body it got (as a careless
target echoes a bad key), so error messages carry the key too. Then every byte under the run
folder, and stdout/stderr, is searched for the sentinel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from suite import api
from tests.integration.threaded import serving

REPO = Path(__file__).resolve().parents[2]
SENTINEL = "sk-SENTINEL-9f3c2a7e51"


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers anything: /health 200, /metrics 404, POST a chat completion (also carrying the
    engine's ``response`` field), or a 500 echoing every header and the body."""

    protocol_version = "HTTP/1.1"
    seen: list[str] = []  # every header value and body received (proves the secret was sent)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 — keep pytest output clean
        pass

    def _send(self, status: int, body: dict[str, object]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802 — http.server's name
        if self.path.rstrip("/").endswith("/health"):
            self._send(200, {"status": "ok"})
        else:
            self._send(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        values = [f"{k}: {v}" for k, v in self.headers.items()]
        type(self).seen.extend([*values, body])
        request_id = self.headers.get("X-Request-Id") or ""
        if request_id[-1:] in ("3", "6", "9"):
            self._send(500, {"error": {"message": f"bad request; got {values} and {body}",
                                       "type": "server_error"}})
            return
        text = "hello there, all good"
        self._send(200, {"id": f"cmpl-{request_id}", "object": "chat.completion", "model": "gpt-4o",
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": text}}],
                         "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                         "response": text})


@pytest.fixture
def echo_target() -> Iterator[str]:
    """The echo server on a port the OS chooses, stopped at teardown."""
    _EchoHandler.seen = []
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)) as url:
        yield url


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """12 non-streamed requests (the echo server answers plain JSON)."""
    made = api.synthesize("ops-assistant", tmp_path / "src.jsonl", n=12, seed=3,
                          overrides={"max_tokens": {"choices": [8]}}).corpus
    out = tmp_path / "corpus.jsonl"
    lines = [orjson.loads(line) for line in made.read_bytes().splitlines() if line.strip()]
    out.write_bytes(b"".join(orjson.dumps({**obj, "stream": False}) + b"\n" for obj in lines))
    return out


_INNOCENT = ["-H", f"X-Forwarded-Client: {SENTINEL}"]
_TEMPLATE = json.dumps({"message": "{message}", "session_id": "{session_id}", "stream": "{stream}",
                        "auth": {"api_key": SENTINEL}, "client": SENTINEL})
CASES = {
    "--api-key": ([*_INNOCENT, "--api-key", SENTINEL], {}),
    "LLMSUITE_API_KEY": (_INNOCENT, {"LLMSUITE_API_KEY": SENTINEL}),
    "OPENAI_API_KEY": (_INNOCENT, {"OPENAI_API_KEY": SENTINEL}),
    "Authorization header": ([*_INNOCENT, "-H", f"Authorization: Bearer {SENTINEL}"], {}),
    "engine template": ([*_INNOCENT, "--target-kind", "engine", "--engine-template", _TEMPLATE], {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_secret_passed_any_way_is_written_nowhere(case: str, tmp_path: Path, corpus: Path,
                                                     echo_target: str) -> None:
    args, extra_env = CASES[case]
    env = {k: v for k, v in os.environ.items()
           if k not in ("LLMSUITE_API_KEY", "OPENAI_API_KEY", "LLMSUITE_DEBUG")}
    out = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "suite.cli", "run", "-c", str(corpus), "-t", echo_target, "-u", "2",
         "-d", "20", "--out", str(out), "--run-id", "secret-run", "--monitor-interval", "0", *args],
        cwd=tmp_path, env={**env, **extra_env}, capture_output=True, text=True, timeout=120)
    run_dir = out / "secret-run"
    assert (run_dir / "run.json").is_file(), proc.stderr
    # the run really used the secret, and really recorded failures whose messages echoed it
    assert any(SENTINEL in value for value in _EchoHandler.seen)
    records = [orjson.loads(line) for line in (run_dir / "requests.jsonl").read_bytes().splitlines()]
    assert any(r["error"] and "[redacted]" in r["error"]["message"] for r in records)
    leaks = [str(p.relative_to(tmp_path)) for p in sorted(run_dir.rglob("*"))
             if p.is_file() and SENTINEL.encode() in p.read_bytes()]
    assert leaks == []
    assert SENTINEL not in proc.stdout
    assert SENTINEL not in proc.stderr
