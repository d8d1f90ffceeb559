"""Fresh traffic against a caching target (suite.sweep.fresh, rows.excess_hits): the probe of a
never-seen request, and the loud warnings when a target serves hits it cannot have earned.

The target is a tiny independent caching server written here (http.server in a thread, on a
loopback port the OS chooses): it answers OpenAI chat completions (JSON or SSE), signals hits with
``X-Cache: HIT`` / ``MISS``, stores an answer when it completes and never forgets within a test.
``strip_salt`` makes it key on the prompt with any ``[llmsuite salt …]`` line removed: a cache
that ignores the salt (what a semantic cache does with a short tag)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from suite.driver.control.target import Target
from suite.sweep.fresh import start_fresh
from suite.sweep.run import StepPlan, SweepUI, sweep_cache
from tests.integration.threaded import serving as serving_thread

KEY = "test-key-fresh"
_SALT_LINE = re.compile(r"\[llmsuite salt [^\]]*\]\n")


class CachingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, strip_salt: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.strip_salt = strip_salt
        self.cache: set[str] = set()
        self.lock = threading.Lock()
        self.auth: list[str | None] = []
        self.verdicts: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def key(self, body: dict[str, Any]) -> str:
        messages = body.get("messages", [])
        if self.strip_salt:
            messages = [{**m, "content": _SALT_LINE.sub("", m.get("content", ""))} for m in messages]
        canonical = json.dumps([body.get("model"), messages, body.get("max_tokens")], sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


class Handler(BaseHTTPRequestHandler):
    server: CachingServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._send(200, b'{"status": "ok"}', {"Content-Type": "application/json"})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.loads(raw)
        self.server.auth.append(self.headers.get("Authorization"))
        key = self.server.key(body)
        with self.server.lock:
            hit = key in self.server.cache
            self.server.verdicts.append("hit" if hit else "miss")
        headers = {"X-Cache": "HIT" if hit else "MISS"}
        usage = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
        if body.get("stream"):
            chunks = [{"id": "c", "choices": [{"index": 0, "delta": {"content": w}}]}
                      for w in ("ok", " fine")]
            chunks.append({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                           "usage": usage})
            events = [json.dumps(c) for c in chunks] + ["[DONE]"]
            data = b"".join(f"data: {e}\n\n".encode() for e in events)
            self._send(200, data, {**headers, "Content-Type": "text/event-stream"})
        else:
            answer = {"id": "c", "object": "chat.completion", "model": body.get("model"), "usage": usage,
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok fine"},
                                   "finish_reason": "stop"}]}
            self._send(200, json.dumps(answer).encode(), {**headers, "Content-Type": "application/json"})
        with self.server.lock:  # stored once answered: no coalescing of concurrent copies
            self.server.cache.add(key)

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def serving(strip_salt: bool = False) -> Iterator[CachingServer]:
    server = CachingServer(strip_salt)
    with serving_thread(server):
        yield server


@pytest.fixture
def exact() -> Iterator[CachingServer]:
    yield from serving()


@pytest.fixture
def salt_blind() -> Iterator[CachingServer]:
    yield from serving(strip_salt=True)


class Notes(SweepUI):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)


def plan_for(server: CachingServer, out: Path, salt: str | None = None) -> StepPlan:
    return StepPlan(out=out, target=Target(server.url, api_key=KEY), n=24, users=2, duration_s=30,
                    models={"gpt-4o": 1.0}, max_tokens=(8,), salt=salt)


def test_the_probe_of_a_fresh_request_is_a_miss(exact: CachingServer, tmp_path: Path) -> None:
    ui = Notes()
    plan, extra = start_fresh(plan_for(exact, tmp_path), ui)
    probe = extra["fresh_probe"]
    assert probe["cache"] == "miss" and probe["status"] == 200
    assert probe["cache_headers"] == {"x-cache": "MISS"}
    assert extra["warnings"] == [] and ui.notes == []
    assert exact.auth == [f"Bearer {KEY}"]  # sent with the run's credentials
    assert plan.salt == extra["salt"]["value"] and extra["salt"]["source"] == "new for this invocation"
    assert KEY not in json.dumps(extra)
    # a second invocation has a new salt, so its probe is fresh too
    _, again = start_fresh(plan_for(exact, tmp_path), ui)
    assert again["fresh_probe"]["cache"] == "miss" and again["salt"]["value"] != plan.salt


def test_a_target_that_ignores_the_salt_is_warned_loudly(salt_blind: CachingServer, tmp_path: Path) -> None:
    start_fresh(plan_for(salt_blind, tmp_path), Notes())  # the first invocation: a miss, stored
    ui = Notes()
    _, extra = start_fresh(plan_for(salt_blind, tmp_path), ui)  # a new salt, the same prompt underneath
    assert extra["fresh_probe"]["cache"] == "hit"
    assert len(extra["warnings"]) == 1 and "never-seen" in extra["warnings"][0]
    assert ui.notes and ui.notes[0].startswith("WARNING:")


def test_a_step_zero_full_of_hits_is_warned(exact: CachingServer, tmp_path: Path) -> None:
    """The same salt again (``--salt S``) inside the cache's memory: step 0's corpus, whose own
    theoretical hit ratio is 0, comes back all hits — the sweep must say so, not report a curve."""
    first = sweep_cache(plan_for(exact, tmp_path / "first"), [0.0], Notes())
    salt = first["salt"]["value"]
    step = first["steps"][0]
    assert step["theoretical_hit_ratio"] == 0.0 and step["hit_ratio"]["value"] == 0.0
    assert first["warnings"] == [] and first["fresh_probe"]["cache"] == "miss"
    assert salt in first["seeds"]
    ui = Notes()
    again = sweep_cache(plan_for(exact, tmp_path / "again", salt=salt), [0.0], ui)
    assert again["salt"] == {**first["salt"], "source": "given with --salt"}
    assert again["steps"][0]["hit_ratio"]["value"] == 1.0
    assert len(again["warnings"]) == 1 and again["warnings"][0].startswith("the baseline step (ratio 0)")
    assert any(n.startswith("WARNING: the baseline step") for n in ui.notes)
    lines = (tmp_path / "again" / "ratio-0" / "corpus.jsonl").read_text().splitlines()
    sent = [json.loads(line) for line in lines]
    assert all(f"[llmsuite salt {salt}-0]" in r["messages"][0]["content"] for r in sent)
