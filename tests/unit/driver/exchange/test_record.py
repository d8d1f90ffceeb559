"""Record building and serialization, exception kinds, and the completeness check (Rule 1)."""

from __future__ import annotations

from dataclasses import fields

import orjson
import pytest

from suite.driver.exchange.measure import Measured
from suite.driver.exchange.record import build_record, check_log, classify_exception
from suite.records import MEASURED_FIELDS, CorpusRequest, RequestRecord


def corpus_request(i: int, repeat_of: str | None = None) -> CorpusRequest:
    return CorpusRequest(id=f"r{i}", t=None, session=f"s{i}", turn=0, model="gpt-4o",
                         messages=[{"role": "user", "content": f"q{i}"}], max_tokens=16,
                         temperature=0.0, stream=True, prompt_tokens=9, domain="d", intent="i",
                         key=f"k{i}", repeat_of=repeat_of)


class GreenletExit(BaseException):
    """Stands in for gevent's (matched by class name, so the driver's pure code needs no gevent)."""


class HTTPParseError(Exception):
    pass


class RetriesExceeded(Exception):
    def __init__(self, original: BaseException) -> None:
        super().__init__("URL x: retries exceeded")
        self.original = original


def lines(*ids: str) -> list[bytes]:
    return [orjson.dumps({"id": i}) for i in ids]


@pytest.mark.parametrize("exc, kind", [
    (ConnectionRefusedError(111, "Connection refused"), "connect"),
    (OSError(101, "Network is unreachable"), "connect"),
    (TimeoutError("timed out"), "timeout"),
    (ConnectionResetError(104, "Connection reset by peer"), "connection_closed"),
    (BrokenPipeError(32, "Broken pipe"), "connection_closed"),
    (HTTPParseError("Incomplete response."), "connection_closed"),
    (GreenletExit(), "cancelled"),
    (RetriesExceeded(TimeoutError("timed out")), "timeout"),
    (ValueError("bug"), "client"),
])
def test_classify_exception(exc: BaseException, kind: str) -> None:
    assert classify_exception(exc)["kind"] == kind


def test_classify_message_names_the_exception() -> None:
    assert classify_exception(ConnectionRefusedError(111, "Connection refused")) == {
        "kind": "connect", "message": "ConnectionRefusedError: [Errno 111] Connection refused"}
    assert classify_exception(GreenletExit()) == {"kind": "cancelled", "message": "GreenletExit"}


def test_build_record_joins_request_and_measurement() -> None:
    m = Measured(ok=True, status=200, ttft=0.1, e2e=0.5, itl=[0.01], prompt_tokens=9,
                 completion_tokens=5, tokens_source="usage", cache="hit", cached_tokens=0,
                 response_id="c1")
    rec = build_record(corpus_request(3, repeat_of="r1"), m, target="http://127.0.0.1:1",
                       worker="h:1", user=2, t_start=1700000000.0)
    d = rec.to_dict()
    assert set(d) == {f.name for f in fields(RequestRecord)}
    assert d["id"] == "r3"
    assert d["repeat"] is True
    assert d["stream"] is True
    assert d["scheduled"] is None
    assert (d["ttft"], d["e2e"], d["itl"], d["cache"], d["ok"]) == (0.1, 0.5, [0.01], "hit", True)
    assert build_record(corpus_request(1), m, target="t", worker="w", user=0, t_start=0).repeat is False


def test_check_log_complete() -> None:
    check = check_log(lines("a", "b", "c") + [b""], sent=3, corpus_ids={"a", "b", "c", "d"})
    assert check.complete
    assert check.records == 3
    assert check.problems() == []


@pytest.mark.parametrize("log, sent, problem", [
    (lines("a", "b"), 3, "3 request(s) sent but 2 record(s) written"),
    (lines("a", "a", "b"), 3, "1 id(s) recorded twice, e.g. a"),
    ([*lines("a"), b"{trunc", b'{"no": "id"}'], 1, "2 malformed line(s), first at line 2"),
    (lines("a", "zz"), 2, "1 id(s) not in the corpus, e.g. zz"),
], ids=["lost", "duplicate", "malformed", "unknown"])
def test_check_log_names_each_breach(log: list[bytes], sent: int, problem: str) -> None:
    check = check_log(log, sent=sent, corpus_ids={"a", "b", "c"})
    assert not check.complete
    assert problem in check.problems()


def test_check_log_without_sent_count_checks_shape_only() -> None:
    assert check_log(lines("a", "b"), sent=None).complete


def test_record_line_is_the_sorted_json_of_every_field() -> None:
    from suite.driver.exchange.record import record_line
    from suite.records import RequestRecord, dumps_line

    rec = RequestRecord(id="q1", model="gpt-4o", target="http://t", worker="w", user=3,
                        t_start=1.7e9, scheduled=1.7e9, ttft=0.2, e2e=0.5, itl=[0.01, 0.02],
                        prompt_tokens=9, completion_tokens=16, tokens_source="usage", status=200,
                        ok=True, error=None, cache="miss", cached_tokens=0, response_id="c1",
                        repeat=False, stream=True, completion_tokens_tiktoken=15, chunks=16,
                        warmup=True)
    assert record_line(rec) == dumps_line(rec.to_dict())


def test_build_record_copies_every_measured_field() -> None:
    """A measured field added to suite.records must reach the record: each gets its own value."""
    values = {name: f"v-{name}" for name in MEASURED_FIELDS}
    rec = build_record(corpus_request(1), Measured(**values), target="t", worker="w", user=0,
                       t_start=1.0)
    assert {name: getattr(rec, name) for name in MEASURED_FIELDS} == values
