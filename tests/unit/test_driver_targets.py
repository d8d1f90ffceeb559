"""Target kinds, engine body templates and request options: bodies and messages, no sockets."""

from __future__ import annotations

import orjson
import pytest

from suite.driver.config import DriverConfig
from suite.driver.engine_template import compile_template, last_user_message
from suite.driver.fieldpath import MISSING, compile_path
from suite.driver.requestopts import RequestOptions, parse_header
from suite.driver.targets import TargetOptions, build_target, completion_prompt, default_path
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
    assert "messages" not in got and got["stream_options"] == {"include_usage": True}
    assert got["prompt"] == ("system: Be terse.\n\nuser: First?\n\nassistant: One.\n\n"
                             "user: Say \"two\".\n\nassistant:")
    assert completion_prompt([{"role": "user", "content": "Only me"}]) == "Only me"


def test_engine_default_template_matches_the_intelligence_engine() -> None:
    assert body("engine") == {"message": 'Say "two".', "session_id": "s3", "stream": True}


def test_engine_template_keeps_json_types_and_fills_strings() -> None:
    template = ('{"q": "{message}", "history": "{messages}", "opts": {"n": "{max_tokens}", '
                '"m": "{model}"}, "tag": "{session_id}/{request_id}", "raw": "h={messages}", '
                '"fixed": [1, "x"]}')
    got = orjson.loads(orjson.dumps(compile_template(template)(REQ)))
    assert got == {"q": 'Say "two".', "history": MESSAGES, "opts": {"n": 32, "m": "gpt-4o"},
                   "tag": "s3/r7", "raw": "h=" + orjson.dumps(MESSAGES).decode(), "fixed": [1, "x"]}


@pytest.mark.parametrize("template, fragment", [
    ('{"q": "{mesage}"}', "unknown placeholder {mesage}; known: {message}, {messages}"),
    ('{"q": {message}}', "is not valid JSON"),
    ('["{message}"]', "must be a JSON object"),
])
def test_bad_templates_say_what_is_wrong(template: str, fragment: str) -> None:
    with pytest.raises(SpecError, match="--engine-template") as err:
        compile_template(template)
    assert fragment in str(err.value)


def test_last_user_message_skips_the_assistant() -> None:
    assert last_user_message(MESSAGES[:3]) == "First?"
    assert last_user_message([{"role": "system", "content": "only"}]) == "only"


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


def test_field_paths() -> None:
    get = compile_path("a.1.b")
    assert get({"a": [{}, {"b": None}]}) is None
    assert get({"a": [{}]}) is MISSING and get({"a": {"1": 2}}) is MISSING and get("x") is MISSING


def test_request_options_round_trip_through_the_environment(tmp_path) -> None:
    opts = RequestOptions(kind="engine", headers=(("X-Api-Key", "k-secret-1"), ("X-Team", "blue")),
                          request_id_header=None, cache_detect="present:X-Hit",
                          require_fields=("response",), forbid=("internal",), min_length=2,
                          token_check_sample=0.5)
    config = DriverConfig(corpus=tmp_path / "c.jsonl", out=tmp_path / "r.jsonl",
                          run_meta=tmp_path / "run.json", run_id="x", target_path="/api/chat",
                          request=opts)
    assert DriverConfig.from_env(config.to_env()).request == opts
    described = opts.describe()
    assert described["headers"] == {"X-Api-Key": "[redacted]", "X-Team": "blue"}
    assert "k-secret-1" not in orjson.dumps(described).decode()


def test_describe_redacts_a_literal_key_in_the_engine_template() -> None:
    opts = RequestOptions(kind="engine", engine_template='{"message": "{message}", "apiKey": "sk-9876"}')
    described = opts.describe()
    assert orjson.loads(described["engine_template"]) == {"message": "{message}", "apiKey": "[redacted]"}
    assert "sk-9876" not in orjson.dumps(described).decode()
    assert "sk-9876" in opts.secrets(None)  # and error messages echoing it are scrubbed


def test_engine_kind_gets_its_default_path_from_the_environment(tmp_path) -> None:
    env = {"LLMSUITE_CORPUS": "c", "LLMSUITE_OUT": str(tmp_path / "r.jsonl"),
           "LLMSUITE_REQUEST": RequestOptions(kind="engine").to_json()}
    assert DriverConfig.from_env(env).target_path == "/api/chat"


@pytest.mark.parametrize("kw, message", [
    ({"token_check_sample": 1.5}, "--token-check-sample: 1.5 is not valid"),
    ({"cache_detect": "header"}, "--cache-detect: 'header' is not a cache rule"),
    ({"headers": (("Bad Name", "x"),)}, "--header: 'Bad Name' is not a valid header"),
    ({"min_length": 0}, "--min-length: 0 is not valid"),
    ({"forbid_regex": ("(",)}, "--forbid-regex: '(' is not a valid regular expression"),
])
def test_bad_request_options(kw: dict, message: str) -> None:
    with pytest.raises(SpecError) as err:
        RequestOptions(**kw)
    assert str(err.value).startswith(message)


def test_parse_header() -> None:
    assert parse_header("Authorization: Bearer a:b") == ("Authorization", "Bearer a:b")
    with pytest.raises(SpecError, match="is not 'Name: value'"):
        parse_header("no colon")


@pytest.mark.parametrize("module", ["targets", "engine_template", "cachedetect", "checks", "redact",
                                    "fieldpath", "requestopts"])
def test_module_doctests(module: str) -> None:
    import doctest
    import importlib

    mod = importlib.import_module(f"suite.driver.{module}")
    result = doctest.testmod(mod)
    assert result.failed == 0 and result.attempted > 0


def test_cli_request_options_become_one_request_options(monkeypatch: pytest.MonkeyPatch) -> None:
    import click
    from click.testing import CliRunner

    from suite.cli_request import RequestArgs, request_options

    seen: dict[str, object] = {}

    @click.command()
    @request_options
    def cmd(request: RequestArgs) -> None:
        seen["options"], seen["key"] = request.options(), request.api_key

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = ["--target-kind", "engine", "--engine-template", '{"q": "{message}"}', "--text-field",
            "data.text", "-H", "X-Team: blue", "--header", "X-Auth-Token: t0k", "--no-request-id",
            "--cache-detect", "present:X-Hit", "--forbid", "secret", "--min-length", "3",
            "--token-check-sample", "0"]
    result = CliRunner().invoke(cmd, args, env={"LLMSUITE_API_KEY": "k-env-1"})
    assert result.exit_code == 0, result.output
    assert seen["key"] == "k-env-1"
    assert seen["options"] == RequestOptions(
        kind="engine", engine_template='{"q": "{message}"}', text_field="data.text",
        headers=(("X-Team", "blue"), ("X-Auth-Token", "t0k")), request_id_header=None,
        cache_detect="present:X-Hit", forbid=("secret",), min_length=3, token_check_sample=0.0)
