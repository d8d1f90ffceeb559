"""The target option group: one Target from the command line, a target file and a preset, in that
order of precedence; keys only from the environment; no sockets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from suite.cli.targetopts import TargetArgs, target_group
from suite.driver.control.requestopts import RequestOptions
from suite.driver.control.target import Target
from suite.errors import SpecError


def args_of(argv: list[str], allow_mock: bool = False) -> TargetArgs:
    """The TargetArgs a command gets for ``argv`` (built later, so a test picks the environment)."""
    seen: dict[str, TargetArgs] = {}

    @click.command()
    @target_group(allow_mock=allow_mock)
    def cmd(target: TargetArgs) -> None:
        seen["args"] = target

    result = CliRunner().invoke(cmd, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return seen["args"]


def build(argv: list[str], env: dict[str, str] | None = None, mock: bool = False) -> tuple[Any, list[str]]:
    return args_of(argv, mock).build(mock_ok=mock, env=env or {})


def test_typed_options_become_one_target() -> None:
    target, notices = build(
        ["-t", "http://127.0.0.1:8000", "--target-kind", "engine", "--engine-template", '{"q": "{message}"}',
         "--text-field", "data.text", "-H", "X-Team: blue", "--header", "X-Auth-Token: t0k",
         "--no-request-id", "--cache-detect", "present:X-Hit", "--forbid", "secret", "--min-length", "3",
         "--token-check-sample", "0", "--timeout", "30s", "--ttft-timeout", "5",
         "--health-path", "/ready", "--health-method", "head"],
        env={"LLMSUITE_API_KEY": "k-env-1"})
    assert notices == []
    assert target == Target(
        url="http://127.0.0.1:8000", api_key="k-env-1", health_path="/ready", health_method="HEAD",
        timeout_s=30.0, ttft_timeout_s=5.0,
        request=RequestOptions(kind="engine", engine_template='{"q": "{message}"}', text_field="data.text",
                               headers=(("X-Team", "blue"), ("X-Auth-Token", "t0k")),
                               request_id_header=None, cache_detect="present:X-Hit", forbid=("secret",),
                               min_length=3, token_check_sample=0.0))


def test_defaults_are_the_suite_defaults() -> None:
    target, _ = build(["-t", "http://h:1"])
    assert target == Target("http://h:1")


def test_a_v1_base_url_is_stripped_with_a_notice() -> None:
    target, notices = build(["-t", "https://gw.example.com/v1/"])
    assert target.url == "https://gw.example.com"
    assert len(notices) == 1 and "ends in /v1" in notices[0] and "https://gw.example.com" in notices[0]


@pytest.mark.parametrize("env, key", [
    ({"LLMSUITE_API_KEY": "a", "OPENAI_API_KEY": "b"}, "a"),
    ({"OPENAI_API_KEY": "b"}, "b"),  # what OpenAI SDK users have set
    ({}, None),
])
def test_the_default_key_is_llmsuite_then_openai(env: dict[str, str], key: str | None) -> None:
    assert build(["-t", "http://h:1"], env)[0].api_key == key


def test_api_key_env_names_the_variable_and_an_unset_one_is_an_error() -> None:
    env = {"GW_KEY": "gw-1", "LLMSUITE_API_KEY": "other"}
    assert build(["-t", "http://h:1", "--api-key-env", "GW_KEY"], env)[0].api_key == "gw-1"
    with pytest.raises(SpecError, match=r"^--api-key-env NOPE: the environment variable NOPE is not set"):
        build(["-t", "http://h:1", "--api-key-env", "NOPE"], env)
    with pytest.raises(SpecError, match="--api-key and --api-key-env both name the key"):
        build(["-t", "http://h:1", "--api-key", "x", "--api-key-env", "GW_KEY"], env)
    assert build(["-t", "http://h:1", "--api-key", "typed"], env)[0].api_key == "typed"


def test_a_preset_fills_what_was_not_given() -> None:
    target, _ = build(["-t", "http://gw:4000", "--target-preset", "litellm"])
    assert target.preset == "litellm"
    assert target.request.cache_detect == "present:x-litellm-cache-key"
    assert target.health_path == "/health/liveliness"
    typed, _ = build(["-t", "http://gw:4000", "--target-preset", "portkey", "--cache-detect", "none",
                      "--api-key-header", "X-Mine"])
    assert typed.request.cache_detect == "none" and typed.request.api_key_header == "X-Mine"
    assert typed.health_path == "/"
    with pytest.raises(SpecError, match="unknown gateway preset 'nope'; known: "):
        build(["-t", "http://gw:4000", "--target-preset", "nope"])


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "target.yaml"
    path.write_text(text)
    return str(path)


def test_a_target_file_sits_between_the_command_line_and_the_preset(tmp_path: Path) -> None:
    path = write(tmp_path, "url: http://gw:4000/v1\npreset: litellm\nhealth_path: /healthz\ntimeout: 45s\n"
                           "headers: {X-Team: blue, X-Env: prod}\napi_key_env: GW_KEY\n"
                           "request_id_header: null\nkind: openai-chat\n")
    target, notices = build(["--target-file", path], {"GW_KEY": "gw-1"})
    assert target.url == "http://gw:4000" and notices  # the file's /v1 is stripped too
    assert (target.preset, target.health_path, target.timeout_s) == ("litellm", "/healthz", 45.0)
    assert target.request.cache_detect == "present:x-litellm-cache-key"  # from the preset
    assert target.request.headers == (("X-Team", "blue"), ("X-Env", "prod"))
    assert target.request.request_id_header is None
    assert target.api_key == "gw-1"
    typed, _ = build(["--target-file", path, "-t", "http://other:1", "--health-path", "/h",
                      "-H", "x-team: red", "--timeout", "10"], {"GW_KEY": "gw-1"})
    assert (typed.url, typed.health_path, typed.timeout_s) == ("http://other:1", "/h", 10.0)
    assert typed.request.headers == (("X-Env", "prod"), ("x-team", "red"))


def test_a_target_file_never_holds_a_key(tmp_path: Path) -> None:
    path = write(tmp_path, "url: http://gw:4000\napi_key: sk-literal\n")
    with pytest.raises(SpecError, match="put the key in an environment variable and name it with "
                                        "api_key_env"):
        build(["--target-file", path])


def test_a_target_file_key_that_is_unknown_is_named_with_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "url: http://gw:4000\nheath_path: /h\n")
    with pytest.raises(SpecError, match=r"unknown key\(s\) heath_path; known: api_key_env, api_key_header, "):
        build(["--target-file", path])


@pytest.mark.parametrize("text, message", [
    ("- a list\n", "must be a mapping"),
    ("url: ftp://x\n", "url: 'ftp://x' is not an http(s) URL"),
    ("url: http://h:1\ntimeout: soon\n", "timeout: 'soon' is not a duration"),
    ("url: http://h:1\nheaders: [a]\n", "headers must map header names to values"),
    ("url: http://h:1\nkind: 3\n", "kind must be a string"),
    ("url: http://h:1\nhealth_method: PUT\n", "--health-method: 'PUT' is not one of GET, HEAD, POST"),
    ("url: [\n", "not valid YAML"),
])
def test_bad_target_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(["--target-file", write(tmp_path, text)])


def test_run_needs_a_url_and_a_ttft_limit_below_the_total() -> None:
    with pytest.raises(SpecError, match=r"^--target: give the target's base URL"):
        build([])
    with pytest.raises(SpecError, match="--ttft-timeout: 60 s is longer than --timeout 30 s"):
        build(["-t", "http://h:1", "--timeout", "30", "--ttft-timeout", "60"])


def test_sweeps_without_a_url_or_with_mock_use_the_bundled_mock() -> None:
    assert build([], mock=True) == (None, [])
    assert build(["-t", "mock"], mock=True) == (None, [])
    target, notices = build(["-t", "mock", "--api-key-env", "X", "-H", "A: b"], mock=True)
    assert target is None
    assert notices == ["the bundled mock is the target: --api-key-env, --header ignored"]
    assert build(["-t", "http://h:1"], mock=True)[0] == Target("http://h:1")


def test_run_and_the_sweeps_share_the_group() -> None:
    """Every command of issue 14 takes the same options (and the old names still work)."""
    import importlib

    run = importlib.import_module("suite.cli.run")
    compare = importlib.import_module("suite.cli.compare")
    swap = importlib.import_module("suite.cli.swap")

    want = {"--target", "--target-file", "--target-preset", "--api-key", "--api-key-env", "--api-key-header",
            "--health-path", "--health-method", "--timeout", "--ttft-timeout", "--header", "--cache-detect",
            "--target-kind", "--no-request-id"}
    for command in (run.run, swap.swap, compare.sweep_cache, compare.sweep_load):
        names = {o for p in command.params for o in p.opts}
        assert want <= names, (command.name, want - names)


def test_a_target_file_header_names_its_secret_by_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "url: http://gw:1\nheaders:\n  cf-aig-authorization: Bearer ${CF_TOKEN}\n")
    target, _ = build(["--target-file", path], {"CF_TOKEN": "cf-secret-1"})
    assert target.request.headers == (("cf-aig-authorization", "Bearer cf-secret-1"),)
    assert "cf-secret" not in str(target.describe()) and "cf-secret" not in repr(target)
    with pytest.raises(SpecError, match=r"names \$\{CF_TOKEN\}, which is not set"):
        build(["--target-file", path], {})
