"""Corpora from imported prompts: the prompts are the fresh requests; the scenario supplies the model
mix, parameters, repetition and arrival controls, which apply on top of them."""

from __future__ import annotations

from typing import Any

from suite.errors import CorpusError
from suite.records import CorpusRequest
from suite.synth.build import Draft, Factory, Messages, Progress, Row, Streams, assemble
from suite.synth.spec import ScenarioSpec

IMPORTED = "imported"


class ImportFactory(Factory):
    """Fresh requests are the imported prompts, in file order; a prompt whose key was already used
    (a duplicate in the file) is skipped and counted."""

    def __init__(self, spec: ScenarioSpec, streams: Streams, prompts: list[Messages], source: str) -> None:
        super().__init__(spec, streams)
        self.prompts = prompts
        self.source = source
        self.next = 0
        self.duplicates = 0

    def fresh(self, index: int, fields: dict[str, Any], user: int = 0) -> tuple[Row, Draft]:
        params = self.params()
        while self.next < len(self.prompts):
            messages = [dict(m) for m in self.prompts[self.next]]
            self.next += 1
            made = self.request(fields, params, messages, IMPORTED)
            if made is not None:
                # Braces escaped: the text is paraphrased as a template without slots.
                text = messages[-1]["content"].replace("{", "{{").replace("}", "}}")
                return made, Draft(IMPORTED, text, {})
            self.duplicates += 1
        raise CorpusError(f"{self.source}: its {len(self.prompts)} prompts ({self.duplicates} duplicates) "
                          f"ran out at request {index + 1} of {self.spec.n}, which must be fresh (lower --n, "
                          "or raise --repeat-ratio / --near-duplicate-ratio).")


def build_imported(spec: ScenarioSpec, prompts: list[Messages], source: str, rng_seed: int | None = None,
                   progress: Progress | None = None) -> tuple[list[CorpusRequest], int]:
    """A corpus whose fresh requests are ``prompts`` (model, parameters, repetition and arrivals from
    ``spec``); returns the requests and how many duplicate prompts were skipped."""
    seed = spec.seed if rng_seed is None else rng_seed
    streams = Streams.from_seed(seed, spec.locale)
    factory = ImportFactory(spec, streams, prompts, source)
    requests, _ = assemble(spec, streams, factory, progress)
    return requests, factory.duplicates
