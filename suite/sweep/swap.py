"""``swap``: one corpus replayed against several models, as a fair experiment, then compared.

A swap is an experiment, so everything that could favour one model is controlled and written down
in compare.json (``order``, ``schedule``, ``warmup``, ``salt``, ``warnings``; suite.compare adds
``population`` and ``tests.primary``):

1. Every model is probed (a 1-token request of the run's own kind, path and key) before any load,
   so a model the target does not serve fails in a second (exit 4, naming it), not after the
   first model's whole run.
2. Each model gets a warm-up run (``--warmup N`` requests, its own folder, never in statistics)
   so none takes the target's cold start. Its prompts are the corpus's, salted with a salt of
   their own: they share no prompt with the measured requests, so they cannot seed the cache.
3. The order (suite.sweep.swap_order) spreads drift over the models: ABBA halves, one interleaved
   run, or sequential. A model measured in several segments is their concatenation.
4. Only misses are compared (``population="miss"``: a hit measures the cache, not the model), with
   one primary metric and Holm correction across the rest (suite.compare).
5. A segment cut by ``--duration`` before its corpus was sent is a warning, never silent.

Against a real target the measured corpus is salted per invocation (``--salt S`` reproduces), so
the target's cache never saw its prompts; the bundled mock is flushed before the measured runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from suite.compare.read.samples import RunSamples, concat
from suite.compare.schema import CompareResult
from suite.errors import SpecError
from suite.records import read_corpus
from suite.sweep.model_override import slug, write_model_copy
from suite.sweep.run import StepPlan, SweepUI, run_step, sweep_target
from suite.sweep.swap_order import ORDERS, schedule, split_halves, untag
from suite.sweep.swap_order import interleave as interleave_copies
from suite.sweep.swap_runs import fresh_corpus, probe_models, warm_up, write_derived, write_halves

DEFAULT_WARMUP = 8
DEFAULT_PRIMARY = "e2e.p50"


@dataclass(frozen=True)
class SwapOptions:
    """How the experiment is run: ``order`` (suite.sweep.swap_order), warm-up requests per model
    (0 = none), and the primary metric of the comparison."""

    order: str = "abba"
    warmup: int = DEFAULT_WARMUP
    primary: str = DEFAULT_PRIMARY

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise SpecError(f"--order: {self.order!r} is not one of {', '.join(ORDERS)}.")
        if self.warmup < 0:
            raise SpecError(f"--warmup: {self.warmup} must be >= 0 requests per model (0 = no warm-up).")


def check_models(models: Sequence[str]) -> None:
    if len(models) < 2 or len(set(models)) != len(models):
        raise SpecError(f"--models: {','.join(models)!r} must name at least two different models, "
                        "e.g. gpt-4o,gpt-5-mini.")
    slugs = [slug(m) for m in models]
    if len(set(slugs)) != len(slugs):
        raise SpecError(f"--models: {','.join(models)!r} name two models with the same folder name "
                        f"({', '.join(slugs)}); rename one.")


def swap(plan: StepPlan, corpus: Path, models: Sequence[str], ui: SweepUI | None = None,
         opts: SwapOptions | None = None) -> CompareResult:
    """Probe, warm up, then replay ``corpus`` per model in ``opts.order``; compare the misses, the
    first model as the baseline (see the module docstring)."""
    from suite import compare

    ui, opts = ui or SweepUI(), opts or SwapOptions()
    check_models(models)
    source = read_corpus(Path(corpus))  # a bad line is named before anything is sent
    steps = schedule(models, opts.order)
    if opts.order == "abba":
        split_halves(source)  # a corpus of one session cannot be halved: said before any traffic
    total = len(steps) + (len(models) if opts.warmup else 0)
    with sweep_target(plan, ui) as target:
        probe_models(plan, target.url, [dataclasses.replace(source[0], model=m) for m in models])
        plan, fresh, measured = fresh_corpus(plan, Path(corpus), models[0], ui)
        copies = {m: write_model_copy(measured, m, plan.out / "corpora" / f"{slug(m)}.jsonl") for m in models}
        warm = warm_up(plan, target, source, models, opts.warmup, ui, total)
        done = len(warm["runs"])
        if opts.order == "interleave":
            samples, segments = _interleaved(plan, target, copies, ui, done, total)
        else:
            samples, segments = _segmented(plan, target, copies, steps, ui, done, total)
    ui.step(total, total, "compare")
    compared, common = _common_requests(samples)
    result = compare.compare_samples(compared, plan.boot, population="miss", primary=opts.primary)
    out = cast("dict[str, Any]", result)
    out.update(order=opts.order, schedule=segments, warmup=warm, **fresh)
    out["warnings"] = [*fresh.get("warnings", []), *_short_warnings(samples, segments, len(source), plan)]
    if common is not None:
        out["restricted_to_common"] = common
    if plan.slo:
        out["slo"] = compare.slo_section([s["run_dir"] for s in segments], [s["run_id"] for s in segments],
                                         plan.slo)
    return result


def _no_reset(target: Any) -> Any:
    """The same target without the pre-step cache flush: later segments of one experiment share the
    cache the first one started cold (a repeat across halves is a hit, as in one run)."""
    return dataclasses.replace(target, reset=None)


def _segment(model: str, part: str, run_id: str, s: RunSamples) -> dict[str, Any]:
    return {"model": model, "part": part, "run_id": run_id, "run_dir": str(s.run_dir),
            "requests": int(s.ids.size)}


def _segmented(plan: StepPlan, target: Any, copies: dict[str, tuple[Path, dict[str, Any]]],
               steps: list[tuple[str, str]], ui: SweepUI, done: int,
               total: int) -> tuple[list[RunSamples], list[dict[str, Any]]]:
    """abba / sequential: one Locust run per (model, part); each model's segments concatenated."""
    halves = {m: write_halves(path, manifest, plan.out, m) for m, (path, manifest) in copies.items()} \
        if any(part != "all" for _, part in steps) else {}
    parts: dict[str, dict[str, RunSamples]] = {m: {} for m in copies}
    segments = []
    for i, (model, part) in enumerate(steps):
        run_id = f"model-{slug(model)}" + ("" if part == "all" else f"-{part}")
        ui.step(done + i, total, f"{model} {part}")
        corpus = copies[model][0] if part == "all" else halves[model][part]
        step_target = target if part == "all" or i == 0 else _no_reset(target)
        s = run_step(plan, step_target, run_id, i, corpus=corpus)[0]
        parts[model][part] = s
        segments.append(_segment(model, part, run_id, s))
    samples = [_as_model(model, [parts[model][p] for p in sorted(parts[model])], copies[model][1])
               for model in copies]
    return samples, segments


