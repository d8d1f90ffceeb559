"""``build_corpus(spec, seed)``: a pure, deterministic function from a spec to corpus requests.

Rules the builder keeps:
- Same spec + same seed ⇒ the same list, field for field (every random choice comes from a
  ``random.Random`` or a ``Faker`` seeded from the build seed; nothing global, nothing from the clock).
- Each random concern has its own stream derived from the seed ("plan", "params", "content"), so
  adding a knob to one concern does not reshuffle the others.
- A request is *fresh* (its key was never seen before) or an *exact repeat* of an earlier fresh
  request (same messages, model and parameters, hence the same key; ``repeat_of`` names the first
  occurrence). Exactly ``round(repeat_ratio * n)`` requests are repeats; the first is always fresh.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from faker import Faker

from suite.errors import SpecError
from suite.records import CorpusRequest, request_key
from suite.synth.spec import IntentSpec, ScenarioSpec
from suite.tokens import count_chat_tokens

MAX_ATTEMPTS = 200  # fresh draws tried before a key collision is declared a spec problem


def derive_seed(seed: int, stream: str) -> int:
    """An independent 64-bit seed per named stream (stable across Python versions and runs)."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{stream}".encode()).digest()[:8], "big")


@dataclass
class Streams:
    """The build's random streams: positions of repeats, request parameters, message content."""

    plan: random.Random
    params: random.Random
    content: Faker

    @classmethod
    def from_seed(cls, seed: int, locale: str) -> Streams:
        fake = Faker(locale)
        fake.seed_instance(derive_seed(seed, "content"))
        return cls(random.Random(derive_seed(seed, "plan")), random.Random(derive_seed(seed, "params")), fake)


def plan_repeats(n: int, ratio: float, rng: random.Random) -> list[int | None]:
    """For each position: None (fresh) or the index of the earlier *fresh* request it repeats.

    The repeat count is exact (``round(ratio * n)``, at most ``n - 1``) so the achieved ratio
    matches the requested one up to rounding; originals are drawn uniformly among earlier fresh
    requests.
    """
    n_repeats = min(round(ratio * n), max(n - 1, 0))
    positions = set(rng.sample(range(1, n), n_repeats))
    plan: list[int | None] = []
    fresh: list[int] = []
    for i in range(n):
        if i in positions:
            plan.append(rng.choice(fresh))
        else:
            fresh.append(i)
            plan.append(None)
    return plan


class FreshFactory:
    """Writes fresh requests whose keys were never used before in this build."""

    def __init__(self, spec: ScenarioSpec, streams: Streams) -> None:
        self.spec = spec
        self.streams = streams
        self.seen: set[str] = set()
        self.model_names = [name for name, _ in spec.models]
        self.model_weights = [w for _, w in spec.models]
        self.intent_weights = [intent.weight for intent in spec.intents]

    def params(self) -> tuple[str, int, float]:
        rng = self.streams.params
        model = rng.choices(self.model_names, self.model_weights)[0]
        return model, int(self.spec.max_tokens.sample(rng)), float(self.spec.temperature.sample(rng))

    def intent(self) -> IntentSpec:
        return self.streams.content.random.choices(self.spec.intents, self.intent_weights)[0]

    def message(self, intent: IntentSpec) -> list[dict[str, str]]:
        fake = self.streams.content
        text = fake.random.choice(intent.templates).fill(self.spec.slots, fake)
        return [{"role": "system", "content": self.spec.system_prompt}, {"role": "user", "content": text}]

    def make(self, index: int, fields: dict[str, Any]) -> CorpusRequest:
        model, max_tokens, temperature = self.params()
        intent = self.intent()
        # On a key collision only the wording is redrawn, so the intent mix stays as requested.
        for _ in range(MAX_ATTEMPTS):
            messages = self.message(intent)
            key = request_key(model, messages, max_tokens, temperature)
            if key not in self.seen:
                self.seen.add(key)
                return CorpusRequest(
                    **fields, model=model, messages=messages, max_tokens=max_tokens,
                    temperature=temperature, stream=self.spec.stream,
                    prompt_tokens=count_chat_tokens(messages, model), domain=self.spec.domain,
                    intent=intent.name, key=key)
        raise SpecError(f"{self.spec.source}: intents: {intent.name!r} gave no new distinct request in "
                        f"{MAX_ATTEMPTS} attempts at request {index + 1} of {self.spec.n}: its templates "
                        "have too little variety (add templates or slots to it, or lower n).")


def repeat_of(original: CorpusRequest, fields: dict[str, Any]) -> CorpusRequest:
    """An exact repeat: a copy of the original's request with a new id, pointing back to it."""
    return CorpusRequest(
        **fields, model=original.model, messages=[dict(m) for m in original.messages],
        max_tokens=original.max_tokens, temperature=original.temperature, stream=original.stream,
        prompt_tokens=original.prompt_tokens, domain=original.domain, intent=original.intent,
        key=original.key, repeat_of=original.id)


def build_corpus(spec: ScenarioSpec, rng_seed: int | None = None) -> list[CorpusRequest]:
    """Build ``spec.n`` requests from ``spec`` with ``rng_seed`` (default: the spec's own seed)."""
    seed = spec.seed if rng_seed is None else rng_seed
    streams = Streams.from_seed(seed, spec.locale)
    plan = plan_repeats(spec.n, spec.repeat_ratio, streams.plan)
    offsets = spec.arrival.offsets(spec.n)
    factory = FreshFactory(spec, streams)
    out: list[CorpusRequest] = []
    for i, original in enumerate(plan):
        fields = {"id": f"r{i + 1:06d}", "t": offsets[i], "session": f"s{i + 1:06d}", "turn": 0}
        out.append(factory.make(i, fields) if original is None else repeat_of(out[original], fields))
    return out
