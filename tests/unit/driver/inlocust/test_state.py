"""One driver process's state without Locust: shares, warm-up marks, abort trips, run.json."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from suite.driver.control.config import DriverConfig
from suite.driver.control.loadopts import LoadOptions
from suite.driver.exchange.measure import Measured
from suite.driver.inlocust.state import DriverState, shard_paths
from suite.records import write_jsonl
from tests.unit.driver.inlocust.test_feeder import req

pytestmark = pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")


OK = Measured(ok=True, status=200, ttft=0.1, e2e=0.2, prompt_tokens=3, completion_tokens=4, cache="hit")


FAIL = Measured(status=503, e2e=0.01, error={"kind": "http_503", "message": "down"})


def state_for(tmp_path: Path, load: LoadOptions, n: int = 6) -> DriverState:
    corpus = tmp_path / "c.jsonl"
    write_jsonl(corpus, [req(i).to_dict() for i in range(n)])
    run = tmp_path / "run"
    config = DriverConfig(corpus=corpus, out=run / "requests.jsonl", run_meta=run / "run.json",
                          run_id="r", load=load)
    run.mkdir(exist_ok=True)
    return DriverState(config, "http://127.0.0.1:9/")


def test_a_worker_takes_its_share_and_writes_its_own_shard(tmp_path: Path) -> None:
    state = state_for(tmp_path, LoadOptions(mode="open", rate=10.0, arrival="constant"))
    state.assign(1, 2, t0=1000.0)
    assert [r.id for r in state.feeder.requests] == ["q1", "q3", "q5"]
    assert state.due == [1000.1, 1000.3, 1000.5]  # the whole corpus's schedule, this share's slots
    assert state.writer is not None
    assert state.writer.path == shard_paths(state.config, 1)[0]
    assert state.writer.path.name == "requests.w1.jsonl"
    assert state.meta_path.name == "run.w1.json"
    first = state.writer
    state.assign(0, 2)  # a restarted test keeps the share and the log
    assert state.writer is first
    state.close()


def test_records_carry_warmup_and_lateness_and_run_json_the_totals(tmp_path: Path) -> None:
    state = state_for(tmp_path, LoadOptions(mode="open", rate=10.0, warmup_s=1.0))
    state.assign(None, 1, t0=100.0)
    for t_start in (100.5, 101.5):
        request = state.feeder.take()
        assert request is not None
        rec = state.record(request, OK, user=0, t_start=t_start, scheduled=t_start - 0.002)
        state.feeder.done()
        assert rec.warmup is (t_start < 101.0)
        assert rec.scheduled == pytest.approx(t_start - 0.002)
    state.close()
    meta = orjson.loads(state.meta_path.read_bytes())["extra"]
    assert (meta["sent"], meta["records"], meta["final"]) == (2, 2, True)
    assert meta["ended_by"] == "process exit before test stop"  # no test_stop in this test
    assert meta["open_loop"]["lag_max_ms"] == pytest.approx(2.0)
    assert "warnings" not in meta
    lines = state.config.out.read_bytes().splitlines()
    assert [orjson.loads(line)["warmup"] for line in lines] == [True, False]


def test_an_error_ratio_trips_once_and_warmup_failures_do_not_count(tmp_path: Path) -> None:
    load = LoadOptions(abort_error_ratio=0.5, abort_min_requests=3, warmup_s=1.0)
    state = state_for(tmp_path, load, n=6)
    state.assign(None, 1, t0=0.0)
    for t_start in (0.1, 0.2, 0.3, 2.0, 2.1):  # three failures in the warm-up, ignored
        state.record(state.feeder.take(), FAIL, user=0, t_start=t_start)  # type: ignore[arg-type]
    assert state.abort_reason is None
    state.record(state.feeder.take(), FAIL, user=0, t_start=2.2)  # type: ignore[arg-type]
    assert state.abort_reason is not None
    assert state.abort_reason.startswith("error ratio 1.00")
    state.mark_aborted(state.abort_reason, at=5.0)
    state.mark_aborted("a second reason", at=6.0)  # the first reason stays
    assert state.meta.extra["aborted"] == {"reason": state.abort_reason, "at": 5.0}
    state.close()
