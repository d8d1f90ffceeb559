"""A distributed run whose workers shipped their records to the master (suite.driver.inlocust.shiplink):
what the master's folder says about a worker that vanished, or could not finish shipping."""

from __future__ import annotations

from pathlib import Path

import orjson

from suite.driver.control.collect import collect, merge_into_meta, partial_mark


def _meta(index: int, *, final: bool, sent: int, records: int, shipped: int) -> bytes:
    return orjson.dumps({"extra": {"shard": {"index": index}, "worker": f"h{index}:1", "final": final,
                                   "sent": sent, "records": records, "in_flight": sent - records,
                                   "reported_at": 5.0, "shipping": {"records": shipped}}})


def _setup(tmp_path: Path) -> None:
    (tmp_path / "requests.w0.jsonl").write_bytes(b'{"id": "a"}\n{"id": "b"}\n')
    (tmp_path / "run.w0.json").write_bytes(_meta(0, final=True, sent=2, records=2, shipped=2))
    (tmp_path / "requests.w1.jsonl").write_bytes(b'{"id": "c"}\n')  # it had flushed 3, sent 5
    (tmp_path / "run.w1.json").write_bytes(_meta(1, final=False, sent=5, records=3, shipped=1))


def test_a_vanished_shipping_worker_is_named_with_what_it_sent_flushed_and_shipped(tmp_path: Path) -> None:
    _setup(tmp_path)
    got = collect(tmp_path, {"extra": {}}, {"a", "b", "c", "d", "e", "f"}, 100.0)
    assert got.check.complete and got.check.sent == got.check.records == 3  # what reached the master
    (lost,) = got.lost
    assert lost == {"index": 1, "worker": "h1:1", "records": 1, "sent": 5, "in_flight": 2,
                    "in_flight_ids": [], "noticed_at": None, "flushed": 3, "shipped": 1,
                    "reported_at": 5.0, "in_flight_unrecorded": None}  # written before ids were reported
    mark = partial_mark(None, got.lost)
    assert mark is not None
    assert mark["reason"] == (
        "worker 1 (h1:1) vanished mid-run (or could not finish shipping): when last heard from it had "
        "sent 5 request(s) and flushed 3 record(s); 1 record(s) reached the master and are kept here, "
        "the rest stay in requests.w1.jsonl on its host; its unsent share was not replayed")
    workers = merge_into_meta({"extra": {"final": True}}, got)["extra"]["workers"]
    assert workers[0]["shipped"] == 2 and "lost" not in workers[0]
    assert workers[1] | {"shard": None} == {"shard": None, "worker": "h1:1", "sent": 1, "records": 1,
                                            "shipped": 1, "lost": True, "in_flight": 2,
                                            "sent_reported": 5, "flushed": 3}


def test_a_worker_that_ended_but_did_not_drain_is_treated_as_lost(tmp_path: Path) -> None:
    _setup(tmp_path)
    (tmp_path / "run.w1.json").write_bytes(_meta(1, final=True, sent=3, records=3, shipped=1))
    master = {"extra": {"shipping": {"not_drained": [1]}}}
    got = collect(tmp_path, master, {"a", "b", "c"}, 100.0)
    assert [w["index"] for w in got.lost] == [1] and got.check.complete  # not "sent 5, recorded 3"
    assert collect(tmp_path, {"extra": {}}, {"a", "b", "c"}, 100.0).check.complete is False


def test_a_vanished_shipping_worker_s_requests_in_flight_that_never_came_are_named(tmp_path: Path) -> None:
    _setup(tmp_path)
    meta = orjson.loads((tmp_path / "run.w1.json").read_bytes())
    meta["extra"]["in_flight_ids"] = ["c", "e", "f"]  # "c" was in flight then, and its record came
    meta["extra"]["in_flight"] = 3
    (tmp_path / "run.w1.json").write_bytes(orjson.dumps(meta))
    got = collect(tmp_path, {"extra": {}}, {"a", "b", "c", "d", "e", "f"}, 100.0)
    (lost,) = got.lost
    assert (lost["in_flight_ids"], lost["in_flight_unrecorded"]) == (["e", "f"], 2)
    mark = partial_mark(None, got.lost)
    assert mark is not None
    assert ("flushed 3 record(s), and 2 of the 3 request(s) it then had in flight (e, f) never reached "
            "the master; 1 record(s) reached the master") in mark["reason"]
