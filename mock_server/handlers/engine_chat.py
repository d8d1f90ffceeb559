"""``POST /api/chat``, the intelligence engine's own endpoint: ``{"message", "session_id",
"user_level"?, "stream"?}`` (validate.py) answered by the shared generating flow (chat.py) for the
server's engine model (``--engine-model``, default the first profile).

Each session's conversation is kept (sessions.py): the prompt grows turn by turn, the cache key
stays the question's. The answer is ``{"response", "session_id", "model", "cached", ...}``;
``"stream": true`` answers ``data: {"response": piece, "session_id": id}`` events, then
``data: [DONE]``.
"""

from __future__ import annotations

import orjson

from mock_server.cache import Completion
from mock_server.config import MockConfig
from mock_server.handlers.chat import Endpoint, route
from mock_server.validate import parse_engine_request
from mock_server.write import Events, usage


def engine_body(rid: str, created: int, model: str, completion: Completion, cached: bool,
                session_id: str) -> bytes:
    """``POST /api/chat`` (the intelligence engine's shape): the answer text and its metadata."""
    return orjson.dumps({
        "response": completion.text,
        "session_id": session_id,
        "model": model,
        "cached": cached,
        "response_id": rid,
        "created": created,
        "finish_reason": completion.finish_reason,
        "usage": usage(completion, cached),
    })


class EngineEvents(Events):
    """SSE events of a streamed ``POST /api/chat`` answer: ``data: {"response": piece,
    "session_id": id}`` per token, then ``data: [DONE]`` (no role, finish or usage events).
    Drivers read the ``response`` field of each event, so this shape is a contract."""

    def __init__(self, session_id: str) -> None:
        self._open = b'data: {"response":'
        self._close = b',"session_id":' + orjson.dumps(session_id) + b"}\n\n"


def _engine_model(config: MockConfig) -> str:
    return config.engine_model or next(iter(config.profiles))


ENGINE_CHAT = Endpoint(
    "/api/chat", "resp",
    lambda raw, cfg: parse_engine_request(raw, cfg.profiles, _engine_model(cfg), cfg.normalize),
    lambda rid, created, chat: EngineEvents(chat.session_id or ""),
    lambda rid, created, chat, c, cached: engine_body(rid, created, chat.model, c, cached,
                                                      chat.session_id or ""),
    sessions=True)

engine_chat = route(ENGINE_CHAT)
