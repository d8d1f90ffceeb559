"""An incremental Server-Sent Events parser: bytes in, events out, no I/O (h11 style).

The driver feeds it whatever the socket gave (one line, half an event, ten events) together with
the ``time.perf_counter()`` stamp of that read; each completed event carries the stamp of the read
that completed it, which is what TTFT and ITL are measured from.

Rules kept here, from the WHATWG ``text/event-stream`` format:

- a line ends at ``\\r\\n``, ``\\n`` or ``\\r``; a blank line dispatches the event;
- ``data:`` lines accumulate, joined by ``\\n``; one space after the colon is dropped;
- a line starting with ``:`` is a comment; unknown fields are ignored;
- an event with no ``data`` line is not dispatched; a trailing event without its blank line is
  never dispatched (the stream ended mid-event).

So ``feed(b'data: {"a": 1}\\n', now=1.0)`` completes nothing, and a following
``feed(b'\\ndata: [DONE]\\n\\n', now=2.0)`` completes both events, each stamped 2.0.
"""

from __future__ import annotations

from typing import NamedTuple

DONE = "[DONE]"
_BOM = b"\xef\xbb\xbf"


class SSEEvent(NamedTuple):
    """One dispatched event. ``t`` is the clock value passed to the ``feed`` that completed it.

    A NamedTuple rather than a frozen dataclass: one is built per token, and a frozen dataclass's
    ``__init__`` costs several times more.
    """

    data: str
    t: float
    event: str | None = None
    id: str | None = None

    @property
    def done(self) -> bool:
        """OpenAI-style end-of-stream sentinel."""
        return self.data == DONE


class SSEParser:
    """Feed bytes as they arrive; get back the events they completed."""

    __slots__ = ("_pending", "_skip_lf", "_data", "_event", "_id", "_started", "bytes_fed")

    def __init__(self) -> None:
        self._pending = b""
        self._skip_lf = False
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._started = False
        self.bytes_fed = 0

    @property
    def mid_event(self) -> bool:
        """True when bytes of an undispatched event are buffered (a cut stream leaves this set)."""
        return bool(self._pending.strip() or self._data)

    def feed_data(self, data: bytes) -> list[bytes] | None:
        """The hot path of a typical stream: when every event completed by ``data`` is one
        ``data: X`` line (LF endings), return the raw ``X`` of each, undecoded — they all carry
        this read's stamp, which the caller holds; an unfinished event after them is kept for
        the next read. Otherwise return None having consumed nothing: call ``feed`` with the
        same bytes. Saves an ``SSEEvent`` and a str per event; orjson parses the bytes as they
        are."""
        if self._data or self._event is not None or self._skip_lf or b"\r" in data:
            return None
        buf = self._pending + data if self._pending else data
        end = buf.rfind(b"\n\n") + 2
        if end < 2 or buf[:6] != b"data: ":  # no event completed; a comment, a BOM, ...
            return None
        # one split at "\n\ndata: " (C code); the newline count proves there were no others,
        # i.e. every event was exactly one "data: X" line
        out = buf[6:end - 2].split(b"\n\ndata: ")
        if buf.count(b"\n", 0, end) != 2 * len(out):
            return None
        self._pending = buf[end:]  # raw bytes of an unfinished event: re-parsed with the next read
        self._started = True
        self.bytes_fed += len(data)
        return out

    def feed(self, data: bytes, now: float) -> list[SSEEvent]:
        self.bytes_fed += len(data)
        buf = self._pending + data if self._pending else data
        if not self._started:
            if len(buf) < len(_BOM) and _BOM.startswith(buf):
                self._pending = buf
                return []
            self._started = True
            buf = buf.removeprefix(_BOM)
        if self._skip_lf and buf[:1] == b"\n":
            buf = buf[1:]  # second half of a "\r\n" whose "\r" ended the previous read
            self._skip_lf = False
        if not buf:
            return []
        if self._data or self._event is not None or b"\r" in buf:
            return self._lines(buf, now)
        # Fast path (LF-only stream, no event half-read): most events are one "data: X" line, so
        # split at blank lines and take such blocks whole; anything else goes line by line.
        blocks = buf.split(b"\n\n")
        tail = blocks.pop()  # after the last blank line: an unfinished event, or b""
        # one count over the buffer instead of a search per block: every block is one line
        # when the only "\n"s are the blank-line separators (and the tail's own)
        one_line = buf.count(b"\n") == 2 * len(blocks) + tail.count(b"\n")
        events: list[SSEEvent] = []
        rid = self._id
        for block in blocks:
            if block[:6] == b"data: " and (one_line or b"\n" not in block):
                events.append(SSEEvent(block[6:].decode("utf-8", "replace"), now, None, rid))
            else:
                events.extend(self._lines(block + b"\n\n", now))
                rid = self._id
        self._pending = b""
        self._skip_lf = False
        if tail:
            events.extend(self._lines(tail, now))
        return events

    def _lines(self, buf: bytes, now: float) -> list[SSEEvent]:
        """The general path: line by line, any line ending, state kept across reads."""
        lines = buf.splitlines()  # splits at \r\n, \n and \r only (bytes), endings removed
        last = buf[-1]
        # A bare "\r" ends a line at once (no waiting for a possible "\n"); the last piece is
        # kept for the next read only when it has no line ending at all.
        if last != 0x0A and last != 0x0D:
            self._pending = lines.pop()
        else:
            self._pending = b""
        self._skip_lf = last == 0x0D
        events: list[SSEEvent] = []
        for line in lines:  # dispatch and "data: " are inlined
            if not line:
                data = self._data
                if data:
                    events.append(SSEEvent(data[0] if len(data) == 1 else "\n".join(data), now,
                                           self._event, self._id))
                    self._data = []
                self._event = None
            elif line[:6] == b"data: ":
                self._data.append(line[6:].decode("utf-8", "replace"))
            else:
                self._line(line)
        return events

    def _line(self, line: bytes) -> None:
        if line[0] == 0x3A:  # ":" comment / keep-alive
            return
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value.decode("utf-8", "replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            self._id = value.decode("utf-8", "replace")
