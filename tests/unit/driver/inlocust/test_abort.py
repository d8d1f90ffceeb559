"""Abort rules: error-ratio window and health streak."""

from __future__ import annotations

from suite.driver.inlocust.abort import ErrorWindow, HealthStreak, aborted


def test_error_window_needs_enough_requests_before_judging() -> None:
    window = ErrorWindow(ratio=0.5, window_s=10.0, min_requests=4)
    assert [window.add(t, False) for t in (0.0, 1.0, 2.0)] == [None, None, None]
    assert window.add(3.0, False) == ("error ratio 1.00 over the last 10 s (4 of 4 requests failed) is "
                                      "above --abort-error-ratio 0.5")


def test_error_window_forgets_results_older_than_the_window() -> None:
    window = ErrorWindow(ratio=0.5, window_s=10.0, min_requests=4)
    for t in range(3):
        assert window.add(float(t), False) is None  # one more failure now would trip it...
    # ... but 20 s later those failures have left the window: 4 fresh successes, no abort
    assert [window.add(20.0 + t, True) for t in range(4)] == [None] * 4
    assert window.add(25.0, False) is None  # 1 of 5 failed


def test_ratio_at_the_threshold_does_not_trip() -> None:
    window = ErrorWindow(ratio=0.5, window_s=60.0, min_requests=2)
    assert window.add(0.0, True) is None
    assert window.add(1.0, False) is None  # 0.5 is not above 0.5


def test_health_streak_resets_on_success() -> None:
    streak = HealthStreak(limit=3)
    assert [streak.add(False), streak.add(False), streak.add(True), streak.add(False)] == [None] * 4
    assert streak.add(False) is None
    assert streak.add(False, "connection refused") == (
        "target health critical: 3 health checks failed in a row (last: connection refused)")


def test_aborted_is_the_run_json_contract() -> None:
    assert aborted("why", 12.5) == {"reason": "why", "at": 12.5}
