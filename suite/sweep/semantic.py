"""``sweep_semantic``: one run of the same corpus per similarity threshold, every hit judged against
the corpus (the summary's ``semantic`` block), and the threshold to run at.

Targets:

- the bundled mock (default): a fresh ``llmsuite mock --cache-mode semantic --semantic-threshold T``
  per step (a new process, so no step inherits another's cache or index), its cache flushed first;
- a real target (``--target``): the user sets its threshold before each step with ``--before-step
  'CMD {threshold}'`` (run without a shell — wrap shell syntax in ``sh -c '...'``; a non-zero exit
  stops the sweep). Its cache keeps its state, so each step replays its own salted copy of the
  corpus (suite.sweep.fresh): no step is answered from an earlier step's entries.

The operating point (decided before any data): the **lowest threshold whose precision's 95 % Wilson
lower bound is at least ``--min-precision``**, with the hit ratio it buys. The lower bound, not the
point estimate: 40 correct semantic hits out of 40 only show precision ≥ 0.91 at 95 %, and calling
that "≥ 0.99" would be claiming what was not measured. The lowest threshold whose point estimate
qualifies is reported beside it, marked as such; a step without semantic hits has no precision and
never qualifies (it buys no semantic hit either).
"""

from __future__ import annotations

import contextlib
import shlex
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from suite.analyze.schema import Summary
from suite.errors import SpecError, TargetError
from suite.sweep.fresh import level_corpus, start_fresh, warned
from suite.sweep.run import StepPlan, SweepUI, Target, _header, _naming, flush_cache, run_step
from suite.sweep.schema import SweepResult

RULE = "lowest threshold whose precision's 95 % Wilson lower bound ≥ min_precision"
_PROPORTIONS = ("hit_ratio", "false_hit_ratio", "precision", "recall")


def check_thresholds(thresholds: Sequence[float]) -> list[float]:
    if not thresholds or any(not 0 < t <= 1 for t in thresholds):
        raise SpecError(f"--thresholds: {list(thresholds)} must be one or more cosine similarities in "
                        "(0, 1], e.g. 0.80,0.85,0.90,0.95,0.98.")
    return sorted(set(thresholds))


def before_step_argv(template: str, threshold: float) -> list[str]:
    """``'CMD {threshold}'`` → argv with the threshold filled in (``{threshold}`` is required)."""
    if "{threshold}" not in template:
        raise SpecError(f"--before-step: {template!r} does not contain {{threshold}}; e.g. "
                        "--before-step 'curl -X PUT http://gw/config?threshold={threshold}'.")
    try:
        return [part.replace("{threshold}", f"{threshold:g}") for part in shlex.split(template)]
    except ValueError as exc:
        raise SpecError(f"--before-step: {template!r} cannot be split into words ({exc}).") from None


def run_before_step(template: str, threshold: float, timeout_s: float = 120.0) -> None:
    argv = before_step_argv(template, threshold)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TargetError(f"--before-step {shlex.join(argv)} failed to run ({exc}).") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-300:]
        raise TargetError(f"--before-step {shlex.join(argv)} exited {done.returncode}: "
                          f"{tail or 'no output'}; the threshold was not set, so the sweep stops.")


@contextlib.contextmanager
def semantic_mock(plan: StepPlan, threshold: float, redis_url: str | None) -> Iterator[Target]:
    """A bundled mock in semantic mode at ``threshold``, started for one step and stopped after."""
    from suite.services import start_mock_server

    cache = redis_url or plan.cache
    # the mock's own log of what it served (``served_key`` per request): a cross-check of the analysis
    args = ["--profiles", str(plan.profiles), "--cache", cache, "--seed", str(plan.seed),
            "--cache-mode", "semantic", "--semantic-threshold", f"{threshold:g}",
            "--timing-log", str(plan.out / f"mock_timing-{threshold:g}.jsonl"),
            *(["--coalesce"] if plan.coalesce else [])]
    with start_mock_server(args, plan.out / f"mock_server-{threshold:g}.log") as mock:
        yield Target(mock.url, lambda: flush_cache(mock.url))


def step_cells(summary: Summary) -> dict[str, Any]:
    """A step's row from its summary's ``semantic`` block (``{"value", "ci"}`` for proportions)."""
    block = cast("dict[str, Any]", summary.get("semantic") or {})
    if not block:
        why = "the run recorded no served-key rule (no semantic block in its summary)"
        return {k: {"value": None, "ci": None, "why": why} for k in _PROPORTIONS}
    classes = block.get("hits_by_class") or {}
    opp = block.get("opportunities") or {}
    saved = block.get("savings") or {}
    row: dict[str, Any] = {"requests": block["requests"], "hits": block["hits"]}
    for key in _PROPORTIONS:
        p = block.get(key)
        why = next((c["why"] for c in block.get("cannot_judge", []) if c["figure"] == key), None)
        row[key] = ({"value": p["value"], "ci": p.get("ci"), **({"why": p["why"]} if "why" in p else {})}
                    if p else {"value": None, "ci": None, "why": why or "not computed"})
    row.update({"exact_hits": classes.get("exact"), "paraphrase_hits": classes.get("paraphrase"),
                "false_hits": classes.get("false"), "false_near_miss": classes.get("false_near_miss"),
                "missed_paraphrase": opp.get("missed_paraphrase"),
                "paraphrase_opportunities": opp.get("paraphrase"),
                "tokens_saved_net": saved.get("tokens_saved_net"),
                "usd_saved_net": saved.get("usd_saved_net"),
                "cannot_judge": [c["figure"] for c in block.get("cannot_judge", [])] or None})
    return row


