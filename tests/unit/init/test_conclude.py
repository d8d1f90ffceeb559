"""What the probe's answers say (kind, text, streaming, auth, health) and the files written from it:
target.yaml as ``--target-file`` reads it, the scenario as ``synth`` reads it, the SLO as ``--slo``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from suite.errors import SpecError
from suite.init.answer import Answer
from suite.init.asks import key_headers, no_kind_message, refused_message
from suite.init.cachediff import CacheFinding
from suite.init.conclude import Observed, conclude, find_text, gateway_of, models_of, stream_shape, text_path
from suite.init.write import refuse_overwrite, scenario_yaml, slo_yaml, target_yaml, write_files

REPO = Path(__file__).resolve().parents[3]
CHAT = {"id": "c1",
        "choices": [{"message": {"role": "assistant", "content": "yes"}, "finish_reason": "stop"}]}


def ans(body: Any = None, status: int = 200, path: str = "/v1/chat/completions", raw: bytes | None = None,
        headers: dict[str, str] | None = None, method: str = "POST", auth: str | None = None) -> Answer:
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else b""
    return Answer("x", method, path, status, headers or {}, data, 0.05, auth=auth)


def sse(*events: Any, done: bool = True) -> bytes:
    lines = [b"data: " + json.dumps(e).encode() + b"\n\n" for e in events]
    return b"".join(lines) + (b"data: [DONE]\n\n" if done else b"")


def test_text_paths_by_kind() -> None:
    assert text_path("openai-chat", ans(CHAT)) == "choices.0.message.content"
    assert text_path("openai-completions", ans(CHAT)) is None  # a chat answer is not a completion
    assert text_path("engine", ans({"session_id": "s", "response": "hi"})) == "response"
    assert text_path("engine", ans({"data": {"answer": {"text": "hi"}}, "id": "x"})) == "data.answer.text"
    assert text_path("engine", ans({"detail": "Not Found"}, status=404)) is None
    assert find_text({"id": "x", "model": "m"}) is None


def test_stream_shapes() -> None:
    chunk = {"choices": [{"delta": {"content": "hi"}, "finish_reason": None}]}
    last = {"choices": [{"delta": {}, "finish_reason": "stop"}]}
    usage = {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
    with_usage = stream_shape("openai-chat", ans(raw=sse(chunk, last, usage),
                                                 headers={"content-type": "text/event-stream"}))
    assert (with_usage.sse, with_usage.text, with_usage.end, with_usage.usage) == \
        (True, "choices.0.delta.content", "done", True)
    engine = stream_shape("engine", ans(raw=sse({"response": "a"}, {"response": "b"}, done=False)))
    assert (engine.text, engine.end, engine.done, engine.usage) == ("response", "eof", False, False)
    assert not stream_shape("openai-chat", ans(CHAT)).sse


def test_models_keys_and_gateways() -> None:
    assert models_of(ans({"data": [{"id": "a"}, {"id": "b"}, {"x": 1}]}, method="GET")) == ["a", "b"]
    assert models_of(ans({"detail": "no"}, status=404)) == []
    assert key_headers("Authorization", "k") == {"Authorization": "Bearer k"}
    assert key_headers("x-api-key", "k") == {"x-api-key": "k"}
    assert key_headers(None, "k") == {}
    assert gateway_of([ans(CHAT, headers={"x-litellm-model-id": "1"})]) == "litellm"


def test_messages_that_end_a_probe_name_what_was_tried_and_the_fix() -> None:
    tries = [ans({"detail": "Not Found"}, status=404, path="/api/chat"),
             ans({"error": {"message": "The model `gpt-4o-mini` does not exist"}}, status=404)]
    text = no_kind_message("http://h:1", tries)
    assert "POST /api/chat → HTTP 404; " in text  # a missing route: no body quoted
    assert "POST /v1/chat/completions → HTTP 404 ({" in text  # a missing model: its body quoted
    assert "--model NAME" in text and "--engine-template" in text
    refused = ans({"error": "bad key"}, status=401)
    assert "--api-key-env NAME" in refused_message("http://h:1", refused, None)
    assert "$GW_KEY in every header tried (Authorization, api-key" in refused_message("http://h:1", refused,
                                                                                        "GW_KEY")


def observed(**kw: Any) -> Observed:
    obs = Observed(url="http://127.0.0.1:9", key_env="GW_KEY", model="m1",
                   models_answer=ans({"data": [{"id": "m1"}, {"id": "m2"}]}, method="GET", path="/v1/models"),
                   tries=[ans({"error": "bad key"}, status=401, auth="Authorization"),
                          ans(CHAT, auth="x-api-key")],
                   kind="openai-chat", path="/v1/chat/completions", text="choices.0.message.content",
                   auth_header="x-api-key", no_key=ans({"error": "no key"}, status=401),
                   health=[ans(status=404, path="/health", method="GET"),
                           ans({"ok": 1}, path="/healthz", method="GET")],
                   stream=ans(raw=sse({"choices": [{"delta": {"content": "y"}, "finish_reason": "stop"}]}),
                              headers={"content-type": "text/event-stream"}),
                   cache=CacheFinding("present:x-acme-cache", "seen", None))
    for key, value in kw.items():
        setattr(obs, key, value)
    return obs


def test_conclusion_of_a_guarded_chat_target() -> None:
    c = conclude(observed())
    assert c.settings == {"url": "http://127.0.0.1:9", "kind": "openai-chat", "path": "/v1/chat/completions",
                          "stream_end": "done", "api_key_env": "GW_KEY", "api_key_header": "x-api-key",
                          "cache_detect": "present:x-acme-cache", "health_path": "/healthz"}
    rows = {f.item: f for f in c.findings}
    assert rows["key header"].conclusion == "x-api-key: $KEY"
    assert "refused Authorization: HTTP 401" in rows["key header"].evidence
    assert rows["usage in stream"].conclusion.startswith("no")
    assert c.models == ["m1", "m2"] and c.stream


def test_conclusion_without_a_needed_key_leaves_the_key_out() -> None:
    c = conclude(observed(no_key=ans(CHAT), cache=CacheFinding(None, "fresh 20 ms"), stream=None, health=[]))
    assert "api_key_env" not in c.settings and c.settings["cache_detect"] == "none"
    assert c.settings["health_path"] == "/" and not c.stream
    assert {f.item: f.conclusion for f in c.findings}["cache signal"] == "no cache signal found"


def test_a_named_key_variable_is_kept_even_when_the_target_answers_without_it() -> None:
    c = conclude(observed(no_key=ans(CHAT), key_named=True))
    assert c.settings["api_key_env"] == "GW_KEY"
    assert {f.item: f.conclusion for f in c.findings}["auth"].startswith("not needed; $GW_KEY kept")


def test_files_are_read_back_by_the_suite(tmp_path: Path) -> None:
    from suite.analyze.summarize.slo import load_slo
    from suite.cli.targetopts import read_target_file
    from suite.synth import load_spec

    c = conclude(observed())
    (tmp_path / "target.yaml").write_text(target_yaml(c))
    assert read_target_file(tmp_path / "target.yaml")["cache_detect"] == "present:x-acme-cache"
    base = (REPO / "corpora" / "scenarios" / "finance.yaml").read_text()
    (tmp_path / "scenario.yaml").write_text(scenario_yaml(base, "finance", c))
    spec = load_spec(tmp_path / "scenario.yaml")
    assert [m for m, _ in spec.models] == ["m1", "m2"] and spec.stream is True
    (tmp_path / "slo.yaml").write_text(slo_yaml(c))
    assert any(ch.metric == "ttft" for ch in load_slo(str(tmp_path / "slo.yaml")).checks)


def test_existing_files_are_kept_without_force(tmp_path: Path) -> None:
    (tmp_path / "target.yaml").write_text("url: http://x\n")
    with pytest.raises(SpecError, match="--force"):
        refuse_overwrite(tmp_path, force=False)
    write_files(tmp_path, {"target.yaml": "url: http://y\n"}, force=True)
    assert (tmp_path / "target.yaml").read_text() == "url: http://y\n"
