"""``Factory``: writes each request the planner asks for — fresh (a key never used before in this
build), a near-duplicate (same intent and slot values, other wording) or a near miss (one slot
value changed) — from the spec's intents, slots, locales, prefixes and sessions. build.py decides
which to write where and counts the tokens at the end; every random draw here comes from the
build's ``Streams``.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

from suite.errors import SpecError
from suite.records import request_key
from suite.synth.context import ContextPool
from suite.synth.hardneg import NearMisses
from suite.synth.params import ValueSpec
from suite.synth.paraphrase import paraphrase
from suite.synth.planner import PlanConfig
from suite.synth.prefixreuse import DOCUMENTS, SYSTEM_PROMPTS, picker
from suite.synth.sessions import Session, reply_text
from suite.synth.slotfill import PooledSlots
from suite.synth.spec import IntentSpec, ScenarioSpec
from suite.synth.streams import Streams, one_of, pick
from suite.synth.templates import Template
from suite.synth.tokencount import PrefixMemo
from suite.tokens import encoding_for

MAX_ATTEMPTS = 200  # fresh draws tried before a key collision is declared a spec problem
WORN_OUT = 10  # consecutive key collisions after which a template is no longer drawn
UNCOUNTED = -1  # prompt_tokens until the whole corpus is counted in one batch (``with_token_counts``)

Messages = list[dict[str, str]]
Row = dict[str, Any]  # a request's fields until its tokens are counted and it becomes a CorpusRequest


class Draft(NamedTuple):
    """How a request's user message was written: intent, template and slot values (ground truth
    for near-duplicates, which share intent and values with their original)."""

    intent: str
    template: str
    values: dict[str, str]
    context: str = ""
    locale: str = ""


class Factory:
    """Writes fresh requests (keys never used before in this build) and near-duplicates of them."""

    def __init__(self, spec: ScenarioSpec, streams: Streams) -> None:
        self.spec = spec
        self.streams = streams
        self.seen: set[str] = set()
        self.slots = {loc: PooledSlots(spec, streams.faker(loc, spec.locale)) for loc, _ in spec.locale_mix()}
        self.locale_names = [loc for loc, _ in spec.locale_mix()]
        self.locale_cum = list(itertools.accumulate(w for _, w in spec.locale_mix()))
        self.memo = PrefixMemo()
        self.contexts = ContextPool(spec.input_tokens, streams.length) if spec.input_tokens else None
        self.rng = streams.content.random  # Faker's own Random, fetched once (the proxy is slow)
        self.model_names = [name for name, _ in spec.models]
        self.model_cum = list(itertools.accumulate(w for _, w in spec.models))
        self.intent_cum = list(itertools.accumulate(intent.weight for intent in spec.intents))
        few_shot = [[{"role": "user", "content": u}, {"role": "assistant", "content": a}]
                    for u, a in spec.few_shot]
        self.few_shot = [m for pair in few_shot for m in pair]
        self.sessions: dict[int, Session] = {}
        # Collision bookkeeping keyed by id(): the spec's templates live as long as the build, and a
        # frozen dataclass re-hashes its fields on every lookup.
        self.streaks: dict[int, int] = {}  # id(template) -> consecutive collisions (absent: none)
        self.worn: set[int] = set()
        self.live_cache: dict[int, tuple[Template, ...]] = {}
        self.multi_turn = spec.turns != ValueSpec("constant", (1,))
        self.systems = picker(spec.system_prompts, SYSTEM_PROMPTS, spec.system_prompt, self.model_names[0],
                              streams.seed)
        self.documents = picker(spec.documents, DOCUMENTS, "", self.model_names[0], streams.seed)
        self.near_misses = NearMisses(spec, streams.seed)

    def plan_config(self) -> PlanConfig:
        """What the planner is given (an import overrides the session lengths)."""
        return self.spec.plan_config()

    def params(self) -> tuple[str, int, float]:
        rng = self.streams.params
        model = pick(rng, self.model_names, self.model_cum)
        return model, int(self.spec.max_tokens.sample(rng)), float(self.spec.temperature.sample(rng))

    def intent(self) -> IntentSpec:
        return pick(self.rng, self.spec.intents, self.intent_cum)

    def prefix(self) -> Messages:
        """System prompt and few-shot examples; outside the shared share, the system prompt starts
        with a per-request reference, so prefix caches cannot reuse it."""
        rng = self.streams.prefix
        system = self.spec.system_prompt if self.systems is None else self.systems.pick()[1]
        if self.spec.shared_prefix < 1 and rng.random() >= self.spec.shared_prefix:
            system = f"[request ref {rng.getrandbits(48):012x}]\n{system}"
        if not self.few_shot:
            return [{"role": "system", "content": system}]
        return [{"role": "system", "content": system}, *(dict(m) for m in self.few_shot)]

    def request(self, fields: dict[str, Any], params: tuple[str, int, float], messages: Messages,
                intent: str, original: Row | None = None) -> Row | None:
        """The request's fields (a near-duplicate of ``original`` when given), or None when its key
        was already used in this build."""
        model, max_tokens, temperature = params
        key = request_key(model, messages, max_tokens, temperature)
        if key in self.seen:
            return None
        self.seen.add(key)
        if original is not None and fields.get("near_miss_of") is None:
            variant_of, expected = original["id"], original["expected_output_tokens"]
        else:
            variant_of, expected = None, self.expected_output(max_tokens)
        return {**fields, "model": model, "messages": messages, "max_tokens": max_tokens,
                "temperature": temperature, "stream": self.spec.stream, "prompt_tokens": UNCOUNTED,
                "domain": self.spec.domain, "intent": intent, "key": key, "repeat_of": None,
                "variant_of": variant_of, "expected_output_tokens": expected}

    def expected_output(self, max_tokens: int) -> int | None:
        target = self.spec.expected_output_tokens
        return None if target is None else target.draw(self.streams.output, max_tokens)

    def locale(self) -> str:
        if len(self.locale_names) == 1:
            return self.locale_names[0]  # no draw: single-locale corpora keep their bytes
        return pick(self.streams.locale, self.locale_names, self.locale_cum)

    def session(self, user: int, fields: dict[str, Any]) -> Session:
        """The user's open session, or a new one when the last has used all its turns (scope
        ``session``: when the planner opened a new one, whose id ``fields`` carries)."""
        current = self.sessions.get(user)
        if self.spec.scope == "session":
            if current is None or current.id != fields["session"]:
                current = Session(fields["session"], 0, self.params(), self.prefix(), [])
                self.sessions[user] = current
            return current
        if current is None or current.done >= current.turns:
            turns = int(self.spec.turns.sample(self.streams.history))
            current = Session(fields["session"], turns, self.params(), self.prefix(), [])
            self.sessions[user] = current
        return current

    def fresh(self, index: int, fields: dict[str, Any], user: int = 0) -> tuple[Row, Draft]:
        if not self.multi_turn:
            return self.write_fresh(index, fields, self.params(), self.prefix())
        session = self.session(user, fields)
        fields = {**fields, "session": session.id, "turn": session.done}
        row, draft = self.write_fresh(index, fields, session.params, [*session.prefix, *session.history])
        reply = reply_text(int(self.spec.reply_tokens.sample(self.streams.history)), self.streams.history,
                           session.params[0])
        session.history += [dict(row["messages"][-1]), {"role": "assistant", "content": reply}]
        session.done += 1
        return row, draft

    def write_fresh(self, index: int, fields: dict[str, Any], params: tuple[str, int, float],
                    prefix: Messages) -> tuple[Row, Draft]:
        intent = self.intent()
        locale = self.locale()
        templates, slots = intent.templates_for(locale), self.slots[locale]
        document = "" if self.documents is None else self.documents.maybe()
        # On a key collision only the wording is redrawn, so the intent mix stays as requested.
        for _ in range(MAX_ATTEMPTS):
            template = one_of(self.rng, self.live(templates))
            values = slots.values(template.slots)
            question = template.render(values)
            context = document + self.context(params[0], prefix, document + question)
            user = {"role": "user", "content": context + question}
            made = self.request(fields, params, [*prefix, user], intent.name)
            self.collided(template, made is None)
            if made is not None:
                return made, Draft(intent.name, template.text, values, context, locale)
        raise SpecError(f"{self.spec.source}: intents: {intent.name!r} gave no new distinct request in "
                        f"{MAX_ATTEMPTS} attempts at request {index + 1} of {self.spec.n}: its templates "
                        "have too little variety (add templates or slots to it, or lower n).")

    def live(self, templates: tuple[Template, ...]) -> tuple[Template, ...]:
        """The templates not yet worn out (all of them when every one is: the caller then fails with
        its too-little-variety error)."""
        if not self.worn:
            return templates
        key = id(templates)
        if key not in self.live_cache:
            self.live_cache[key] = tuple(t for t in templates if id(t) not in self.worn) or templates
        return self.live_cache[key]

    def collided(self, template: Template, collision: bool) -> None:
        """Count consecutive key collisions per template; after ``WORN_OUT`` in a row the template has
        (nearly) run out of new requests and is no longer drawn — retrying it would only burn time."""
        key = id(template)
        if not collision:
            if self.streaks:
                self.streaks.pop(key, None)
            return
        streak = self.streaks[key] = self.streaks.get(key, 0) + 1
        if streak >= WORN_OUT and key not in self.worn:
            self.worn.add(key)
            self.live_cache.clear()

    def context(self, model: str, prefix: Messages, question: str) -> str:
        """Generated context that brings the prompt to its drawn length target ("" without a target)."""
        if self.contexts is None or self.spec.input_tokens is None:
            return ""
        target = self.spec.input_tokens.draw(self.streams.length)
        base = 3 + sum(self.memo.message(m, model) for m in prefix) + 4
        base += len(encoding_for(model).encode_ordinary(question))
        return self.contexts.context(model, target - base)

    def variant(self, index: int, fields: dict[str, Any], original: Row, draft: Draft) -> Row:
        params = (original["model"], original["max_tokens"], original["temperature"])
        prefix = [dict(m) for m in original["messages"][:-1]]
        for _ in range(MAX_ATTEMPTS):
            text = draft.context + paraphrase(draft.template, draft.values, self.streams.paraphrase)
            made = self.request(fields, params, [*prefix, {"role": "user", "content": text}],
                                original["intent"], original)
            if made is not None:
                return made
        raise SpecError(f"{self.spec.source}: no new paraphrase of {original['id']} in {MAX_ATTEMPTS} "
                        f"attempts at request {index + 1} (lower near_duplicate_ratio).")

    def near_miss(self, fields: dict[str, Any], original: Row, draft: Draft) -> tuple[Row, Draft] | None:
        """A hard negative of ``original`` (``hardneg``): its wording and context with one slot value
        changed; None when none of its slots can change or every try gave a used key."""
        params = (original["model"], original["max_tokens"], original["temperature"])
        prefix = [dict(m) for m in original["messages"][:-1]]
        fields = {**fields, "near_miss_of": original["id"]}
        for _ in range(MAX_ATTEMPTS // 10):
            values = self.near_misses.values(draft.values, draft.locale)
            if values is None:
                return None
            text = draft.context + draft.template.format_map(values)
            made = self.request(fields, params, [*prefix, {"role": "user", "content": text}],
                                original["intent"], original)
            if made is not None:
                return made, draft._replace(values=values)
        return None
