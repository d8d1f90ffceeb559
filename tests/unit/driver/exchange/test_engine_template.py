"""Engine body templates: placeholders, JSON types, messages for bad templates."""

from __future__ import annotations

import orjson
import pytest

from suite.driver.exchange.engine_template import compile_template, last_user_message
from suite.errors import SpecError
from suite.records import CorpusRequest

MESSAGES = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "First?"},
            {"role": "assistant", "content": "One."}, {"role": "user", "content": "Say \"two\"."}]


REQ = CorpusRequest(id="r7", t=None, session="s3", turn=1, model="gpt-4o", messages=MESSAGES,
                    max_tokens=32, temperature=0.5, stream=True, prompt_tokens=20, domain="d",
                    intent="i", key="k")


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


def test_a_placeholder_inside_a_longer_string_becomes_text() -> None:
    render = compile_template('{"q": "{message}", "n": "{max_tokens}", "tag": "s={session_id}"}')
    one = CorpusRequest(id="r1", t=None, session="s9", turn=0, model="m",
                        messages=[{"role": "user", "content": "hi"}], max_tokens=8, temperature=0.0,
                        stream=False, prompt_tokens=1, domain="d", intent="i", key="k")
    assert render(one) == {"q": "hi", "n": 8, "tag": "s=s9"}
