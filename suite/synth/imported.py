"""Corpora from imported conversations: their prompts are the fresh requests; the scenario supplies the
model mix, parameters, repetition and arrival controls, which apply on top of them.

Rules:
- Conversations are used in file order. A conversation is a session: one user asks its turns in
  order (turn j carries the history before it, as imported), with one model and one set of
  parameters; the user's next fresh request after its last turn opens the next conversation.
- With scope ``session`` the planner decides where sessions start and end, and is told each
  conversation's length (in file order) as the fresh turns of the session it opens next, so a
  planner session is one conversation; if a conversation runs out of turns while its session is
  still open (a duplicate turn was skipped), the next one follows it in the same session.
- When the file has no new conversation left, a user takes over the unfinished turns of another
  user's open conversation (keeping its session label; with scope ``session`` it joins the user's
  planner session), so every imported turn can be used before the import runs out.
- A prompt whose key was already used (a duplicate in the file) is skipped and counted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from suite.errors import CorpusError
from suite.records import CorpusRequest
from suite.synth.build import Draft, Factory, Progress, Row, assemble
from suite.synth.importer import Conversation
from suite.synth.planner import PlanConfig
from suite.synth.spec import ScenarioSpec
from suite.synth.streams import Streams

IMPORTED = "imported"


@dataclass
class OpenConversation:
    """A user's conversation in progress: its session label, planner session, parameters and turns."""

    label: str
    planned: str
    params: tuple[str, int, float]
    turns: Conversation
    next: int = 0


class ConversationLengths:
    """Fresh turns per new session for the planner: each conversation's length in file order, then 1."""

    def __init__(self, conversations: list[Conversation]) -> None:
        self.lengths: Iterator[int] = iter([len(c) for c in conversations])

    def sample(self, rng: random.Random) -> int:
        return next(self.lengths, 1)


class ImportFactory(Factory):
    """Fresh requests are the imported conversations' turns (see the module's rules)."""

    def __init__(self, spec: ScenarioSpec, streams: Streams, conversations: list[Conversation],
                 source: str) -> None:
        super().__init__(spec, streams)
        self.conversations = conversations
        self.total = sum(len(c) for c in conversations)
        self.source = source
        self.taken = 0  # conversations opened so far
        self.open: dict[int, OpenConversation] = {}
        self.done: dict[str, int] = {}  # session label -> turns written (the next turn's number)
        self.duplicates = 0

    def plan_config(self) -> PlanConfig:
        return replace(self.spec.plan_config(), turns=ConversationLengths(self.conversations))

    def fresh(self, index: int, fields: dict[str, Any], user: int = 0) -> tuple[Row, Draft]:
        state = self.open.get(user)
        if state is None or (self.spec.scope == "session" and state.planned != fields["session"]):
            state = self.start(index, fields, user)
        while True:
            if state.next >= len(state.turns):
                state = self.continue_session(index, fields, user, state)
            messages = [dict(m) for m in state.turns[state.next]]
            state.next += 1
            turn = self.done.get(state.label, 0)
            made = self.request({**fields, "session": state.label, "turn": turn}, state.params,
                                messages, IMPORTED)
            if made is not None:
                self.done[state.label] = turn + 1
                # Braces escaped: the text is paraphrased as a template without slots.
                text = messages[-1]["content"].replace("{", "{{").replace("}", "}}")
                return made, Draft(IMPORTED, text, {})
            self.duplicates += 1

    def start(self, index: int, fields: dict[str, Any], user: int) -> OpenConversation:
        """Open the next conversation of the file as the user's session (or take one over)."""
        if self.taken < len(self.conversations):
            turns = self.conversations[self.taken]
            self.taken += 1
            state = OpenConversation(fields["session"], fields["session"], self.params(), turns)
        else:
            state = self.take_over(index)
            if self.spec.scope == "session":
                state.label = state.planned = fields["session"]
        self.open[user] = state
        return state

    def take_over(self, index: int) -> OpenConversation:
        """An open conversation with turns left (the earliest user's), removed from its user."""
        for other, state in self.open.items():
            if state.next < len(state.turns):
                del self.open[other]
                return state
        raise CorpusError(
            f"{self.source}: its {self.total} prompts in {len(self.conversations)} conversations "
            f"({self.duplicates} duplicates) ran out at request {index + 1} of {self.spec.n}, which must "
            "be fresh (lower --n, or raise --repeat-ratio / --near-duplicate-ratio).")

    def continue_session(self, index: int, fields: dict[str, Any], user: int,
                         state: OpenConversation) -> OpenConversation:
        """The conversation has no turns left: scope session goes on with the next conversation in the
        same session; other scopes open a new session."""
        fresh = self.start(index, fields, user)
        if self.spec.scope == "session":
            fresh.label, fresh.planned, fresh.params = state.label, state.planned, state.params
        return fresh


def build_imported(spec: ScenarioSpec, conversations: list[Conversation], source: str,
                   rng_seed: int | None = None, progress: Progress | None = None
                   ) -> tuple[list[CorpusRequest], int]:
    """A corpus whose fresh requests are the turns of ``conversations`` (model, parameters,
    repetition and arrivals from ``spec``); returns the requests and how many duplicate prompts were
    skipped."""
    seed = spec.seed if rng_seed is None else rng_seed
    streams = Streams.from_seed(seed, spec.locale)
    factory = ImportFactory(spec, streams, conversations, source)
    requests, _ = assemble(spec, streams, factory, progress)
    return requests, factory.duplicates
