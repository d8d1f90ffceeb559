"""Request options: validation, the trip through the environment, redacted descriptions."""

from __future__ import annotations

import orjson
import pytest

from suite.driver.control.config import DriverConfig
from suite.driver.control.requestopts import RequestOptions, parse_header
from suite.errors import SpecError


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


def test_describe_scrubs_the_api_key_repeated_in_an_innocent_header_and_template_field() -> None:
    opts = RequestOptions(kind="engine", headers=(("X-Forwarded-Client", "sk-key-4242"),),
                          engine_template='{"message": "{message}", "client": "sk-key-4242"}')
    assert opts.describe()["headers"] == {"X-Forwarded-Client": "sk-key-4242"}  # not known as a secret
    described = opts.describe("sk-key-4242")
    assert described["headers"] == {"X-Forwarded-Client": "[redacted]"}
    assert orjson.loads(described["engine_template"]) == {"message": "{message}", "client": "[redacted]"}


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


def test_parse_header_strips_name_and_value() -> None:
    assert parse_header("X-Team:  blue ") == ("X-Team", "blue")