def operating_point(steps: Sequence[dict[str, Any]], min_precision: float) -> dict[str, Any]:
    """The recommended threshold (module docstring) and the hit ratio it buys, or why none."""
    def lower(s: dict[str, Any]) -> float | None:
        ci = s["precision"].get("ci")
        return ci[0] if ci else None

    out: dict[str, Any] = {"rule": RULE, "min_precision": min_precision, "threshold": None}
    bound = [s for s in steps if (lo := lower(s)) is not None and lo >= min_precision]
    point = [s for s in steps if (s["precision"]["value"] or 0.0) >= min_precision]
    if bound:
        best = min(bound, key=lambda s: s["threshold"])
        out.update(threshold=best["threshold"], hit_ratio=best["hit_ratio"]["value"],
                   precision=best["precision"]["value"], precision_lower=lower(best))
    else:
        judged = [s for s in steps if s["precision"]["value"] is not None]
        out["why"] = (f"no threshold's precision has a 95 % lower bound ≥ {min_precision:g}"
                      + ("" if judged else " (no step had a judged semantic hit)")
                      + (f"; best lower bound {max(lower(s) or 0 for s in judged):.3f}" if judged else ""))
    if point:
        best = min(point, key=lambda s: s["threshold"])
        out["by_point_estimate"] = {"threshold": best["threshold"], "hit_ratio": best["hit_ratio"]["value"],
                                    "precision": best["precision"]["value"],
                                    "note": "point estimate only: not shown at 95 % with this many hits"
                                            if best["threshold"] != out["threshold"] else "same as above"}
    return out


def sweep_semantic(plan: StepPlan, thresholds: Sequence[float], corpus: Path, min_precision: float = 0.99,
                   before_step: str | None = None, ui: SweepUI | None = None) -> SweepResult:
    """One step per threshold (module docstring); sweep.json ``kind: semantic``."""
    ui = ui or SweepUI()
    levels = check_thresholds(thresholds)
    if not 0 < min_precision <= 1:
        raise SpecError(f"--min-precision: {min_precision} must be in (0, 1], e.g. 0.99.")
    if plan.uses_mock and before_step:
        raise SpecError("--before-step sets a real target's threshold; the bundled mock is started at each "
                        "threshold by the sweep itself. Drop --before-step, or give --target URL.")
    if not plan.uses_mock and not before_step:
        raise SpecError("sweep semantic --target: give --before-step 'CMD {threshold}', the command that "
                        "sets the target's similarity threshold before each step (docs/cli.md).")
    plan, fresh = start_fresh(plan, ui, corpus)
    rows = []
    with _redis(plan, ui) as redis_url:
        for i, t in enumerate(levels):
            ui.step(i, len(levels), f"threshold {t:g}")
            run_id = f"threshold-{t:g}"
            with _naming(run_id), _step_target(plan, t, redis_url, before_step) as target:
                s, _, summary = run_step(plan, target, run_id, i, corpus=level_corpus(plan, corpus, i))
            rows.append({"threshold": t, "run_dir": str(s.run_dir), **step_cells(summary)})
    ui.step(len(levels), len(levels), "done")
    header = _header("semantic", plan, levels)
    header["target"] = ("bundled mock, --cache-mode semantic, a fresh process per threshold"
                        if plan.uses_mock else header["target"])
    header["seeds"] = f"every threshold replays {corpus}" + (
        "" if plan.salt is None else f", salted per step with '{plan.salt}-<step index>'")
    return cast("SweepResult", {**header, **warned(fresh, [], ui), "corpus": str(corpus),
                                "before_step": before_step,
                                "operating_point": operating_point(rows, min_precision), "steps": rows})


@contextlib.contextmanager
def _step_target(plan: StepPlan, threshold: float, redis_url: str | None,
                 before_step: str | None) -> Iterator[Target]:
    if plan.target is None:
        with semantic_mock(plan, threshold, redis_url) as target:
            yield target
        return
    assert before_step is not None
    run_before_step(before_step, threshold)
    yield Target(plan.target.url)


@contextlib.contextmanager
def _redis(plan: StepPlan, ui: SweepUI) -> Iterator[str | None]:
    """A private Redis for the whole sweep when the mock's cache is ``redis`` (flushed per step)."""
    if plan.target is not None or plan.cache != "redis":
        yield None
        return
    from suite.services import find_redis_server, start_redis

    if find_redis_server() is None:
        ui.note("redis-server not available: the mock uses its in-memory cache instead")
        yield "memory"
        return
    with start_redis() as redis:
        yield redis.url
