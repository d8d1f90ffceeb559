"""What every route of one app shares, stored under a typed AppKey (no module globals)."""

from __future__ import annotations

import logging
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from mock_server.answer import AnswerPlanner
from mock_server.cache import ResponseCache
from mock_server.config import MockConfig
from mock_server.metrics import Metrics
from mock_server.sessions import Sessions
from mock_server.timing_log import TimingLog

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class AppState:
    config: MockConfig
    cache: ResponseCache
    planner: AnswerPlanner  # decides and plans every generated answer
    metrics: Metrics
    clock: Clock
    sleep: Sleep
    log: logging.Logger
    started: int  # epoch seconds, the "created" of /v1/models entries
    sessions: Sessions  # POST /api/chat conversations
    timing_log: TimingLog | None = None  # --timing-log: one JSONL line per answered request
    lane: frozenset[str] = frozenset()  # models the zero-delay lane may answer (lane_models)
    max_in_flight: int = sys.maxsize  # --max-in-flight: generating requests at once, then 503
    model_limits: dict[str, int] = field(default_factory=dict)  # profiles' max_in_flight
    model_in_flight: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))


STATE = web.AppKey("mock_state", AppState)
