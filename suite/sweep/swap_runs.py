"""The pieces of a swap around its measured runs (suite.sweep.swap): the fresh (salted) corpus, the
probe of every model before any load, the warm-up runs, and the corpus files of ABBA halves and of
an interleaved run. Each corpus file gets a manifest saying what it was derived from."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import suite
from suite.errors import TargetError
from suite.records import CORPUS_SCHEMA, CorpusRequest, read_corpus
from suite.sweep.model_override import slug, write_model_copy
from suite.sweep.run import StepPlan, SweepUI, run_step
from suite.sweep.swap_order import split_halves

WARMUP_EXCLUDED = ("warm-up runs keep their own folders (warmup-<model>/: request log and run.json, not "
                   "analyzed — llmsuite analyze <folder> makes a report) and never enter the comparison; "
                   "their prompts are the corpus's first requests salted with a salt of their own, so they "
                   "share no prompt with the measured requests")


def write_derived(path: Path, requests: list[CorpusRequest], extra: dict[str, Any]) -> Path:
    """Write a corpus the swap made from another one, with a manifest of facts true of this file."""
    from suite.synth.write import write_corpus_then_manifest

    def manifest(sha: str) -> dict[str, Any]:
        return {"corpus_schema": CORPUS_SCHEMA, "corpus_sha256": sha, "n": len(requests),
                "generator": {"name": "suite.sweep.swap", "version": suite.__version__}, **extra}

    return write_corpus_then_manifest(path, requests, manifest)[0]


def fresh_corpus(plan: StepPlan, corpus: Path, model: str,
                 ui: SweepUI) -> tuple[StepPlan, dict[str, Any], Path]:
    """The plan with this invocation's salt, what compare.json adds (``salt``, ``fresh_probe``,
    ``warnings``: suite.sweep.fresh, its probe asking ``model``), and the corpus to measure: against
    a real target (or with ``--salt``) a salted copy, so the target's cache never saw its prompts;
    the bundled mock's cache is flushed instead."""
    from suite.sweep.fresh import start_fresh
    from suite.sweep.salt import write_salted

    salted, fresh = start_fresh(dataclasses.replace(plan, models={model: 1.0}), ui)
    plan = dataclasses.replace(plan, salt=salted.salt)
    if plan.salt is None:
        unsalted = {"value": None, "why": "bundled mock: its cache is flushed before the measured runs, so "
                    "the corpus is sent as given (pass --salt S to salt it anyway)"}
        return plan, {"salt": unsalted}, corpus
    path = write_salted(corpus, plan.out / "corpora" / "salted.jsonl", plan.salt)
    fresh["salt"] = {**fresh["salt"], "corpus": str(path),
                     "steps": f"the measured corpus is salted with '{plan.salt}' (corpora/salted.jsonl), "
                              f"the warm-up with '{warmup_salt(plan)}'"}
    return plan, fresh, path


def warmup_salt(plan: StepPlan) -> str:
    """The warm-up's own salt: never the measured corpus's, so no warm-up prompt is a measured one."""
    return f"warmup-{plan.salt or plan.seed}"


def probe_models(plan: StepPlan, url: str, firsts: Sequence[CorpusRequest]) -> None:
    """A 1-token request per model, every one before any load, with the target's own health check,
    auth headers and key: TargetError (exit 4) naming the model the target refuses, with the
    target's own message."""
    from suite.driver.control.health import check_target, health_probes
    from suite.driver.control.requestopts import RequestOptions
    from suite.driver.exchange.targets import default_path

    target = plan.target  # None: the bundled mock, answered with the defaults and no key
    request = target.request if target is not None else RequestOptions()
    key = target.api_key if target is not None else None
    probes = health_probes(request, request.path or default_path(request.kind), key, firsts)
    health: dict[str, Any] = {} if target is None else {
        "health_path": target.health_path, "health_method": target.health_method,
        "headers": target.auth_headers()}
    try:
        check_target(url, probes=probes, **health)
    except TargetError as exc:
        raise TargetError(f"swap probes every model of --models before any load: {exc}") from None


def warm_up(plan: StepPlan, target: Any, source: Sequence[CorpusRequest], models: Sequence[str], n: int,
            ui: SweepUI, total: int) -> dict[str, Any]:
    """``n`` requests per model in a run of their own, before any measured run (see WARMUP_EXCLUDED)."""
    if n == 0:
        return {"n": 0, "runs": [], "why": "--warmup 0: no warm-up; the first model measured may take "
                "the target's cold start"}
    from suite.sweep.salt import write_salted

    requests = list(source[:n])
    base = write_derived(plan.out / "corpora" / "warmup-source.jsonl", requests,
                         {"derived_from": {"first_requests": len(requests)}})
    warm_salt = warmup_salt(plan)
    salted = write_salted(base, plan.out / "corpora" / "warmup.jsonl", warm_salt)
    runs = []
    for k, model in enumerate(models):
        ui.step(k, total, f"warm-up {model}")
        run_id = f"warmup-{slug(model)}"
        copy, _ = write_model_copy(salted, model, plan.out / run_id / "corpus.jsonl")
        samples = run_step(plan, dataclasses.replace(target, reset=None), run_id, k,
                           users=min(plan.users, len(requests)), corpus=copy, analyze=False)[0]
        runs.append(str(samples.run_dir))
    return {"n": len(requests), "runs": runs, "salt": warm_salt, "excluded": WARMUP_EXCLUDED}


def write_halves(copy: Path, manifest: dict[str, Any], out: Path, model: str) -> dict[str, Path]:
    """The model copy's two halves by session (ABBA), each in its segment's folder; their manifests
    keep the copy's ``derived_from`` (so segments of every model pair by request id)."""
    halves = split_halves(read_corpus(copy))
    paths = {}
    for part, requests in zip(("h1", "h2"), halves, strict=True):
        repeats = sum(r.repeat_of is not None for r in requests) / len(requests)
        paths[part] = write_derived(out / f"model-{slug(model)}-{part}" / "corpus.jsonl", requests, {
            "derived_from": manifest["derived_from"], "model_mix": manifest.get("model_mix"),
            "repeat_ratio": {"requested": None, "achieved": repeats},
            "segment": {"part": part, "of": str(copy), "of_sha256": manifest["corpus_sha256"],
                        "of_n": manifest["n"],
                        "why": "ABBA: half of the corpus by session; repeats may be of the other half"}})
    return paths
