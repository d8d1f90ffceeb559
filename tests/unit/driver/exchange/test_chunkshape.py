"""Parse-free reads of repeated chunk shapes: exact, or declined."""

from __future__ import annotations

import pytest

import suite.driver.exchange.measure as measure
from suite.driver.exchange.chunkshape import learn
from suite.driver.exchange.measure import StreamAccumulator
from suite.driver.exchange.targets import TargetOptions, build_target

CHAT = build_target(TargetOptions())


HEAD = b'{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,'


def chunk(content: bytes, finish: bytes = b"null") -> bytes:
    return HEAD + b'"delta":{"content":' + content + b'},"finish_reason":' + finish + b"}]}"


STREAM = [
    chunk(b'""').replace(b'"delta":{', b'"delta":{"role":"assistant",'),
    chunk(b'"Hello"').replace(b'"delta":{', b'"delta":{"role":"assistant",'),
    chunk(b'" wor"'), chunk(b'"ld \\"q\\""'), chunk(b'"caf\xc3\xa9"'), chunk(b'"\\n"'), chunk(b'""'),
    chunk(b'"!"'), chunk(b"null", b'"stop"'),
    b'{"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":6}}', b"[DONE]",
]


def test_a_learned_shape_reads_plain_strings_and_declines_the_rest() -> None:
    shape = learn(chunk(b'"Hi"'), "Hi", CHAT.piece)
    assert shape is not None
    assert shape.text(chunk(b'" there"')) == " there"
    assert shape.text(chunk(b'"caf\xc3\xa9"')) == "café"
    assert shape.text(chunk(b'""')) == ""
    for other in (chunk(b'"a\\"b"'), chunk(b'"a\\nb"'), chunk(b'"a\x01b"'), chunk(b'"\xff"'),
                  chunk(b'"a","x":"b"'), chunk(b"null"), chunk(b'"a"', b'"stop"'),
                  chunk(b'"a"').replace(b'"c1"', b'"c2"'), b"[DONE]", b'"'):
        assert shape.text(other) is None, other


@pytest.mark.parametrize("raw, content", [
    (chunk(b'"\\u0048i"'), "Hi"),                          # written with an escape: not found
    (chunk(b'"Hi"', b'"stop"'), "Hi"),                     # a finish reason
    (chunk(b'"Hi"')[:-1] + b',"usage":{"completion_tokens":1}}', "Hi"),
    (chunk(b'"Hi"')[:-1] + b',"error":{"message":"x"}}', "Hi"),
    (b'{"model":"Hi","choices":[{"delta":{"content":"Hi"}}]}', "Hi"),  # first "Hi" is not it
])
def test_no_shape_is_learned_when_it_cannot_be_proved(raw: bytes, content: str) -> None:
    assert learn(raw, content, CHAT.piece) is None


@pytest.mark.parametrize("bad", [None, chunk(b'"a\x01"'), chunk(b'"\xff\xfe"'), chunk(b'"a"')[:-1],
                                 chunk(b'"a"')[:-1] + b',"error":{"message":"boom"}}'])
def test_a_stream_measures_the_same_with_and_without_shapes(bad: bytes | None,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Read after read, a shape on and off: every measured field is the same."""
    payloads = [*STREAM[:5], bad, *STREAM[5:]] if bad is not None else STREAM
    results = []
    for tries in (0, 2, 5):
        monkeypatch.setattr(measure, "_LEARN_TRIES", tries)
        acc = StreamAccumulator(0.0, "gpt-4o", 3)
        for i, raw in enumerate(payloads):
            if not acc.add_raw([raw], 1.0 + i):
                break
        m = acc.finish(20.0)
        results.append((m.ok, m.error, m.text, m.chunks, m.ttft, m.itl, m.completion_tokens,
                        m.tokens_source, m.response_id))
        if tries and bad is None:
            assert acc.shape is not None
    assert results[0] == results[1] == results[2]
    if bad is None:
        assert results[0][:4] == (True, None, 'Hello world "q"café\n!', 6)
