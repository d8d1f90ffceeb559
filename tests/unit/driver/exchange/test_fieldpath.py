"""Dotted field paths into decoded JSON."""

from __future__ import annotations

from suite.driver.exchange.fieldpath import MISSING, compile_path


def test_field_paths() -> None:
    get = compile_path("a.1.b")
    assert get({"a": [{}, {"b": None}]}) is None
    assert get({"a": [{}]}) is MISSING
    assert get({"a": {"1": 2}}) is MISSING
    assert get("x") is MISSING


def test_a_chat_answer_path() -> None:
    get = compile_path("choices.0.message.content")
    assert get({"choices": [{"message": {"content": "hi"}}]}) == "hi"
    assert get({"choices": []}) is MISSING
