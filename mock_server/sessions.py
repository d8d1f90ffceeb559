"""Conversation history of ``POST /api/chat`` sessions, bounded and in memory (per process).

Rule: the engine's answer cache is per question — the key covers the engine model, the
``user_level`` system message and the new message, never the history — while the prompt the
model "reads" is the whole conversation: system message, the session's earlier turns, the new
message. So a session's prompt (``usage.prompt_tokens``, and the prefill part of TTFT) grows
turn by turn, and the same question asked in two sessions, or again later in one, is a HIT.

Bounds: at most ``max_turns`` (question, answer) pairs per session (the oldest are dropped) and
``max_sessions`` sessions (least recently used dropped). A turn is remembered only once it was
answered in full. With ``--workers N`` each worker keeps its own sessions.
"""

from __future__ import annotations

from collections import OrderedDict, deque

Message = dict[str, str]
MAX_TURNS = 16
MAX_SESSIONS = 10_000


class Sessions:
    def __init__(self, max_turns: int = MAX_TURNS, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_turns = max_turns
        self.max_sessions = max_sessions
        self._turns: OrderedDict[str, deque[tuple[Message, Message]]] = OrderedDict()

    def conversation(self, session_id: str, messages: list[Message]) -> list[Message]:
        """``messages`` (optional system message, then the new user message) with the session's
        earlier turns inserted before the new message."""
        turns = self._turns.get(session_id)
        if not turns:
            return messages
        self._turns.move_to_end(session_id)
        history = [m for turn in turns for m in turn]
        return [*messages[:-1], *history, messages[-1]]

    def remember(self, session_id: str, question: Message, answer: str) -> None:
        turns = self._turns.get(session_id)
        if turns is None:
            turns = self._turns[session_id] = deque(maxlen=self.max_turns)
            while len(self._turns) > self.max_sessions:
                self._turns.popitem(last=False)
        else:
            self._turns.move_to_end(session_id)
        turns.append((question, {"role": "assistant", "content": answer}))

    def turns(self, session_id: str) -> int:
        return len(self._turns.get(session_id) or ())

    def __len__(self) -> int:
        return len(self._turns)
