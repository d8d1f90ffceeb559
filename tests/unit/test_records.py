"""The corpus line contract checked at the edge, and OWASP's CSV-injection rule for CSV cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from suite.errors import CorpusError
from suite.records import (
    _CORPUS_CHECKS,
    _CORPUS_FIELDS,
    CorpusRequest,
    corpus_request_from_dict,
    csv_cell,
    read_corpus,
)

GOOD: dict[str, Any] = {
    "id": "r1", "t": 0.5, "session": "s1", "turn": 0, "model": "gpt-4o",
    "messages": [{"role": "system", "content": "be brief"},
                 {"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    "max_tokens": 16, "temperature": 0, "stream": True, "prompt_tokens": 12, "domain": "ops",
    "intent": "status", "key": "abc", "repeat_of": None, "variant_of": "r0", "expected_output_tokens": 8,
}


def test_every_corpus_field_has_a_check() -> None:
    assert set(_CORPUS_CHECKS) == _CORPUS_FIELDS


def test_a_good_line_is_read_whole() -> None:
    req = corpus_request_from_dict(dict(GOOD), "c.jsonl:1")
    assert req == CorpusRequest(**GOOD)


def test_null_arrival_and_unknown_fields_are_accepted() -> None:
    req = corpus_request_from_dict({**GOOD, "t": None, "future_field": 1}, "c.jsonl:1")
    assert req.t is None


@pytest.mark.parametrize("field, value, expected", [
    ("id", ["a"], 'id: ["a"] is not valid (must be a non-empty string)'),
    ("id", "", 'id: "" is not valid (must be a non-empty string)'),
    ("messages", [1, 2], "messages: [1,2] is not valid (must be a non-empty list of"),
    ("messages", [], "messages: [] is not valid"),
    ("messages", [{"role": "user"}], 'messages: [{"role":"user"}] is not valid'),
    ("messages", [{"role": 1, "content": "x"}], "messages: "),
    ("messages", [{"role": "user", "content": ["x"]}], "messages: "),
    ("model", 42, "model: 42 is not valid (must be a non-empty model name)"),
    ("max_tokens", 0, "max_tokens: 0 is not valid (must be an integer >= 1)"),
    ("max_tokens", True, "max_tokens: true is not valid"),
    ("max_tokens", 1.5, "max_tokens: 1.5 is not valid"),
    ("temperature", 2.5, "temperature: 2.5 is not valid (must be a number in [0, 2])"),
    ("temperature", "0.7", 'temperature: "0.7" is not valid'),
    ("stream", "yes", 'stream: "yes" is not valid (must be true or false)'),
    ("t", -1, "t: -1 is not valid (must be seconds >= 0, or null (closed loop))"),
    ("t", "0", 't: "0" is not valid'),
    ("prompt_tokens", -3, "prompt_tokens: -3 is not valid (must be an integer >= 0)"),
    ("session", 7, "session: 7 is not valid (must be a string)"),
    ("turn", -1, "turn: -1 is not valid (must be an integer >= 0)"),
    ("repeat_of", 3, "repeat_of: 3 is not valid (must be a request id, or null)"),
    ("variant_of", ["r0"], 'variant_of: ["r0"] is not valid'),
    ("expected_output_tokens", "8", 'expected_output_tokens: "8" is not valid (must be an integer >= 0, '
                                    "or null)"),
])
def test_a_bad_field_is_named_with_its_line_and_value(tmp_path: Path, field: str, value: Any,
                                                      expected: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(orjson.dumps(GOOD) + b"\n" + orjson.dumps({**GOOD, field: value}) + b"\n")
    with pytest.raises(CorpusError) as err:
        read_corpus(path)
    message = str(err.value)
    assert message.startswith(f"{path}:2: {expected}")
    assert message.endswith("Fix the line or regenerate the corpus with `llmsuite synth`.")
    assert err.value.exit_code == 2


def test_a_long_bad_value_is_shortened() -> None:
    with pytest.raises(CorpusError) as err:
        corpus_request_from_dict({**GOOD, "model": ["x" * 500]}, "c.jsonl:9")
    assert "..." in str(err.value) and len(str(err.value)) < 250


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-cmd", "'-cmd"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("gpt-4o", "gpt-4o"), ("a=b", "a=b"), ("", ""), (-0.5, -0.5), (-3, -3), (None, None), (True, True),
])
def test_csv_cell_neutralises_formula_strings_only(value: Any, cell: Any) -> None:
    assert csv_cell(value) == cell
