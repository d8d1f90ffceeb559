"""Connect-error backoff: doubles per consecutive refusal, capped, reset by any other outcome."""

from __future__ import annotations

from suite.driver.inlocust.backoff import ConnectBackoff


def test_consecutive_refusals_double_the_pause_up_to_the_cap() -> None:
    b = ConnectBackoff(base_s=0.05, cap_s=0.3)
    assert [b.observe("connect") for _ in range(5)] == [0.05, 0.1, 0.2, 0.3, 0.3]


def test_any_other_outcome_resets_it() -> None:
    b = ConnectBackoff(base_s=0.05, cap_s=2.0)
    b.observe("connect")
    b.observe("connect")
    assert b.observe(None) == 0.0
    assert b.observe("http_500") == 0.0
    assert b.observe("connect") == 0.05
