"""``build_corpus(spec, seed)``: a pure, deterministic function from a spec to corpus requests.

Rules the builder keeps:
- Same spec + same seed ⇒ the same list, field for field (every random choice comes from a
  ``random.Random`` or a ``Faker`` seeded from the build seed; nothing global, nothing from the clock).
- Each random concern has its own stream derived from the seed ("plan", "params", "content",
  "arrival", "prefix", "paraphrase", "length", "locale", "history", "output"), so adding a knob to one
  concern does not reshuffle the others.
- The planner (``planner.plan``) decides each position: *fresh* (a key never seen before), *exact
  repeat* of an earlier fresh request (same messages, model and parameters, hence the same key;
  ``repeat_of`` names the original) or *near-duplicate* (same intent, slot values, model and
  parameters, different wording, a new key; ``variant_of`` names the original).
- Tokens are counted with the model's real encoding, once per distinct text: the whole corpus in
  one batch at the end (``tokencount.count_prompts``); exact repeats copy their original's count.
- ``expected_output_tokens`` (when the spec asks for it) is drawn once per fresh request, capped by
  its ``max_tokens``; exact repeats and near-duplicates keep their original's (same question, same
  parameters, the same answer expected).

Each request is written by factory.py's ``Factory``; this module plans, assembles and counts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from suite.records import CorpusRequest
from suite.runtime import cyclic_gc_paused
from suite.synth.factory import Draft, Factory, Row
from suite.synth.hardneg import near_miss_sources
from suite.synth.planner import FRESH, NEAR_MISS, REPEAT, PlanConfig, Slot, plan
from suite.synth.spec import ScenarioSpec
from suite.synth.streams import Streams
from suite.synth.tokencount import PrefixMemo, count_prompts

__all__ = ["PROGRESS_EVERY", "Draft", "Factory", "Progress", "Row", "as_request", "assemble", "build_corpus",
           "build_with_drafts", "plan_for", "plan_repeats", "repeat_of", "with_token_counts"]

PROGRESS_EVERY = 1000

Progress = Callable[[int, int], None]


def plan_repeats(n: int, ratio: float, rng: random.Random) -> list[int | None]:
    """For each position: None (fresh) or the index of the earlier *fresh* request it repeats
    (uniform popularity, no window, one user): the exact count is ``round(ratio * n)``, at most n-1."""
    return [s.source for s in plan(PlanConfig(n=n, repeat_ratio=ratio), rng)]


def repeat_of(original: Row, fields: dict[str, Any]) -> Row:
    """An exact repeat: a copy of the original's request with a new id, pointing back to it."""
    return {**original, **fields, "messages": [dict(m) for m in original["messages"]],
            "repeat_of": original["id"], "variant_of": None}


def plan_for(spec: ScenarioSpec, streams: Streams, config: PlanConfig
             ) -> tuple[list[Slot], list[float | None]]:
    """Arrival offsets first (a seconds window measures reuse on them), then the plan."""
    offsets = spec.arrival.offsets(spec.n, streams.arrival)
    seconds = spec.reuse_distance is not None and spec.reuse_distance.unit == "seconds"
    clock = [float(t or 0.0) for t in offsets] if seconds else None
    return plan(config, streams.plan, clock), offsets


def with_token_counts(rows: list[Row], memo: PrefixMemo | None = None) -> list[CorpusRequest]:
    """Count every distinct request's prompt once (one pass); exact repeats take their original's."""
    todo = [row for row in rows if row["repeat_of"] is None]
    counts = count_prompts([(row["model"], row["messages"]) for row in todo], memo)
    by_id = {row["id"]: n for row, n in zip(todo, counts, strict=True)}
    out = []
    for row in rows:
        row["prompt_tokens"] = by_id[row["repeat_of"] or row["id"]]
        out.append(as_request(row))
    return out


def as_request(row: Row) -> CorpusRequest:
    """The CorpusRequest of a complete row (every field has its final value)."""
    return CorpusRequest(**row)


def build_with_drafts(spec: ScenarioSpec, rng_seed: int | None = None, progress: Progress | None = None
                      ) -> tuple[list[CorpusRequest], list[Draft]]:
    """``build_corpus`` plus each request's draft (intent, template, slot values)."""
    seed = spec.seed if rng_seed is None else rng_seed
    streams = Streams.from_seed(seed, spec.locale)
    return assemble(spec, streams, Factory(spec, streams), progress)


def assemble(spec: ScenarioSpec, streams: Streams, factory: Factory,
             progress: Progress | None) -> tuple[list[CorpusRequest], list[Draft]]:
    """Plan, then write each planned request with ``factory``, then count tokens."""
    with cyclic_gc_paused():
        return _assemble(spec, streams, factory, progress)


def _assemble(spec: ScenarioSpec, streams: Streams, factory: Factory,
              progress: Progress | None) -> tuple[list[CorpusRequest], list[Draft]]:
    slots, offsets = plan_for(spec, streams, factory.plan_config())
    out: list[Row] = []
    drafts: list[Draft] = []
    for i, slot in enumerate(slots):
        session = i if slot.session is None else slot.session
        fields = {"id": f"r{i + 1:06d}", "t": offsets[i],
                  "session": f"u{slot.user + 1:04d}-s{session + 1:06d}", "turn": 0}
        request, draft = _write(factory, i, slot, fields, out, drafts)
        out.append(request)
        drafts.append(draft)
        if progress and ((i + 1) % PROGRESS_EVERY == 0 or i + 1 == spec.n):
            progress(i + 1, spec.n)
    return with_token_counts(out, factory.memo), drafts


def _write(factory: Factory, i: int, slot: Slot, fields: dict[str, Any], out: list[Row],
           drafts: list[Draft]) -> tuple[Row, Draft]:
    """The request planned at position ``i``. A near miss whose original cannot be varied (no slot
    can change, or every variation was used: a popular original of a template with one short
    choice list) imitates the latest fresh request that can; with none, it is written fresh and
    the manifest shows the shortfall."""
    if slot.kind != FRESH:
        assert slot.source is not None  # the planner names an original for every non-fresh slot
        original, draft = out[slot.source], drafts[slot.source]
        if slot.session is not None:  # scope session: a re-sent or rephrased turn of the session
            fields["turn"] = original["turn"]
        if slot.kind == REPEAT:
            return repeat_of(original, fields), draft
        if slot.kind != NEAR_MISS:
            return factory.variant(i, fields, original, draft), draft
        for source in near_miss_sources(slot.source, i, out):
            made = factory.near_miss(fields, out[source], drafts[source])
            if made is not None:
                return made
        fields["turn"] = 0
    return factory.fresh(i, fields, slot.user)


def build_corpus(spec: ScenarioSpec, rng_seed: int | None = None,
                 progress: Progress | None = None) -> list[CorpusRequest]:
    """Build ``spec.n`` requests from ``spec`` with ``rng_seed`` (default: the spec's own seed);
    ``progress(done, total)`` is called every 1,000 requests and at the end."""
    return build_with_drafts(spec, rng_seed, progress)[0]
