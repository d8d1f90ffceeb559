"""Content checks: required fields, forbidden terms and patterns, minimum length."""

from __future__ import annotations

import pytest

from suite.driver.exchange.checks import ContentChecks


@pytest.mark.parametrize("kw, text, objects, reason", [
    ({"require": ("usage.total_tokens",)}, "fine", [{"usage": {}}],
     "required field 'usage.total_tokens' missing from the response"),
    ({"require": ("usage.total_tokens",)}, "fine", [{}, {"usage": {"total_tokens": 3}}], None),
    ({"require": ("id",)}, "fine", None, "required field 'id' missing from the response"),
    ({"forbid": ("Project Falcon",)}, "about project falcon now", None,
     "forbidden term 'project falcon' in the response"),
    ({"forbid_regex": (r"\bsk-[A-Za-z0-9]{8,}",)}, "key sk-abcdefgh12", None,
     "forbidden pattern '\\\\bsk-[A-Za-z0-9]{8,}' matched the response"),
    ({"min_length": 10}, "short", None, "response has 5 character(s), fewer than the minimum 10"),
    ({"min_length": 5, "forbid": ("x",)}, "hello", None, None),
])
def test_content_checks(kw: dict, text: str, objects, reason: str | None) -> None:
    assert ContentChecks.build(**kw).failure(text, objects) == reason


def test_no_checks_are_inactive() -> None:
    assert not ContentChecks.build().active


def test_forbidden_terms_ignore_case_and_checks_run_in_order() -> None:
    checks = ContentChecks.build(forbid=("internal-only",), min_length=3)
    assert checks.failure("ok, INTERNAL-ONLY data", None) == "forbidden term 'internal-only' in the response"
    assert checks.failure("ok", None) == "response has 2 character(s), fewer than the minimum 3"
    assert checks.active
