"""The SSE parser: byte splits, line endings, fields, and its fast paths."""

from __future__ import annotations

import itertools

import pytest

from suite.driver.exchange.sse import SSEEvent, SSEParser

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


def _measured_at_every_split(stream: bytes, kind: str) -> set[tuple[object, ...]]:
    from suite.driver.exchange.measure import StreamAccumulator
    from suite.driver.exchange.targets import TargetOptions, build_target

    target = build_target(TargetOptions(kind=kind))
    seen = set()
    for cut in range(len(stream) + 1):
        parser, acc = SSEParser(), StreamAccumulator(0.0, "gpt-4o", 3, target=target)
        for piece in (stream[:cut], stream[cut:]):
            if piece:  # as the exchange reads: raw fast path when the read allows, else general
                acc.add_read(parser, piece, 1.0)
        if not parser.mid_event:
            acc.ended()
        m = acc.finish(2.0)
        seen.add((m.ok, m.text, m.chunks, m.response_id, m.completion_tokens, m.tokens_source))
    return seen


def parse_as_the_exchange(pieces: list[bytes]) -> list[tuple[str, str | None]]:
    """Raw fast path when a read allows it, else the general path — as StreamAccumulator.add_read."""
    parser, out = SSEParser(), []
    for piece in pieces:
        raw = parser.feed_data(piece)
        if raw is None:
            out.extend(shape(parser.feed(piece, now=0.0)))
        else:
            out.extend((r.decode(), None) for r in raw)
    return out


MIXED_STREAM = (b'data: {"a":1}\n\ndata: {"b":2}\n\n: ping\n\ndata: x\n\nevent: error\ndata: e\n\n'
                b'data: two\ndata: lines\n\nid: 3\ndata: y\n\ndata: \xc3\xa9\n\ndata: [DONE]\n\n')


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


def test_a_chat_stream_measures_the_same_at_every_split() -> None:
    """Multi-byte UTF-8 ("é" is 2 bytes, "🙂" 4) split at every offset still decodes whole."""
    stream = (b'data: {"id":"c9","choices":[{"delta":{"content":"caf\xc3\xa9 "}}]}\n\n'
              b'data: {"id":"c9","choices":[{"delta":{"content":"\xf0\x9f\x99\x82"}}]}\n\n'
              b'data: {"id":"c9","choices":[{"delta":{},"finish_reason":"stop"}]}\n\n'
              b'data: {"id":"c9","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'
              b"data: [DONE]\n\n")
    assert _measured_at_every_split(stream, "openai-chat") == {
        (True, "café 🙂", 2, "c9", 2, "usage")}


def test_an_engine_stream_measures_the_same_at_every_split() -> None:
    stream = (b'data: {"response": "Hel", "session_id": "s"}\r\n\r\n'
              b'data: {"response": "lo", "session_id": "s"}\r\n\r\n')  # no [DONE]: ends at EOF
    [(ok, text, chunks, _, _, source)] = _measured_at_every_split(stream, "engine")
    assert (ok, text, chunks, source) == (True, "Hello", 2, "tiktoken")


@pytest.mark.parametrize("pieces, want", [
    ([b"data: a\r\r", b"data: b\n\n", b"data: c\n", b"\n"], ["a", "b", "c"]),
    ([b"data: a\n\n\n\ndata: b\n\n"], ["a", "b"]),                    # extra blank lines
    ([b"data: a\n\n: ping\n\ndata: b\ndata: c\n\n"], ["a", "b\nc"]),  # comment, two data lines
    ([b"data: a\n\nid: 4\ndata: b\n\ndata: c\n\n"], ["a", "b", "c"]),
    ([b"data: a\n\nevent: error\ndata: x\n\ndata: b\n\n"], ["a", "x", "b"]),
])
def test_fast_and_general_paths_agree(pieces: list[bytes], want: list[str]) -> None:
    assert [e.data for e in parse_pieces(pieces)] == want
    joined = b"".join(pieces)
    assert [e.data for e in parse_pieces([bytes([b]) for b in joined])] == want


