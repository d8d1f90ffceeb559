"""``compare_runs(paths) -> dict``: the machine interface of a comparison (compare.json).

The first run is the baseline A; every other run is compared with it as B. Layout: schema,
generator, bootstrap, runs, comparisons[{a, b, groups[{group, metrics[...]}], paired, headlines}],
slo (when asked), definitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import suite
from suite.compare.read.samples import RunSamples, corpus_identity, load_samples, model_override, run_dir_of
from suite.compare.schema import CompareResult, Comparison
from suite.compare.summarize.deltas import Boot, group_rows
from suite.compare.summarize.headline import comparison_headlines
from suite.compare.summarize.paired import paired_section
from suite.errors import SpecError

COMPARE_SCHEMA = "llmsuite.compare/1"
ALL = "(all)"
DEFINITIONS = {
    "delta": "B − A of the statistic; negative latency deltas mean B is faster",
    "ratio": "B / A of the statistic",
    "ci": "percentile bootstrap over requests, each run resampled independently (n_boot replicates)",
    "significant": "the CI of B − A excludes 0",
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
            "corpus_identity": sha, "corpus_identity_source": source, "model_override": model_override(run)}


def compare_pair(a: RunSamples, b: RunSamples, boot: Boot) -> Comparison:
    """All groups (every request, then each model both runs used) and the paired section."""
    common = sorted(set(a.model_names()) & set(b.model_names()))
    groups = [{"group": ALL, "metrics": group_rows(a, b, ALL, boot)}]
    if common and (len(a.model_names()) > 1 or len(b.model_names()) > 1):
        groups += [{"group": m, "metrics": group_rows(a.for_model(m), b.for_model(m), m, boot)}
                   for m in common]
    out = cast("Comparison", {"a": a.label, "b": b.label, "groups": groups,
                              "paired": paired_section(a, b, boot)})
    if not common:
        out["note"] = (f"no model in common ({', '.join(a.model_names())} vs {', '.join(b.model_names())}): "
                       "only all requests are compared")
    out["headlines"] = comparison_headlines(out, boot.conf)
    return out


def compare_samples(runs: Sequence[RunSamples], boot: Boot | None = None) -> CompareResult:
    boot = boot or Boot()
    if len(runs) < 2:
        raise SpecError(f"compare needs at least two runs; got {len(runs)}. Pass RUN_A RUN_B [...].")
    base = runs[0]
    return {
        "schema": COMPARE_SCHEMA,
        "generator": {"name": "suite.compare", "version": suite.__version__},
        "bootstrap": {"n_boot": boot.n_boot, "conf": boot.conf, "seed": boot.seed, "method": "percentile"},
        "baseline": base.label,
        "runs": [describe(r) for r in runs],
        "comparisons": [compare_pair(base, other, boot) for other in runs[1:]],
        "definitions": dict(DEFINITIONS),
    }


def compare_runs(paths: Sequence[str | Path], *, labels: Sequence[str] | None = None,
                 boot: Boot | None = None) -> CompareResult:
    """Load each run folder (or summary.json's folder) and compare every run with the first."""
    if labels is not None and len(labels) != len(paths):
        raise SpecError(f"--labels: {len(labels)} label(s) for {len(paths)} runs; give one per run, "
                        "comma-separated, in the same order.")
    runs = [load_samples(p) for p in paths]
    for run, label in zip(runs, labels or default_labels(runs), strict=True):
        run.label = label
    return compare_samples(runs, boot)


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
