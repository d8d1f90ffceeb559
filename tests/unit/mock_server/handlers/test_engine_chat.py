"""The ``POST /api/chat`` answer shapes."""

from __future__ import annotations

from mock_server.cache import Completion
from mock_server.handlers.engine_chat import EngineEvents
from mock_server.write import DONE

C1 = Completion((1, 2), ("Hi", " there"), "stop", 9)


def test_engine_events_carry_the_response_piece_and_the_session() -> None:
    ev = EngineEvents("s-1")
    raw = ev.role() + ev.contents(("Hi", " there")) + ev.finish("stop") + ev.usage(C1, False) + DONE
    assert raw == (b'data: {"response":"Hi","session_id":"s-1"}\n\n'
                   b'data: {"response":" there","session_id":"s-1"}\n\n' + DONE)