def _as_model(model: str, segments: list[RunSamples], manifest: dict[str, Any]) -> RunSamples:
    """One model's samples over its segments (in corpus order), identified as a copy of the source
    corpus (the full model copy's manifest), so the models pair request by request."""
    if len(segments) == 1:
        return dataclasses.replace(segments[0], label=model, manifest=manifest)
    whole = concat(segments, model)  # its run.json facts are the first segment's; the file is the copy
    meta = {**whole.meta, "corpus_sha256": manifest["corpus_sha256"]}
    return dataclasses.replace(whole, label=model, manifest=manifest, meta=meta)


def _interleaved(plan: StepPlan, target: Any, copies: dict[str, tuple[Path, dict[str, Any]]],
                 ui: SweepUI, done: int, total: int) -> tuple[list[RunSamples], list[dict[str, Any]]]:
    """interleave: every model's copy mixed into one run, split by model afterwards, ids untagged."""
    models = list(copies)
    merged = interleave_copies([read_corpus(path) for path, _ in copies.values()],
                               [slug(m) for m in models], plan.seed)
    source = {k: v for k, v in next(iter(copies.values()))[1]["derived_from"].items()
              if k in ("corpus", "corpus_sha256")}  # no single model_override: every model is in it
    run_id = "interleaved"
    corpus = write_derived(plan.out / run_id / "corpus.jsonl", merged, {
        "derived_from": {**source, "interleaved": models, "order_seed": plan.seed}})
    ui.step(done, total, "interleaved")
    whole = run_step(plan, target, run_id, 0, corpus=corpus)[0]
    samples = []
    for model in models:
        mine = whole.for_model(model)
        ids = np.array([untag(str(i))[0] for i in mine.ids], dtype=object)
        samples.append(dataclasses.replace(mine, ids=ids, label=model, manifest=copies[model][1]))
    segment = _segment("*", "interleaved", run_id, whole)
    segment["per_model"] = {s.label: int(s.ids.size) for s in samples}
    segment["note"] = ("one run for every model: each model's throughput is its share over the run's "
                       "whole window")
    return samples, [segment]


def _common_requests(samples: list[RunSamples]) -> tuple[list[RunSamples], dict[str, Any] | None]:
    """When the models did not send the same requests (a cap stopped a segment), every model is
    compared on the requests all of them sent, so no model is judged on requests another skipped."""
    sets = [set(s.ids.tolist()) for s in samples]
    if all(ids == sets[0] for ids in sets):
        return samples, None
    common = set.intersection(*sets)
    kept = [s.subset(np.isin(s.ids, list(common))) for s in samples]
    sent = {s.label: int(s.ids.size) for s in samples}
    return kept, {"requests": len(common), "sent": sent,
                  "why": "the models did not send the same requests (a --duration cap stopped a segment): "
                         "every figure compares the requests all of them sent"}


def _short_warnings(samples: list[RunSamples], segments: list[dict[str, Any]], n: int,
                    plan: StepPlan) -> list[str]:
    """A model that sent fewer requests than the corpus holds: a --duration limit cut a segment."""
    out = []
    for s in samples:
        if s.ids.size < n:
            cut = [g["run_id"] for g in segments if g["model"] in (s.label, "*")]
            out.append(f"{s.label}: {s.ids.size} of the corpus's {n} requests were sent — --duration "
                       f"{plan.duration_s:g} s ended {', '.join(cut)} before its corpus was done; only "
                       "requests sent by both models pair. Raise -d or use a smaller corpus.")
    return out

