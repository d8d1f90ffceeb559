"""Hit correctness against a semantic cache that is not ours: a real Locust run against a tiny
independent gateway written here, then the analyzer's judgement of every hit.

The gateway (http.server in a thread, loopback, a port the OS chooses) answers chat completions
from a word-overlap (Jaccard) "semantic" cache over the last user message, signals hits its own way
(``x-gw-cache: hit|miss``), names the entry it served in ``x-gw-served`` (its own keys, not the
corpus's: the analyzer must learn them from misses) and the similarity in ``x-gw-sim``. It logs
what it served; the test decides from its own labels which answers were wrong, and the analyzer's
false-hit count must equal that."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from suite.analyze import analyze_run
from suite.cachesignal import ServedRule
from suite.driver import run_load
from suite.driver.control.requestopts import RequestOptions
from suite.records import request_key, write_jsonl
from suite.tokens import count_chat_tokens
from tests.integration.threaded import serving

pytestmark = pytest.mark.integration
_SALT_LINE = re.compile(r"\[llmsuite salt [^\]]*\]\n")

# id, text, group label, repeat_of, variant_of, near_miss_of — sent in this order by one user
ROWS = [("a0", "what is the status of order 1234", "A", None, None, None),
        ("a1", "status of order 1234 please", "A", None, "a0", None),
        ("a2", "what is the status of order 1234", "A", "a0", None, None),
        ("na", "what is the status of order 5678", "NA", None, None, "a0"),
        ("b0", "how do i reset my password", "B", None, None, None),
        ("b1", "how can i reset my password", "B", None, "b0", None),
        ("nb", "how do i reset my username", "NB", None, None, "b0"),
        ("c0", "summarize the quarterly revenue report", "C", None, None, None),
        ("c1", "give a summary of the quarterly revenue report", "C", None, "c0", None),
        ("d0", "translate hello into french", "D", None, None, None),
        ("d1", "translate goodbye into french", "ND", None, None, "d0"),
        ("e0", "list three colours", "E", None, None, None),
        ("e1", "list three colours", "E", "e0", None, None),
        ("f0", "what is the status of the printer", "F", None, None, None)]
GROUP = {r[0]: r[2] for r in ROWS}
NEAR = {r[0]: GROUP[r[5]] for r in ROWS if r[5]}


class Gateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.threshold = 1.0
        self.entries: list[tuple[frozenset[str], str, str]] = []  # words, gateway key, id that stored it
        self.log: list[dict[str, Any]] = []


class Handler(BaseHTTPRequestHandler):
    server: Gateway

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._send(200, b'{"status": "ok"}', {})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.loads(raw)
        text = _SALT_LINE.sub("", body["messages"][-1]["content"])
        words = frozenset(re.findall(r"\w+", text.lower()))
        own = hashlib.sha1(b"gw:" + json.dumps(body["messages"]).encode()).hexdigest()[:16]
        rid = self.headers.get("X-Request-Id")
        with self.server.lock:
            scored = [(len(words & w) / len(words | w), key, who) for w, key, who in self.server.entries]
            sim, served, storer = max(scored, default=(0.0, own, None))
            hit = storer is not None and sim >= self.server.threshold
            if not hit:
                served, sim = own, 1.0
                self.server.entries.append((words, own, rid or ""))
            self.server.log.append({"t": self.server.threshold, "id": rid, "hit": hit, "storer": storer})
        usage = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
        answer = {"id": "gw", "object": "chat.completion", "model": body["model"], "usage": usage,
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok then"},
                               "finish_reason": "stop"}]}
        self._send(200, json.dumps(answer).encode(), {"x-gw-cache": "hit" if hit else "miss",
                                                       "x-gw-served": served, "x-gw-sim": f"{sim:.4f}"})

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def write_corpus(path: Path) -> None:
    rows = []
    for i, (rid, text, _, rep, var, near) in enumerate(ROWS):
        messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]
        rows.append({"id": rid, "t": None, "session": f"s{i}", "turn": 0, "model": "gpt-4o",
                     "messages": messages, "max_tokens": 8, "temperature": 0.0, "stream": False,
                     "prompt_tokens": count_chat_tokens(messages, "gpt-4o"), "domain": "test",
                     "intent": "ask",
                     "key": request_key("gpt-4o", messages, 8, 0.0), "repeat_of": rep, "variant_of": var,
                     **({"near_miss_of": near} if near else {})})
    write_jsonl(path, rows)


def wrong_by_the_gateway(log: list[dict[str, Any]], threshold: float) -> tuple[int, int, int]:
    """(false hits, of which near misses, correct paraphrase hits) by the test's own labels."""
    served = [e for e in log if e["t"] == threshold and e["hit"] and e["id"] in GROUP]
    wrong = [e for e in served if GROUP[e["storer"]] != GROUP[e["id"]]]
    near = [e for e in wrong if NEAR.get(e["id"]) == GROUP[e["storer"]]]
    text = {r[0]: r[1] for r in ROWS}
    para = [e for e in served if GROUP[e["storer"]] == GROUP[e["id"]] and text[e["storer"]] != text[e["id"]]]
    return len(wrong), len(near), len(para)


def test_the_analyzer_counts_exactly_the_wrong_answers_the_gateway_served(tmp_path: Path) -> None:
    write_corpus(tmp_path / "c.jsonl")
    gateway = Gateway()
    gateway.threshold = 0.5
    opts = RequestOptions(cache_detect="header:x-gw-cache=hit", served_key_header="X-GW-Served",
                          similarity_header="x-gw-sim")
    with serving(gateway) as url:
        result = run_load(tmp_path / "c.jsonl", url, tmp_path / "runs", users=1, spawn_rate=10, duration_s=30,
                          options={"request": opts})
    assert result.complete
    run_dir = result.requests_path.parent
    block = analyze_run(run_dir)["semantic"]
    wrong, near, para = wrong_by_the_gateway(gateway.log, 0.5)
    assert wrong >= 2 and near >= 1 and para >= 1  # the corpus does exercise every class
    classes = block["hits_by_class"]
    assert (classes["false"], classes["false_near_miss"], classes["paraphrase"]) == (wrong, near, para)
    assert classes["exact"] == 2 and block["opportunities"]["missed_paraphrase"] == 1  # a2, e1; c1
    assert block["precision"]["value"] == pytest.approx(para / (para + wrong))
    assert block["similarity"]["false_near_miss"]["min"] >= 0.5
    meta = orjson.loads((run_dir / "run.json").read_bytes())
    assert meta["extra"]["cache_headers"]["served"] == {"key": "x-gw-served", "similarity": "x-gw-sim"}

    # the same run judged as if the target named no served entry: what cannot be judged, and why
    blind = analyze_run(run_dir, served=ServedRule("", ""))["semantic"]
    assert blind["hit_ratio"] == block["hit_ratio"]
    assert {c["figure"] for c in blind["cannot_judge"]} >= {"false_hit_ratio", "precision", "recall"}
    assert "precision" not in blind and "hits_by_class" not in blind
    assert blind["opportunities"]["missed_paraphrase"] == block["opportunities"]["missed_paraphrase"]
