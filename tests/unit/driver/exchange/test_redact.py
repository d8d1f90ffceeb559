"""Secrets out of what is written: credential headers, template fields, error messages."""

from __future__ import annotations

import orjson

from suite.driver.exchange.redact import REDACTED, Redactor, redact_headers, redact_template, secret_values

TEMPLATE = ('{"message": "{message}", "session_id": "{session_id}", "api_key": "sk-live-777",'
            ' "auth": {"token": "Bearer tok-999", "user": "ann"}, "keys": ["{request_id}"], "n": 3}')


def test_redaction_of_keys_and_credential_headers() -> None:
    values = secret_values([("Authorization", "Bearer tok-12345"), ("X-Team", "blue-team")], "sk-abc")
    assert set(values) == {"sk-abc", "Bearer tok-12345", "tok-12345"}
    r = Redactor(values)
    assert r.text("got Bearer tok-12345 and tok-12345 and sk-abc") == (
        f"got {REDACTED} and {REDACTED} and {REDACTED}")
    assert r.error({"kind": "http_401", "message": "bad key sk-abc"})["message"] == f"bad key {REDACTED}"


def test_engine_template_credential_fields_are_secrets() -> None:
    values = secret_values([], None, TEMPLATE)
    assert set(values) == {"sk-live-777", "Bearer tok-999", "tok-999"}
    assert secret_values([], None, "not json") == []
    assert secret_values([], None, None) == []


def test_redact_template_keeps_placeholders_and_other_fields() -> None:
    redacted = orjson.loads(redact_template(TEMPLATE))
    assert redacted == {"message": "{message}", "session_id": "{session_id}", "api_key": REDACTED,
                        "auth": {"token": REDACTED, "user": "ann"}, "keys": ["{request_id}"], "n": 3}
    plain = '{"message": "{message}", "api_key": "{request_id}"}'  # a placeholder is not a secret
    assert redact_template(plain) == plain
    assert redact_template(None) is None


def test_redact_headers_keeps_ordinary_headers() -> None:
    assert redact_headers([("Authorization", "Bearer x"), ("X-Team", "blue")]) == {
        "Authorization": REDACTED, "X-Team": "blue"}


def test_a_nested_template_credential_is_redacted_in_place() -> None:
    assert redact_template('{"message": "{text}", "auth": {"api_key": "sk-123456"}}') == (
        '{"message":"{text}","auth":{"api_key":"[redacted]"}}')
    assert Redactor(["sk-123456"]).text("bad key sk-123456 given") == "bad key [redacted] given"


def test_a_tree_is_scrubbed_by_value_whatever_the_field_is_called() -> None:
    r = Redactor(["sk-live-777"])
    tree = {"headers": {"X-Forwarded-Client": "sk-live-777", "X-Team": "blue"},
            "sk-live-777": ["x sk-live-777 y", 3, None, ("sk-live-777",)], "n": 1.5}
    assert r.tree(tree) == {"headers": {"X-Forwarded-Client": REDACTED, "X-Team": "blue"},
                            REDACTED: [f"x {REDACTED} y", 3, None, [REDACTED]], "n": 1.5}


def test_a_tree_without_secrets_is_returned_as_is() -> None:
    tree = {"a": ("b",)}
    assert Redactor([]).tree(tree) is tree
