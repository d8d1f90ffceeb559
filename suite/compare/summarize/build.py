"""``compare_runs(paths) -> dict``: the machine interface of a comparison (compare.json).

The first run is the baseline A; every other run is compared with it as B. Layout: schema,
generator, bootstrap, population, tests, runs, comparisons[{a, b, groups[{group, metrics[...]}],
paired, population, tests, headlines}], slo (when asked), definitions.

A comparison is an experiment: latency rows are drawn from one population of each run (``all``, or
``miss``: ``summarize.population``), one primary metric is tested at the stated confidence and every
other metric is Holm-corrected (``summarize.significance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import suite
from suite.analyze.summarize.coverage import run_coverage
from suite.compare.read.samples import RunSamples, corpus_identity, load_samples, model_override, run_dir_of
from suite.compare.schema import CompareResult, Comparison
from suite.compare.summarize.deltas import Boot, better, group_rows
from suite.compare.summarize.headline import comparison_headlines
from suite.compare.summarize.paired import paired_section
from suite.compare.summarize.population import check_population, population_section, restrict
from suite.compare.summarize.significance import DEFAULT_PRIMARY, apply_tests, parse_primary
from suite.errors import SpecError

COMPARE_SCHEMA = "llmsuite.compare/1"
ALL = "(all)"
DEFINITIONS = {
    "delta": "B − A of the statistic; negative latency deltas mean B is faster",
    "ratio": "B / A of the statistic",
    "ci": "percentile bootstrap over requests, each run resampled independently (n_boot replicates)",
    "p": "two-sided bootstrap p-value of B − A: min(1, 2·min((1 + #Δ*≤0), (1 + #Δ*≥0)) / (R + 1)) over "
         "R replicates Δ*",
    "p_holm": "p after Holm's step-down correction across the family (every metric of all requests but the "
              "primary; each per-model group and each paired group is its own family); null for the primary",
    "significant": "primary metric: p ≤ alpha (1 − conf); every other metric: p_holm ≤ alpha",
    "population": "the requests latency rows and paired deltas are drawn from: all, or miss (signalled cache "
                  "misses; first-seen requests when a run has no cache signal); error ratio, hit ratio and "
                  "throughput always use every request",
    "itl_mean": "per-request mean inter-token gap (requests, not gaps, are the resampled unit)",
    "tpot": "(e2e − ttft) / (completion_tokens − 1) per streamed request with > 1 completion token",
    "paired": "per-request B − A joined by request id, only when both runs replayed the same corpus",
    "share_faster_in_b": "fraction of paired requests whose value is lower in B",
}


def default_labels(runs: Sequence[RunSamples]) -> list[str]:
    """A run's single model (when every run has its own), else its folder name; made unique."""
    models = [r.model_names() for r in runs]
    if all(len(m) == 1 for m in models) and len({m[0] for m in models}) == len(runs):
        names = [m[0] for m in models]
    else:
        names = [r.run_dir.name for r in runs]
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return out


def describe(run: RunSamples) -> dict[str, Any]:
    sha, source = corpus_identity(run)
    return {"label": run.label, "run_dir": str(run.run_dir), "run_id": run.meta.get("run_id"),
            "target": run.meta.get("target"), "users": run.meta.get("users"),
            "models": run.model_names(), "records": int(run.ids.size), "ok": int(run.ok.sum()),
            "window_s": run.seconds, "corpus_sha256": run.meta.get("corpus_sha256"),
            "corpus_identity": sha, "corpus_identity_source": source, "model_override": model_override(run),
            "corpus": run.meta.get("corpus"), "coverage": _coverage(run), "bundled_mock": _bundled_mock(run)}


def _bundled_mock(run: RunSamples) -> dict[str, Any] | None:
    """run.json's ``extra.target.bundled_mock`` (profiles, cache backend, seed): the run measured the
    bundled mock, not real models; None when run.json does not say so."""
    target = (run.meta.get("extra") or {}).get("target")
    mock = target.get("bundled_mock") if isinstance(target, dict) else None
    return dict(mock) if isinstance(mock, dict) else None


def _coverage(run: RunSamples) -> dict[str, Any] | None:
    """How much of its corpus the run sent (run.json); None for a run measured in several segments
    (a swap's halves: their cuts are the swap's own warnings)."""
    return None if run.meta.get("segments") else dict(run_coverage(run.meta or None))


def model_swap(a: RunSamples, b: RunSamples) -> bool:
    """Both runs replayed model-override copies of one corpus (``llmsuite swap``, or two
    ``--model`` copies): different models are the experiment, not a mismatch worth a note."""
    ids = corpus_identity(a)[0], corpus_identity(b)[0]
    return ids[0] is not None and ids[0] == ids[1] and bool(model_override(a)) and bool(model_override(b))


