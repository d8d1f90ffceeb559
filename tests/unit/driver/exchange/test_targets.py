"""Target kinds: request bodies, default paths, bad options."""

from __future__ import annotations

import orjson
import pytest

from suite.driver.exchange.targets import TargetOptions, build_target, completion_prompt, default_path
from suite.errors import SpecError
from suite.records import CorpusRequest

MESSAGES = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "First?"},
            {"role": "assistant", "content": "One."}, {"role": "user", "content": "Say \"two\"."}]


REQ = CorpusRequest(id="r7", t=None, session="s3", turn=1, model="gpt-4o", messages=MESSAGES,
                    max_tokens=32, temperature=0.5, stream=True, prompt_tokens=20, domain="d",
                    intent="i", key="k")


def body(kind: str, **kw: str) -> dict:
    return orjson.loads(build_target(TargetOptions(kind=kind, **kw)).body(REQ))


def test_chat_body_asks_for_usage_when_streaming() -> None:
    assert body("openai-chat") == {"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 32,
                                   "temperature": 0.5, "stream": True,
                                   "stream_options": {"include_usage": True}}


def test_completions_body_builds_a_prompt_from_the_messages() -> None:
    got = body("openai-completions")
    assert "messages" not in got
    assert got["stream_options"] == {"include_usage": True}
    assert got["prompt"] == ("system: Be terse.\n\nuser: First?\n\nassistant: One.\n\n"
                             "user: Say \"two\".\n\nassistant:")
    assert completion_prompt([{"role": "user", "content": "Only me"}]) == "Only me"


def test_engine_default_template_matches_the_intelligence_engine() -> None:
    assert body("engine") == {"message": 'Say "two".', "session_id": "s3", "stream": True}


@pytest.mark.parametrize("kind, path", [("openai-chat", "/v1/chat/completions"),
                                        ("openai-completions", "/v1/completions"),
                                        ("engine", "/api/chat")])
def test_default_paths(kind: str, path: str) -> None:
    assert default_path(kind) == path == build_target(TargetOptions(kind=kind)).path


@pytest.mark.parametrize("opts, message", [
    (TargetOptions(kind="vllm"), "--target-kind: unknown target kind 'vllm'; known: openai-chat, "
                                 "openai-completions, engine"),
    (TargetOptions(path="v1/chat"), "--target-path: 'v1/chat' must start with '/', e.g. "
                                    "/v1/chat/completions"),
    (TargetOptions(stream_end="close"), "--stream-end: 'close' is not one of done, eof"),
    (TargetOptions(text_field="answer"), "--engine-template and --text-field describe an engine "
                                         "target; add --target-kind engine (the target kind is "
                                         "'openai-chat')."),
    (TargetOptions(kind="engine", text_field="a..b"), "--text-field: 'a..b' is not a field path"),
])
def test_bad_target_options(opts: TargetOptions, message: str) -> None:
    with pytest.raises(SpecError) as err:
        build_target(opts)
    assert str(err.value).startswith(message)


def test_a_system_and_a_user_message_become_a_transcript() -> None:
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]
    assert completion_prompt(messages) == "system: Be terse.\n\nuser: Hi\n\nassistant:"
    assert completion_prompt(messages[1:]) == "Hi"
