"""SSE parser: hand-written bytes, split at every offset, must give the same events."""

from __future__ import annotations

import itertools

import pytest

from suite.driver.sse import SSEEvent, SSEParser

OPENAI_STREAM = (
    b': keep-alive\n\n'
    b'data: {"id":"c1","choices":[{"delta":{"role":"assistant"}}]}\n\n'
    b'data: {"id":"c1","choices":[{"delta":{"content":"Hi \xc3\xa9"}}]}\n\n'
    b'event: error\ndata: {"error":{"message":"x"}}\n\n'
    b'data: first\ndata:second\ndata:  third\n\n'
    b'data: [DONE]\n\n'
)
EXPECTED = [
    ('{"id":"c1","choices":[{"delta":{"role":"assistant"}}]}', None),
    ('{"id":"c1","choices":[{"delta":{"content":"Hi é"}}]}', None),
    ('{"error":{"message":"x"}}', "error"),
    ("first\nsecond\n third", None),
    ("[DONE]", None),
]


def parse_pieces(pieces: list[bytes]) -> list[SSEEvent]:
    parser = SSEParser()
    out: list[SSEEvent] = []
    for i, piece in enumerate(pieces):
        out.extend(parser.feed(piece, now=float(i)))
    return out


def shape(events: list[SSEEvent]) -> list[tuple[str, str | None]]:
    return [(e.data, e.event) for e in events]


@pytest.mark.parametrize("sep", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_single_split_gives_the_same_events(sep: bytes) -> None:
    stream = OPENAI_STREAM.replace(b"\n", sep)
    assert shape(parse_pieces([stream])) == EXPECTED
    for cut in range(len(stream) + 1):
        assert shape(parse_pieces([stream[:cut], stream[cut:]])) == EXPECTED, cut


def test_every_pair_of_splits_of_a_crlf_stream() -> None:
    stream = b'data: {"a":1}\r\n\r\nevent: error\r\ndata: x\r\n\r\ndata: [DONE]\r\n\r\n'
    want = [('{"a":1}', None), ("x", "error"), ("[DONE]", None)]
    for i, j in itertools.combinations(range(len(stream) + 1), 2):
        assert shape(parse_pieces([stream[:i], stream[i:j], stream[j:]])) == want, (i, j)


def test_byte_by_byte() -> None:
    assert shape(parse_pieces([bytes([b]) for b in OPENAI_STREAM])) == EXPECTED


def test_event_time_is_the_feed_that_completed_it() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n", now=1.0) == []
    assert parser.feed(b"\ndata: b\n\n", now=2.5) == [SSEEvent("a", 2.5), SSEEvent("b", 2.5)]


def test_done_property_and_id_field() -> None:
    events = parse_pieces([b"id: 7\ndata: [DONE]\n\n"])
    assert events == [SSEEvent("[DONE]", 0.0, None, "7")]
    assert events[0].done


@pytest.mark.parametrize("stream", [
    b": only a comment\n\n",
    b"event: ping\n\n",
    b"retry: 100\nunknown: x\n\n",
], ids=["comment", "event-without-data", "unknown-fields"])
def test_blocks_without_data_dispatch_nothing(stream: bytes) -> None:
    assert parse_pieces([stream]) == []


def test_event_type_does_not_leak_into_the_next_event() -> None:
    assert shape(parse_pieces([b"event: error\ndata: a\n\ndata: b\n\n"])) == [("a", "error"), ("b", None)]


def test_bom_split_across_reads_and_a_bare_data_field() -> None:
    # a bare "data" line is a data field with an empty value: the spec dispatches it as ""
    assert shape(parse_pieces([b"\xef\xbb", b"\xbfdata\n\ndata:x\n\n"])) == [("", None), ("x", None)]
    assert shape(parse_pieces([b"\xef\xbb\xbfdata: x\n\n"])) == [("x", None)]


def test_trailing_event_without_blank_line_is_not_dispatched() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: [DONE]\n", now=0.0) == []
    assert parser.mid_event


def test_counts_bytes_fed() -> None:
    parser = SSEParser()
    parser.feed(b"data: a\n\n", 0.0)
    parser.feed(b"data", 0.0)
    assert parser.bytes_fed == 13


def test_crlf_split_by_an_empty_read_is_still_one_line_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: x\r", 0.0) == []
    assert parser.feed(b"", 1.0) == []
    assert parser.feed(b"\n", 2.0) == []  # the "\n" of "\r\n", not a blank line
    assert parser.feed(b"\r\n", 3.0) == [SSEEvent("x", 3.0)]


def test_module_doctests() -> None:
    import doctest

    import suite.driver.sse as sse

    assert doctest.testmod(sse).failed == 0
