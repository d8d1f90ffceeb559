"""Open-loop schedules and lateness."""

from __future__ import annotations

import pytest

from suite.driver.control.schedule import LagStats, lag_warning, offsets, percentile
from suite.errors import CorpusError, SpecError
from tests.unit.driver.inlocust.test_feeder import req


def test_offsets_from_the_corpus_are_relative_to_its_first_request() -> None:
    corpus = [req(i) for i in range(3)]  # t = 0.0, 0.1, 0.2
    corpus = [type(r)(**{**r.to_dict(), "t": r.t + 5}) for r in corpus]  # type: ignore[operator]
    assert offsets(corpus) == pytest.approx([0.0, 0.1, 0.2])


def test_rate_overrides_constant_and_seeded_poisson() -> None:
    corpus = [req(i) for i in range(200)]
    assert offsets(corpus[:4], rate=4.0, arrival="constant") == [0.0, 0.25, 0.5, 0.75]
    a, b = offsets(corpus, 20.0, "poisson", seed=1), offsets(corpus, 20.0, "poisson", seed=1)
    assert a == b != offsets(corpus, 20.0, "poisson", seed=2)
    assert a[0] == 0.0
    assert all(y >= x for x, y in zip(a, a[1:], strict=False))
    assert 199 / a[-1] == pytest.approx(20.0, rel=0.25)  # mean rate close to the asked one


def test_open_loop_without_arrival_times_says_how_to_fix_it() -> None:
    corpus = [type(r)(**{**r.to_dict(), "t": None}) for r in (req(0), req(1))]
    with pytest.raises(CorpusError) as err:
        offsets(corpus)
    assert str(err.value) == ("open loop needs arrival times, but 2 corpus request(s) have t=null (e.g. q0). "
                              "Pass --rate R, or synthesize with --arrival poisson:R.")
    with pytest.raises(SpecError, match="rate: -1.0 is not valid"):
        offsets(corpus, rate=-1.0)


def test_lag_stats_and_the_warning() -> None:
    stats = LagStats(warn_ms=50.0)
    assert stats.summary()["lag_p99_ms"] is None
    assert lag_warning(stats.summary()) is None
    for ms in [1] * 98 + [80, 120]:
        stats.add(ms / 1000)
    stats.overflow = 3
    got = stats.summary()
    assert (got["lag_p50_ms"], got["lag_p99_ms"], got["lag_max_ms"]) == (1.0, 80.0, 120.0)
    assert got["behind_schedule"]
    assert got["sent"] == 100
    assert lag_warning(got) == (
        "open loop fell behind schedule: lag p99 80.0 ms > 50 ms; 3 send(s) waited for a free slot "
        "(raise --max-concurrency). Latencies from t_start understate queueing; use the scheduled-time "
        "(corrected) figures, or add driver processes (--processes N).")
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0], 100) == 2.0


def test_an_empty_corpus_has_an_empty_schedule() -> None:
    assert offsets([], rate=2.0, arrival="constant") == []
    assert offsets([]) == []
