"""Conversation history of ``POST /api/chat`` sessions, bounded and in memory (per process).

Rule: the engine's answer cache is per question — the key covers the engine model, the
``user_level`` system message and the new message, never the history — while the prompt the
model "reads" is the whole conversation: system message, the session's earlier turns, the new
message. So a session's prompt (``usage.prompt_tokens``, and the prefill part of TTFT) grows
turn by turn, and the same question asked in two sessions, or again later in one, is a HIT.

Bounds (docs/mock-server.md lists them), the oldest turns dropped first:

* per session at most ``max_turns`` (question, answer) pairs, ``max_bytes`` bytes of message
  content (UTF-8) and ``max_tokens`` tokens (each turn's count is taken once, when it is
  remembered, so a long history is never re-tokenized to be bounded); a single turn larger than
  a bound is not remembered at all;
* at most ``max_sessions`` sessions and ``max_total_bytes`` bytes over all sessions (the least
  recently used sessions dropped).

A turn is remembered only once it was answered in full. With ``--workers N`` each worker keeps
its own sessions.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

Message = dict[str, str]
MAX_TURNS = 16
MAX_SESSIONS = 10_000
MAX_BYTES = 256 * 1024
MAX_TOKENS = 32_768
MAX_TOTAL_BYTES = 64 * 1024 * 1024


@dataclass
class History:
    """One session's turns with their running size."""

    turns: deque[tuple[Message, Message, int, int]] = field(default_factory=deque)  # q, a, bytes, tokens
    bytes: int = 0
    tokens: int = 0


def turn_bytes(question: Message, answer: str) -> int:
    return len(question.get("content", "").encode()) + len(answer.encode())


class Sessions:
    def __init__(self, max_turns: int = MAX_TURNS, max_sessions: int = MAX_SESSIONS,
                 max_bytes: int = MAX_BYTES, max_tokens: int = MAX_TOKENS,
                 max_total_bytes: int = MAX_TOTAL_BYTES) -> None:
        self.max_turns = max_turns
        self.max_sessions = max_sessions
        self.max_bytes = max_bytes
        self.max_tokens = max_tokens
        self.max_total_bytes = max_total_bytes
        self.total_bytes = 0
        self._sessions: OrderedDict[str, History] = OrderedDict()

    def conversation(self, session_id: str, messages: list[Message]) -> list[Message]:
        """``messages`` (optional system message, then the new user message) with the session's
        earlier turns inserted before the new message."""
        history = self._sessions.get(session_id)
        if history is None or not history.turns:
            return messages
        self._sessions.move_to_end(session_id)
        earlier = [m for q, a, _, _ in history.turns for m in (q, a)]
        return [*messages[:-1], *earlier, messages[-1]]

    def fits(self, question: Message, answer: str) -> bool:
        """Whether a turn may be remembered at all (callers skip counting its tokens if not)."""
        return turn_bytes(question, answer) <= self.max_bytes

    def remember(self, session_id: str, question: Message, answer: str, tokens: int = 0) -> None:
        """Add one answered turn (``tokens``: its question's and answer's token count)."""
        size = turn_bytes(question, answer)
        if size > self.max_bytes or tokens > self.max_tokens:
            return
        history = self._sessions.get(session_id)
        if history is None:
            history = self._sessions[session_id] = History()
        else:
            self._sessions.move_to_end(session_id)
        history.turns.append((question, {"role": "assistant", "content": answer}, size, tokens))
        history.bytes += size
        history.tokens += tokens
        self.total_bytes += size
        while (len(history.turns) > self.max_turns or history.bytes > self.max_bytes
               or history.tokens > self.max_tokens):
            _, _, dropped_bytes, dropped_tokens = history.turns.popleft()
            history.bytes -= dropped_bytes
            history.tokens -= dropped_tokens
            self.total_bytes -= dropped_bytes
        while len(self._sessions) > self.max_sessions or self.total_bytes > self.max_total_bytes:
            _, oldest = self._sessions.popitem(last=False)
            self.total_bytes -= oldest.bytes

    def turns(self, session_id: str) -> int:
        history = self._sessions.get(session_id)
        return 0 if history is None else len(history.turns)

    def size(self, session_id: str) -> tuple[int, int]:
        """(bytes, tokens) of a session's remembered turns."""
        history = self._sessions.get(session_id)
        return (0, 0) if history is None else (history.bytes, history.tokens)

    def __len__(self) -> int:
        return len(self._sessions)
