"""``POST /v1/completions``, the legacy text endpoint: a ``prompt`` instead of ``messages``
(validate.py), answered by the shared generating flow (chat.py) in the ``text_completion`` shape.
Streamed answers have no role chunk.
"""

from __future__ import annotations

import orjson

from mock_server.cache import Completion
from mock_server.handlers.chat import Endpoint, route
from mock_server.validate import parse_completion_request
from mock_server.write import Events, usage, usage_event


def text_completion_body(rid: str, created: int, model: str, completion: Completion,
                         cached: bool) -> bytes:
    """A non-streaming legacy ``text_completion`` object (``POST /v1/completions``)."""
    return orjson.dumps({
        "id": rid,
        "object": "text_completion",
        "created": created,
        "model": model,
        "system_fingerprint": None,
        "choices": [{"text": completion.text, "index": 0, "logprobs": None,
                     "finish_reason": completion.finish_reason}],
        "usage": usage(completion, cached),
        "cached": cached,
    })


class TextEvents(Events):
    """SSE events of one streamed ``POST /v1/completions`` answer (no role chunk)."""

    def __init__(self, rid: str, created: int, model: str) -> None:
        head = orjson.dumps({"id": rid, "object": "text_completion", "created": created,
                             "model": model, "system_fingerprint": None})
        self._prefix = b"data: " + head[:-1] + b',"choices":'
        self._open = self._prefix + b'[{"text":'
        self._close = b',"index":0,"logprobs":null,"finish_reason":null}]}\n\n'

    def finish(self, reason: str) -> bytes:
        return (self._open + b'"","index":0,"logprobs":null,"finish_reason":' + orjson.dumps(reason)
                + b"}]}\n\n")

    def usage(self, completion: Completion, cached: bool) -> bytes:
        return usage_event(self._prefix, completion, cached)


COMPLETIONS = Endpoint(
    "/v1/completions", "cmpl",
    lambda raw, cfg: parse_completion_request(raw, cfg.profiles, cfg.normalize),
    lambda rid, created, chat: TextEvents(rid, created, chat.model),
    lambda rid, created, chat, c, cached: text_completion_body(rid, created, chat.model, c, cached))

completions = route(COMPLETIONS)
