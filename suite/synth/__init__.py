"""Synthesis stage: scenario spec (YAML) → deterministic corpus (JSONL + manifest).

    spec = load_spec("corpora/scenarios/ops-assistant.yaml", overrides={"n": 2000})
    requests = build_corpus(spec, rng_seed=spec.seed)
    write_corpus("corpora/ops.jsonl", requests, build_manifest(spec, spec.seed, requests))

Pure functions (``load_spec`` aside, which reads one file) until ``write_corpus``.

Modules: ``spec`` (YAML → ScenarioSpec; ``intents`` and ``specfields`` parse its parts),
``repetition`` / ``arrivals`` / ``params`` / ``context`` / ``outputlen`` (validated knobs),
``planner`` (fresh / repeat / near-duplicate plan), ``templates`` + ``slotfill`` + ``paraphrase``
(text), ``streams`` (seeded random streams), ``build`` + ``factory`` (plan → requests), ``sessions``,
``tokencount``, ``stats`` + ``cachesim`` + ``manifest`` (achieved vs requested),
``importer`` + ``imported`` (ShareGPT / JSONL / CSV, conversations as sessions), ``plots``, ``write``.
"""

from suite.synth.build import build_corpus, plan_repeats
from suite.synth.manifest import build_manifest
from suite.synth.spec import ScenarioSpec, load_spec, parse_spec
from suite.synth.write import corpus_sha256, write_corpus

__all__ = [
    "ScenarioSpec",
    "build_corpus",
    "build_manifest",
    "corpus_sha256",
    "load_spec",
    "parse_spec",
    "plan_repeats",
    "write_corpus",
]