def test_the_last_event_id_carries_over_on_the_fast_path() -> None:
    events = parse_pieces([b"id: 4\ndata: a\n\ndata: b\n\n"])
    assert [(e.data, e.id) for e in events] == [("a", "4"), ("b", "4")]
    assert parse_pieces([b"event: error\ndata: x\n\ndata: y\n\n"])[1].event is None


@pytest.mark.parametrize("read, raw", [
    (b'data: {"a":1}\n\ndata: [DONE]\n\n', [b'{"a":1}', b"[DONE]"]),
    (b"data: x\n\n", [b"x"]),
    (b"data: \n\n", [b""]),
    (b"data: a\n\ndata: b\n", [b"a"]),        # the last event is not complete yet: kept
    (b"data: a", None),                       # no event complete
    (b"data: a\ndata: b\n\n", None),          # two data lines in one event
    (b"data: a\n\n\n\ndata: b\n\n", None),    # an extra blank line
    (b"data: a\n\n: ping\n\n", None),         # a comment
    (b"data: a\n\nid: 4\ndata: b\n\n", None),  # another field
    (b"data: a\r\n\r\n", None),               # CRLF
    (b"data:a\n\n", None),                    # no space after the colon
    (b"\xef\xbb\xbfdata: a\n\n", None),       # a BOM
])
def test_feed_data_takes_only_whole_one_line_events(read: bytes, raw: list[bytes] | None) -> None:
    """The raw fast path answers only when it is exactly right, and consumes nothing otherwise."""
    parser = SSEParser()
    assert parser.feed_data(read) == raw
    if raw is None:
        assert parser.bytes_fed == 0
        assert not parser.mid_event
        assert [e.data.encode() for e in parser.feed(read, 1.0)] == [
            e.data.encode() for e in SSEParser().feed(read, 1.0)]


def test_feed_data_keeps_an_unfinished_event_for_the_next_read() -> None:
    parser = SSEParser()
    assert parser.feed_data(b"data: a\n\ndata: b") == [b"a"]
    assert parser.mid_event
    assert parser.feed_data(b"\n\ndata: c\n\nda") == [b"b", b"c"]
    assert [e.data for e in parser.feed(b"ta: d\nid: 7\n\n", 2.0)] == ["d"]  # general path
    assert parser.feed(b"data: e\n", 3.0) == []
    assert parser.feed_data(b"\n") is None  # an event half-parsed by the general path
    assert parser.feed_data(b"data: f\n\n") is None
    assert [e.data for e in parser.feed(b"\ndata: f\n\n", 4.0)] == ["e", "f"]
    assert parser.feed_data(b"data: g\n\n") == [b"g"]
    assert not parser.mid_event
    assert parser.bytes_fed == len(b"data: a\n\ndata: b\n\ndata: c\n\ndata: d\nid: 7\n\n"
                                   b"data: e\n\ndata: f\n\ndata: g\n\n")


@pytest.mark.parametrize("stream", [MIXED_STREAM, OPENAI_STREAM.replace(b"\n", b"\r\n")],
                         ids=["LF", "CRLF"])
def test_fast_and_general_paths_mixed_agree_at_every_pair_of_splits(stream: bytes) -> None:
    want = shape(parse_pieces([stream]))
    for i, j in itertools.combinations(range(len(stream) + 1), 2):
        assert parse_as_the_exchange([stream[:i], stream[i:j], stream[j:]]) == want, (i, j)


def test_an_event_completed_by_a_later_read_carries_that_read_s_stamp() -> None:
    parser = SSEParser()
    assert parser.feed(b'data: {"a": 1}\n', now=1.0) == []
    assert parser.feed(b"\ndata: [DONE]\n\n", now=2.0) == [SSEEvent('{"a": 1}', 2.0), SSEEvent("[DONE]", 2.0)]
