"""Read a stream's content chunks without parsing them, when they repeat one learned shape.

A streaming server sends its content chunks with the same bytes around the text — same id,
model, created, index, ``"finish_reason":null`` — only the content string differs. Once one
chunk has been parsed, the bytes before and after its content string (``ChunkShape``) let the
next ones be read by two comparisons and a scan instead of a JSON parse, a dict per token and a
walk to ``choices[0].delta.content``.

Exactness: a shape is kept only after a probe — the learned bytes around another string,
parsed by orjson — proves that the content slot is exactly there and that the rest of the chunk
carries no error, no usage and no finish reason. A chunk then matches only when it is those
bytes around one plain JSON string (no escape, no quote, no control character, valid UTF-8);
replacing one string token by another changes nothing else in a JSON document, so its content
is the string's bytes decoded, exactly what a parse would give. Anything else — a finish or
usage chunk, an escape, a different id — is parsed as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

_PROBE = "shape probe"
_NOT_PLAIN = re.compile(rb'["\\\x00-\x1f]').search  # what a plain string's bytes never contain


class ChunkShape:
    """The bytes before (``pre``) and after (``suf``) the content string of a chunk."""

    __slots__ = ("pre", "suf", "lp", "ls", "size")

    def __init__(self, pre: bytes, suf: bytes) -> None:
        self.pre, self.suf, self.lp, self.ls = pre, suf, len(pre), len(suf)
        self.size = self.lp + self.ls + 2  # the shortest match: an empty string

    def text(self, raw: bytes) -> str | None:
        """The content of ``raw`` when it is this shape around a plain string, else None."""
        lp, ls = self.lp, self.ls
        if len(raw) < self.size or raw[:lp] != self.pre or raw[-ls:] != self.suf \
                or raw[lp] != 0x22 or raw[-ls - 1] != 0x22:
            return None
        mid = raw[lp + 1:-ls - 1]
        if _NOT_PLAIN(mid) is not None:
            return None
        try:
            return mid.decode()
        except UnicodeDecodeError:  # let the parser reject it
            return None


def learn(raw: bytes, content: str, piece: Callable[[Any], tuple[str | None, bool]]) -> ChunkShape | None:
    """The shape of ``raw``, a parsed chunk whose content is ``content`` (non-empty), or None
    when it cannot be proved (content written differently from orjson's encoding, an error,
    usage or finish reason in the chunk, ...)."""
    token = orjson.dumps(content)
    at = raw.find(token)
    if at < 1 or _PROBE.encode() in raw:
        return None
    pre, suf = raw[:at], raw[at + len(token):]
    if not suf:
        return None
    try:
        probe = orjson.loads(pre + orjson.dumps(_PROBE) + suf)
    except orjson.JSONDecodeError:
        return None
    if type(probe) is not dict or probe.get("error") is not None \
            or type(probe.get("usage")) is dict or piece(probe) != (_PROBE, False):
        return None
    return ChunkShape(pre, suf)
