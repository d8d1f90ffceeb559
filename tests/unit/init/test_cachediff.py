"""Cache signal discovery from three answers (fresh, repeat, another fresh): what changes on the
repeat only becomes the rule; what changes on every answer never does."""

from __future__ import annotations

import json
from typing import Any

from suite.init.answer import Answer
from suite.init.cachediff import discover, header_candidate, json_candidate


def answer(headers: dict[str, str] | None = None, body: Any = None, elapsed: float = 0.2,
           status: int = 200, what: str = "fresh request") -> Answer:
    raw = json.dumps(body).encode() if body is not None else b"{}"
    return Answer(what, "POST", "/v1/chat/completions", status, headers or {}, raw, elapsed)


def test_a_header_sent_on_hits_only_is_a_presence_rule() -> None:
    found = discover(answer({"x-trace": "a"}), answer({"x-trace": "b", "x-acme-cache": "hit"}, elapsed=0.001),
                     answer({"x-trace": "c"}))
    assert found.rule == "present:x-acme-cache" and found.faster
    assert "absent on both fresh requests, 'hit' on the repeat" in found.evidence


def test_a_cache_word_header_that_turns_to_hit_is_a_header_rule_even_without_a_latency_drop() -> None:
    found = discover(answer({"x-cache-status": "MISS"}), answer({"x-cache-status": "HIT"}),
                     answer({"x-cache-status": "MISS"}))
    assert found.rule == "header:x-cache-status" and not found.faster


def test_a_preset_header_is_recognised_by_name() -> None:
    found = discover(answer(), answer({"x-litellm-cache-key": "9f2c"}, elapsed=0.01), answer())
    assert (found.rule, found.preset) == ("present:x-litellm-cache-key", "litellm")
    assert "litellm preset" in found.evidence


def test_a_json_field_that_turns_true_on_the_repeat_is_a_json_rule() -> None:
    first, other = {"id": "a", "meta": {"cached": False}}, {"id": "b", "meta": {"cached": False}}
    found = discover(answer(body=first), answer(body={"id": "c", "meta": {"cached": True}}, elapsed=0.01),
                     answer(body=other))
    assert found.rule == "json:meta.cached"


def test_what_changes_on_every_answer_is_noise_not_a_signal() -> None:
    fresh1 = answer({"x-request-id": "1", "x-backend-ms": "80.1"}, {"request_id": "u1", "latency_ms": 20.1})
    fresh2 = answer({"x-request-id": "2", "x-backend-ms": "81.7"}, {"request_id": "u2", "latency_ms": 20.4})
    repeat = answer({"x-request-id": "3", "x-backend-ms": "0.2"}, {"request_id": "u3", "latency_ms": 0.3},
                    elapsed=0.01)
    found = discover(fresh1, repeat, fresh2)
    assert found.rule is None and found.faster
    assert "ignored: x-backend-ms, x-request-id" in found.evidence
    assert "may cache without saying so" in found.evidence


def test_no_signal_and_no_drop_says_so() -> None:
    found = discover(answer(), answer(), answer())
    assert found.rule is None and "not faster" in found.evidence


def test_an_opaque_header_that_appears_without_a_latency_drop_is_not_proposed() -> None:
    found = discover(answer(), answer({"x-served-by": "edge-3"}), answer())
    assert found.rule is None and "not proposed" in found.evidence


def test_a_prefix_cache_count_is_named_but_never_proposed() -> None:
    def body(n: int) -> dict[str, Any]:
        return {"usage": {"prompt_tokens_details": {"cached_tokens": n}}}
    found = discover(answer(body=body(0)), answer(body=body(64), elapsed=0.01), answer(body=body(0)))
    assert found.rule is None and "prefix" in found.evidence


def test_a_failed_exchange_is_not_probed() -> None:
    found = discover(answer(), answer(status=500, what="repeat"), answer())
    assert found.rule is None and found.evidence == "not probed: repeat got HTTP 500"


def test_candidate_readings() -> None:
    assert header_candidate("x-cache", "MISS", "MISS", "HIT") is not None
    assert header_candidate("x-cache", "MISS", "EXPIRED", "HIT") is None  # differs between fresh answers
    assert header_candidate("date", None, None, "Thu") is None  # transport, never a signal
    assert header_candidate("x-hits", "0", "0", "17") is None  # a number, not a flag
    cand = header_candidate("x-source", "backend", "backend", "store")
    assert cand is not None and cand.rule == "header:x-source=store"
    assert json_candidate("cached", None, None, True)[0] is not None
    assert json_candidate("source", "llm", "llm", "memo")[0] is None