def compare_pair(a: RunSamples, b: RunSamples, boot: Boot, *,
                 every: tuple[RunSamples, RunSamples] | None = None, population: dict[str, Any] | None = None,
                 primary: str = DEFAULT_PRIMARY) -> Comparison:
    """All groups (every request, then each model both runs used), the paired section, the tests.

    ``a``/``b`` are the populations latency is read from; ``every`` the whole runs (error ratio, hit
    ratio, throughput), the same runs when not given."""
    ea, eb = every or (a, b)
    common = sorted(set(ea.model_names()) & set(eb.model_names()))
    groups = [{"group": ALL, "metrics": group_rows(a, b, ALL, boot, ea, eb)}]
    if common and (len(ea.model_names()) > 1 or len(eb.model_names()) > 1):
        groups += [{"group": m, "metrics": group_rows(a.for_model(m), b.for_model(m), m, boot,
                                                      ea.for_model(m), eb.for_model(m))} for m in common]
    out = cast("Comparison", {"a": a.label, "b": b.label, "groups": groups,
                              "paired": paired_section(a, b, boot)})
    if not common and not model_swap(ea, eb):
        names = f"{', '.join(ea.model_names())} vs {', '.join(eb.model_names())}"
        out["note"] = f"no model in common ({names}): only all requests are compared"
    out["population"] = population or population_section("all", [
        {"label": r.label, "rule": "all", "requests": int(r.ids.size), "of": int(r.ids.size)}
        for r in (ea, eb)])
    out["tests"] = apply_tests(cast("dict[str, Any]", out), primary, round(1.0 - boot.conf, 10), boot.n_boot,
                               better)
    out["headlines"] = comparison_headlines(out, boot.conf)
    return out


def _tests_block(comparisons: list[Comparison], primary: str, alpha: float) -> dict[str, Any]:
    families = {c["tests"]["family"] for c in comparisons}
    block: dict[str, Any] = {"primary": primary, "correction": "holm", "alpha": alpha,
                             "family": families.pop() if len(families) == 1 else None}
    if block["family"] is None:
        block["why"] = "the family size differs per comparison: see comparisons[].tests"
    return block


def compare_samples(runs: Sequence[RunSamples], boot: Boot | None = None, *, population: str = "all",
                    primary: str = DEFAULT_PRIMARY) -> CompareResult:
    """Compare every run with the first. ``population`` ("all" | "miss") picks the requests latency is
    read from; ``primary`` ("metric.stat", e.g. e2e.p50) the metric tested without correction."""
    boot = boot or Boot()
    check_population(population)
    parse_primary(primary)
    if len(runs) < 2:
        raise SpecError(f"compare needs at least two runs; got {len(runs)}. Pass RUN_A RUN_B [...].")
    kept = [restrict(r, population) for r in runs]
    infos = [{"label": r.label, **info} for r, (_, info) in zip(runs, kept, strict=True)]
    base = kept[0][0]
    comparisons = [compare_pair(base, other, boot, every=(runs[0], runs[i + 1]), primary=primary,
                                population=population_section(population, [infos[0], infos[i + 1]]))
                   for i, (other, _) in enumerate(kept[1:])]
    return {
        "schema": COMPARE_SCHEMA,
        "generator": {"name": "suite.compare", "version": suite.__version__},
        "bootstrap": {"n_boot": boot.n_boot, "conf": boot.conf, "seed": boot.seed, "method": "percentile"},
        "population": population_section(population, infos),
        "tests": _tests_block(comparisons, primary, round(1.0 - boot.conf, 10)),
        "baseline": runs[0].label,
        "runs": [describe(r) for r in runs],
        "comparisons": comparisons,
        "definitions": dict(DEFINITIONS),
    }


def compare_runs(paths: Sequence[str | Path], *, labels: Sequence[str] | None = None,
                 boot: Boot | None = None, population: str = "all",
                 primary: str = DEFAULT_PRIMARY) -> CompareResult:
    """Load each run folder (or summary.json's folder) and compare every run with the first."""
    if labels is not None and len(labels) != len(paths):
        raise SpecError(f"--labels: {len(labels)} label(s) for {len(paths)} runs; give one per run, "
                        "comma-separated, in the same order.")
    check_population(population)
    parse_primary(primary)
    runs = [load_samples(p) for p in paths]
    for run, label in zip(runs, labels or default_labels(runs), strict=True):
        run.label = label
    return compare_samples(runs, boot, population=population, primary=primary)


def slo_section(paths: Sequence[str | Path], labels: Sequence[str], slo: str | Path) -> dict[str, Any]:
    """Every run's SLO verdict, from a summary analyzed now under this SLO (so goodput checks see
    goodput under the SLO's own per-request limits; nothing is written into the run folders)."""
    from suite.analyze import analyze_run
    from suite.analyze.summarize.slo import evaluate_slo, load_slo

    spec = load_slo(slo)
    verdicts = {}
    for path, label in zip(paths, labels, strict=True):
        summary = analyze_run(run_dir_of(path), spec)
        verdict = summary.get("slo") or {}
        verdicts[label] = verdict if "passed" in verdict else evaluate_slo(summary, spec)
    return {"profile": spec.name, "passed": all(v["passed"] for v in verdicts.values()), "runs": verdicts}
