"""Open-loop schedules and lateness; merging shards after a run; duration parsing for the CLI."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from suite.cli_run import parse_duration
from suite.driver.collect import collect, merge_into_meta
from suite.driver.schedule import LagStats, lag_warning, offsets, percentile
from suite.errors import CorpusError, SpecError
from tests.unit.test_driver_feeder import req


def test_offsets_from_the_corpus_are_relative_to_its_first_request() -> None:
    corpus = [req(i) for i in range(3)]  # t = 0.0, 0.1, 0.2
    corpus = [type(r)(**{**r.to_dict(), "t": r.t + 5}) for r in corpus]  # type: ignore[operator]
    assert offsets(corpus) == pytest.approx([0.0, 0.1, 0.2])


def test_rate_overrides_constant_and_seeded_poisson() -> None:
    corpus = [req(i) for i in range(200)]
    assert offsets(corpus[:4], rate=4.0, arrival="constant") == [0.0, 0.25, 0.5, 0.75]
    a, b = offsets(corpus, 20.0, "poisson", seed=1), offsets(corpus, 20.0, "poisson", seed=1)
    assert a == b != offsets(corpus, 20.0, "poisson", seed=2)
    assert a[0] == 0.0 and all(y >= x for x, y in zip(a, a[1:], strict=False))
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
    assert stats.summary()["lag_p99_ms"] is None and lag_warning(stats.summary()) is None
    for ms in [1] * 98 + [80, 120]:
        stats.add(ms / 1000)
    stats.overflow = 3
    got = stats.summary()
    assert (got["lag_p50_ms"], got["lag_p99_ms"], got["lag_max_ms"]) == (1.0, 80.0, 120.0)
    assert got["behind_schedule"] and got["sent"] == 100
    assert lag_warning(got) == (
        "open loop fell behind schedule: lag p99 80.0 ms > 50 ms; 3 send(s) waited for a free slot "
        "(raise --max-concurrency). Latencies from t_start understate queueing; use the scheduled-time "
        "(corrected) figures, or add driver processes (--processes N).")
    assert percentile([], 50) is None and percentile([1.0, 2.0], 100) == 2.0


def _write(path: Path, rows: list[dict]) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def test_collect_checks_rule_1_over_all_shards_and_merges_counts(tmp_path: Path) -> None:
    _write(tmp_path / "requests.w0.jsonl", [{"id": "a", "t_start": 10.0, "scheduled": 10.0}])
    _write(tmp_path / "requests.w1.jsonl", [{"id": "b", "t_start": 10.2, "scheduled": 10.1},
                                            {"id": "a", "t_start": 11.0, "scheduled": 11.0}])
    for i, sent in enumerate((1, 2)):
        (tmp_path / f"run.w{i}.json").write_bytes(orjson.dumps(
            {"extra": {"sent": sent, "records": sent, "final": True, "shard": {"index": i},
                       "open_loop": {"overflow": i}}}))
    meta = {"extra": {"final": True, "load": {"mode": "open"}}}
    got = collect(tmp_path, meta, {"a", "b"}, lag_warn_ms=50.0)
    assert got.check.records == got.check.sent == 3 and got.check.duplicate_ids == ["a"]
    assert not got.check.complete and got.final
    merged = merge_into_meta(meta, got)["extra"]
    assert merged["sent"] == 3 and [w["sent"] for w in merged["workers"]] == [1, 2]
    assert merged["log_files"] == ["requests.w0.jsonl", "requests.w1.jsonl"]
    assert merged["open_loop"]["lag_max_ms"] == pytest.approx(100.0) and merged["open_loop"]["overflow"] == 1
    assert len(merged["warnings"]) == 1  # p99 100 ms > 50 ms


@pytest.mark.parametrize("raw, seconds", [("90", 90.0), ("30s", 30.0), ("5m", 300.0), ("1.5h", 5400.0),
                                          ("500ms", 0.5)])
def test_parse_duration(raw: str, seconds: float) -> None:
    assert parse_duration("--duration", raw) == seconds


def test_parse_duration_names_the_option() -> None:
    with pytest.raises(SpecError) as err:
        parse_duration("--warmup", "ten")
    assert str(err.value) == ("--warmup: 'ten' is not a duration; write seconds or a number with s, m, h or "
                              "ms, e.g. 90, 30s, 5m.")


def test_cli_run_doctests() -> None:
    import doctest

    import suite.cli_run as cli_run

    assert doctest.testmod(cli_run).failed == 0
