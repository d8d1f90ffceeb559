"""``llmsuite check`` as a library call: run a preset, analyze, compare with a baseline, judge.

One pass, in order: the corpus (given, or synthesized from a scenario: the same scenario and ``n``
give the same corpus, hence the same identity) → ``suite.api.run`` with the preset (``-d``/``-u``
override its duration and peak users) → ``suite.api.analyze`` → the baseline (a folder, or the
newest saved one of the same preset, target and corpus) → ``suite.compare.compare_runs`` (paired
per request when both replayed the same corpus) → ``verdict.judge`` → check.json in the run
folder, the comparison's own files in ``<run>/baseline-compare/``.

Exit codes, most serious first: the run aborted 8 > more than --max-error-ratio failed 5 >
regression 9 > SLO failed 7 > 0. ``--save-baseline`` promotes the run only when it exits 0: a
regressed run saved as the baseline would hide the regression from every later check (accept a
new normal with ``--baseline none --save-baseline``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.check.store import Identity, find_latest, identity_of, save_baseline
from suite.check.verdict import Thresholds, Verdict, judge
from suite.errors import (
    EXIT_ERROR_RATIO,
    EXIT_REGRESSION,
    EXIT_RUN_ABORTED,
    EXIT_SLO_FAILED,
    SpecError,
    SuiteError,
)

if TYPE_CHECKING:
    from suite.api import Analysis
    from suite.compare import Boot
    from suite.driver.control.runner import RunResult
    from suite.driver.control.target import Target

CHECK_SCHEMA = "llmsuite.check/1"
CHECK_JSON = "check.json"
COMPARE_DIR = "baseline-compare"
DEFAULT_STORE = Path("reports") / "baselines"
LATEST, NONE = "latest", "none"


@dataclass
class CheckPlan:
    """Everything a check needs; ``corpus`` or ``scenario`` names what is replayed."""

    preset: str
    target: Target
    boot: Boot
    corpus: Path | None = None
    scenario: str | None = None
    n: int | None = None
    baseline: str = LATEST  # "latest", "none" or a run folder
    store: Path = DEFAULT_STORE
    out: Path = Path("reports")
    save: bool = False
    users: int | None = None
    duration_s: float | None = None
    run_id: str | None = None
    slo: str | None = None
    max_error_ratio: float = 0.5
    population: str = "all"
    thresholds: Thresholds = field(default_factory=Thresholds)


@dataclass
class CheckOutcome:
    run: RunResult
    analysis: Analysis | None = None
    baseline: Path | None = None
    baseline_why: str = ""
    comparison: dict[str, Any] | None = None
    verdict: Verdict | None = None
    record: dict[str, Any] = field(default_factory=dict)
    exit_code: int = 0
    saved: Path | None = None
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def check_plan(plan: CheckPlan) -> None:
    """Every mistake that can be found before load is sent: a bad preset, baseline or SLO."""
    from suite.driver.control.shapes import get_preset

    get_preset(plan.preset)
    if (plan.corpus is None) == (plan.scenario is None):
        raise SpecError("check replays one corpus: give -c CORPUS or --scenario NAME (not both).")
    if plan.n is not None and plan.scenario is None:
        raise SpecError("--n sizes the corpus synthesized from --scenario; with -c the corpus is as it is.")
    if plan.baseline not in (LATEST, NONE):
        folder = Path(plan.baseline)
        if not folder.is_dir() or not any(folder.glob("requests*.jsonl")):
            raise SpecError(f"--baseline {plan.baseline}: not a run folder with a request log "
                            "(requests*.jsonl); give a run folder, 'latest' or 'none'.")
    if plan.slo is not None:
        from suite.analyze.summarize.slo import load_slo

        load_slo(plan.slo)


def _corpus(plan: CheckPlan, run_id: str) -> Path:
    if plan.corpus is not None:
        return plan.corpus
    from suite import api

    assert plan.scenario is not None  # check_plan
    return api.synthesize(plan.scenario, plan.out / run_id / "corpus.jsonl", n=plan.n).corpus


def run_check(plan: CheckPlan, *, progress: Any = None,
              notify: Callable[[str], None] | None = None) -> CheckOutcome:
    """Run, analyze, compare with the baseline and judge; check.json is written in the run folder.
    An interrupted run is returned as it is (``outcome.run.interrupted``): nothing is judged."""
    from suite import api
    from suite.driver.control.loadopts import LoadOptions
    from suite.driver.control.runner import new_run_id

    check_plan(plan)
    run_id = plan.run_id or new_run_id()
    corpus = _corpus(plan, run_id)
    result = api.run(corpus, plan.target, plan.out, users=plan.users, duration_s=plan.duration_s,
                     run_id=run_id, progress=progress, load=LoadOptions(preset=plan.preset), notify=notify)
    outcome = CheckOutcome(result)
    if result.interrupted or result.stopped_by is not None or not result.records:
        if not result.records and not result.interrupted:
            outcome.notes.append("the run recorded no request: nothing to compare")
        return outcome
    outcome.analysis = api.analyze(result.run_dir, slo=plan.slo)
    identity = identity_of(result.run_dir, plan.preset)
    outcome.baseline, outcome.baseline_why = _baseline(plan, identity)
    if outcome.baseline is not None:
        try:
            _compare(plan, outcome, identity)
        except SuiteError as exc:  # a broken baseline: say so in check.json too, then fail
            outcome.baseline_why = f"the comparison failed: {exc}"
            outcome.exit_code = exc.exit_code
            write_record(plan, outcome)
            raise
    outcome.exit_code = exit_code(outcome, plan.max_error_ratio)
    if plan.save:
        _promote(plan, outcome, identity)
    write_record(plan, outcome)
    return outcome


def _baseline(plan: CheckPlan, identity: Identity) -> tuple[Path | None, str]:
    if plan.baseline == NONE:
        return None, "--baseline none: no comparison asked for"
    if plan.baseline == LATEST:
        return find_latest(plan.store, identity)
    return Path(plan.baseline), f"--baseline {plan.baseline}"


def _compare(plan: CheckPlan, outcome: CheckOutcome, identity: Identity) -> None:
    from suite import compare as cmp

    assert outcome.baseline is not None
    base = identity_of(outcome.baseline, plan.preset)
    if base.target != identity.target:
        outcome.notes.append(f"the baseline measured another target ({base.target}, now {identity.target})")
    result = cmp.compare_runs([outcome.baseline, outcome.run.run_dir], labels=["baseline", "now"],
                              boot=plan.boot, population=plan.population)
    outcome.comparison = dict(result)
    outcome.verdict = judge(outcome.comparison, plan.thresholds)
    outcome.files = cmp.write_all(outcome.run.run_dir / COMPARE_DIR, outcome.comparison)


def exit_code(outcome: CheckOutcome, max_error_ratio: float) -> int:
    """Aborted 8 > error ratio 5 > regression 9 > SLO 7 > 0 (module docstring)."""
    from suite import api

    summary = outcome.analysis.summary if outcome.analysis else {}
    if outcome.run.aborted:
        return EXIT_RUN_ABORTED
    if api.error_verdict(summary, max_error_ratio):
        return EXIT_ERROR_RATIO
    if outcome.verdict is not None and outcome.verdict.regressed:
        return EXIT_REGRESSION
    return EXIT_SLO_FAILED if (summary.get("slo") or {}).get("passed") is False else 0


def _promote(plan: CheckPlan, outcome: CheckOutcome, identity: Identity) -> None:
    if outcome.exit_code != 0:
        outcome.notes.append(f"not saved as a baseline: the check exits {outcome.exit_code} (a failed run "
                             "saved as the baseline would hide the failure from later checks; accept it "
                             "with --baseline none --save-baseline)")
        return
    outcome.saved = save_baseline(outcome.run.run_dir, plan.store, identity)


def _paired(comparison: dict[str, Any] | None) -> dict[str, Any] | None:
    """Whether the comparison paired requests, and the paired median E2E / TTFT deltas when it did."""
    if comparison is None:
        return None
    section = comparison["comparisons"][0]["paired"]
    if not section.get("paired"):
        return {"paired": False, "why": section.get("why")}
    group = (section.get("groups") or [{}])[0]
    keep = ("n_pairs", "median_delta", "median_delta_ci", "significant", "p", "p_holm", "why")
    medians = {r["metric"]: {k: r.get(k) for k in keep if k in r}
               for r in group.get("metrics", []) if r["metric"] in ("e2e", "ttft")}
    return {"paired": True, "basis": section.get("basis"), "matched": section.get("matched"),
            "median_delta": medians}


def build_record(plan: CheckPlan, outcome: CheckOutcome) -> dict[str, Any]:
    """check.json: what ``llmsuite history`` reads to mark regressions (keep the shape)."""
    verdict, summary = outcome.verdict, outcome.analysis.summary if outcome.analysis else {}
    tests = (outcome.comparison or {}).get("tests") or {}
    slo = summary.get("slo") or {}
    return {
        "schema": CHECK_SCHEMA,
        "preset": plan.preset,
        "run_dir": str(outcome.run.run_dir),
        "baseline": str(outcome.baseline) if outcome.baseline else None,
        "compared": verdict is not None,
        "why": outcome.baseline_why,
        "paired": _paired(outcome.comparison),
        "thresholds": asdict(plan.thresholds),
        "tests": {"primary": tests.get("primary"), "alpha": tests.get("alpha"),
                  "correction": tests.get("correction"), "n_boot": plan.boot.n_boot,
                  "conf": plan.boot.conf, "population": plan.population},
        "metrics": verdict.rows if verdict else [],
        "regressed": verdict.regressed if verdict else [],
        "improved": verdict.improved if verdict else [],
        "slo": {"passed": slo["passed"]} if "passed" in slo else None,
        "aborted": (outcome.run.aborted or {}).get("reason"),
        "saved_baseline": str(outcome.saved) if outcome.saved else None,
        "notes": [*outcome.notes, *(verdict.notes if verdict else [])],
        "compare_dir": str(outcome.run.run_dir / COMPARE_DIR) if outcome.comparison else None,
        "exit_code": outcome.exit_code,
    }


def write_record(plan: CheckPlan, outcome: CheckOutcome) -> Path:
    import json

    outcome.record = finite(build_record(plan, outcome))
    path = outcome.run.run_dir / CHECK_JSON
    path.write_text(json.dumps(outcome.record, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def finite(tree: Any) -> Any:
    """NaN or ±inf → None: JSON has no such numbers, and a reader should see "missing", not a crash."""
    if isinstance(tree, dict):
        return {k: finite(v) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return [finite(v) for v in tree]
    if isinstance(tree, float) and not math.isfinite(tree):
        return None
    return tree
