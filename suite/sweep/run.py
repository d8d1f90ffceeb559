"""Sweeps and the model swap: compositions of synth → run → analyze (``suite.api``), one step at a time.

``sweep_cache``  one corpus per repetition ratio, each replayed and analyzed: hit ratio and gains
                 against the corpus's theoretical bound.
``sweep_load``   the same workload at increasing concurrency (or open-loop rate): latency and
                 throughput per level, and the SLO knee.
``swap``         lives in ``suite.sweep.swap`` (probe, warm-up, ABBA / interleaved order) over
                 ``run_step`` and ``sweep_target`` here.

Target ``None`` / ``"mock"`` means the bundled mock server on loopback (with a private Redis when the
cache is ``redis``), started once and its cache flushed before every step, so no step inherits
another's cache. A SIGINT, SIGTERM or SIGHUP during a step stops its Locust run, analyzes what it
recorded (marked partial) and stops the sweep: the mock and Redis are stopped on the way out, and
the command exits 130 / 143 / 129 (suite.signals). A remote target keeps its own state: the steps
then use seeds ``seed + i`` so that their corpora do not share prompts, and ``sweep.json`` says so;
its corpora are salted per invocation and a never-seen request probed first (``suite.sweep.fresh``).
"""

from __future__ import annotations

import contextlib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from suite import api
from suite.analyze.schema import SloVerdict, Summary, Why
from suite.compare.read.samples import RunSamples, load_samples
from suite.compare.summarize.deltas import Boot
from suite.driver.control.target import Target as RunTarget
from suite.errors import SpecError, SuiteError, TargetError
from suite.sweep import STEP_CAP_S
from suite.sweep.fresh import level_corpus, start_fresh, warned
from suite.sweep.rows import (
    SWEEP_SCHEMA,
    add_gains,
    cache_cells,
    coverage_warnings,
    excess_hits,
    flat_load_warnings,
    knee,
    latency_cells,
    miss_cells,
    scheduled_cells,
)
from suite.sweep.schema import SweepResult

MOCK_TARGETS = (None, "", "mock")


class SweepUI:
    """What a sweep tells a person; the CLI subclasses it with rich output."""

    def step(self, done: int, total: int, label: str) -> None: ...

    def note(self, message: str) -> None: ...


@dataclass
class StepPlan:
    """What every step of a sweep shares."""

    out: Path
    # the real target (URL, request options, key, health check, timeouts), or None: the bundled
    # mock; a URL string is made a Target (no key), "mock" / "" None
    target: RunTarget | None = None
    scenario: str = "ops-assistant"
    n: int = 200
    users: int = 8
    duration_s: float = STEP_CAP_S  # a safety cap: steps run their corpus out; a cap that bites is reported
    seed: int = 7
    models: dict[str, float] | None = None
    max_tokens: tuple[int, ...] | None = None
    cache: str = "redis"
    profiles: Path = api.DEFAULT_PROFILES
    slo: str | None = None
    boot: Boot = field(default_factory=Boot)
    salt: str | None = None  # --salt; None: a new one per invocation against a real target (sweep.salt)
    coalesce: bool = False  # the bundled mock single-flights identical in-flight requests (--coalesce)

    def __post_init__(self) -> None:
        if isinstance(self.target, str):
            self.target = None if self.target in MOCK_TARGETS else RunTarget(self.target.rstrip("/"))

    @property
    def uses_mock(self) -> bool:
        return self.target is None

    def seed_for(self, i: int) -> int:
        return self.seed if self.uses_mock else self.seed + i


@dataclass
class Target:
    """Where a sweep sends traffic; ``reset`` empties the bundled mock's cache before each step."""

    url: str
    reset: Callable[[], None] | None = None


def flush_cache(url: str) -> None:
    """``POST /admin/cache/flush`` on the bundled mock (loopback), so a step starts cold."""
    try:
        request = urllib.request.Request(f"{url}/admin/cache/flush", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as resp:
            resp.read()
    except (urllib.error.URLError, OSError) as exc:
        raise TargetError(f"cannot flush the mock's cache at {url}/admin/cache/flush ({exc}); "
                          "the step would start with the previous step's cache.") from None


@contextlib.contextmanager
def sweep_target(plan: StepPlan, ui: SweepUI) -> Iterator[Target]:
    """The target of every step; a bundled mock (and its private Redis) lives for the whole sweep
    and is flushed before each step (cheaper than a restart per step, and just as cold)."""
    if plan.target is not None:
        yield Target(plan.target.url)
        return
    from suite.services import find_redis_server, start_mock_server, start_redis

    with contextlib.ExitStack() as stack:
        cache = plan.cache
        if cache == "redis":
            if find_redis_server() is None:
                ui.note("redis-server not available: the mock uses its in-memory cache instead")
                cache = "memory"
            else:
                cache = stack.enter_context(start_redis()).url
        args = ["--profiles", str(plan.profiles), "--cache", cache, "--seed", str(plan.seed)]
        if plan.coalesce:
            args.append("--coalesce")
        mock = stack.enter_context(start_mock_server(args, plan.out / "mock_server.log"))
        yield Target(mock.url, None if cache == "none" else lambda: flush_cache(mock.url))


def _synth(plan: StepPlan, corpus: Path, i: int, repeat_ratio: float | None) -> api.SynthResult:
    """The step's corpus; with a salt, ``corpus`` is the salted copy of ``source.jsonl`` beside it."""
    overrides = {"max_tokens": {"choices": list(plan.max_tokens)}} if plan.max_tokens else None
    made = api.synthesize(plan.scenario, corpus if plan.salt is None else corpus.with_name("source.jsonl"),
                          n=plan.n, seed=plan.seed_for(i), repeat_ratio=repeat_ratio, models=plan.models,
                          overrides=overrides)
    if plan.salt is None:
        return made
    from suite.records import manifest_path
    from suite.sweep.salt import step_salt, write_salted_manifest

    path, manifest = write_salted_manifest(made.corpus, corpus, step_salt(plan.salt, i))
    return api.SynthResult(path, manifest_path(path), manifest)


def _run(plan: StepPlan, corpus: Path, url: str, run_id: str, users: int, rate: float | None) -> Any:
    """One Locust run: ``users`` closed-loop users, or open loop at ``rate`` requests/s (Poisson)."""
    load = None
    if rate is not None:
        from suite.driver.control.loadopts import LoadOptions

        load = LoadOptions(mode="open", rate=rate, seed=plan.seed)
    # a real target goes whole (key, headers, cache rule, health check, timeouts); the mock by URL
    target = url if plan.target is None else plan.target.with_url(url)
    mock = api.bundled_mock_meta(url) if plan.target is None else None  # run.json says "bundled mock"
    return api.run(corpus, target, plan.out, users=users, spawn_rate=float(users), duration_s=plan.duration_s,
                   run_id=run_id, load=load, bundled_mock=mock)


def run_step(plan: StepPlan, target: Target, run_id: str, i: int, *, repeat_ratio: float | None = None,
             users: int | None = None, rate: float | None = None, corpus: Path | None = None,
             analyze: bool = True) -> tuple[RunSamples, dict[str, Any], Summary]:
    """synth (unless a corpus is given) → run → analyze one step; returns samples, manifest, summary.
    ``analyze=False`` (a swap's warm-up: never in statistics) keeps the log and run.json but writes
    no report; its summary is then empty (``llmsuite analyze <folder>`` makes one later)."""
    step_dir = plan.out / run_id
    manifest: dict[str, Any] = {}
    with _naming(run_id):
        if corpus is None:
            made = _synth(plan, step_dir / "corpus.jsonl", i, repeat_ratio)
            corpus, manifest = made.corpus, made.manifest
        if target.reset is not None:
            target.reset()
        result = _run(plan, corpus, target.url, run_id, users or plan.users, rate)
        if result.stopped_by is not None and not result.records:
            raise result.stopped_by  # a signal before any record: nothing to analyze; stop the sweep
        summary = cast("Summary", api.analyze(result.run_dir, slo=plan.slo).summary if analyze else {})
        if result.stopped_by is not None:  # this step is analyzed (marked partial); no further step
            raise result.stopped_by
        return load_samples(result.run_dir, run_id), manifest, summary


class StepError(SuiteError):
    """A sweep or swap step failed; the message names the step and keeps the cause's exit code.
    Steps finished before it keep their own folders (corpus, request log, summary, report)."""

    def __init__(self, step: str, cause: SuiteError) -> None:
        super().__init__(f"step '{step}' failed: {cause}")
        self.exit_code = cause.exit_code


@contextlib.contextmanager
def _naming(step: str) -> Iterator[None]:
    try:
        yield
    except StepError:
        raise
    except SuiteError as exc:
        raise StepError(step, exc) from exc


def _verdict(plan: StepPlan, summary: Summary) -> SloVerdict | Why | None:
    """The step's SLO verdict, as its own analysis (run with the sweep's --slo) wrote it."""
    return summary.get("slo") if plan.slo else None


def _header(kind: str, plan: StepPlan, levels: Sequence[Any]) -> dict[str, Any]:
    # the Target as describe() keeps it (credentials redacted), never its fields
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(replace(plan, target=None)).items()
                if k not in ("out", "boot", "salt")}
    settings["target"] = None if plan.target is None else plan.target.describe()
    return {"schema": SWEEP_SCHEMA, "kind": kind, "levels": list(levels), "settings": settings,
            "bootstrap": asdict(plan.boot),
            "target": "bundled mock (cache flushed before every step)" if plan.target is None
                      else plan.target.url,
            "seeds": _seeds(plan)}


def _seeds(plan: StepPlan) -> str:
    seeds = ("the same seed every step" if plan.uses_mock else
             "seed + step index (the remote target's cache is not reset between steps)")
    if plan.salt is None:
        return seeds
    return f"{seeds}; step i's corpus salted with '{plan.salt}-i' (reproduce: --salt {plan.salt})"


def sweep_cache(plan: StepPlan, ratios: Sequence[float], ui: SweepUI | None = None) -> SweepResult:
    """One synthesized corpus per repetition ratio, each run and analyzed (see module docstring)."""
    ui = ui or SweepUI()
    if not ratios or any(not 0 <= r < 1 for r in ratios):
        raise SpecError(f"--ratios: {list(ratios)} must be one or more repetition ratios in [0, 1), "
                        "e.g. 0,0.5,0.9.")
    plan, fresh = start_fresh(plan, ui)  # a salt (and a probe) against a real target: suite.sweep.fresh
    rows, samples, summaries = [], [], []
    with sweep_target(plan, ui) as target:
        for i, ratio in enumerate(sorted(ratios)):
            ui.step(i, len(ratios), f"ratio {ratio:g}")
            s, manifest, summary = run_step(plan, target, f"ratio-{ratio:g}", i, repeat_ratio=ratio)
            summaries.append((f"ratio-{ratio:g}", summary))
            rows.append({"repeat_ratio": ratio, "run_dir": str(s.run_dir),
                         **cache_cells(s, manifest, plan.boot), **miss_cells(summary),
                         **latency_cells(s), "slo": _verdict(plan, summary)})
            samples.append(s)
    ui.step(len(ratios), len(ratios), "done")
    baseline = add_gains(rows, samples, plan.boot)
    warnings = excess_hits(rows) + coverage_warnings(summaries)
    result = {**_header("cache", plan, sorted(ratios)), **warned(fresh, warnings, ui),
              "baseline": baseline, "steps": rows}
    return cast("SweepResult", result)


def sweep_load(plan: StepPlan, users: Sequence[int] | None = None, rates: Sequence[float] | None = None,
               corpus: Path | None = None, ui: SweepUI | None = None) -> SweepResult:
    """The same workload at each concurrency (closed loop) or rate (open loop); the SLO knee marked."""
    ui = ui or SweepUI()
    if bool(users) == bool(rates):
        raise SpecError("sweep load: give exactly one of --users 1,5,10 (closed loop) or --rates 1,5,10 "
                        "(open loop, requests/s).")
    key = "users" if users else "rate"
    levels = sorted(users or rates or [])
    if any(v <= 0 for v in levels):
        raise SpecError(f"--{key if key == 'users' else 'rates'}: {levels} must all be > 0.")
    plan, fresh = start_fresh(plan, ui, corpus)
    rows, summaries, models = [], [], set[str]()
    with sweep_target(plan, ui) as target:
        for i, level in enumerate(levels):
            ui.step(i, len(levels), f"{key} {level:g}")
            step_corpus = level_corpus(plan, corpus, i)
            s, _, summary = run_step(plan, target, f"{key}-{level:g}", i, corpus=step_corpus,
                                     users=int(level) if key == "users" else None,
                                     rate=float(level) if key == "rate" else None)
            summaries.append((f"{key}-{level:g}", summary))
            models.update(m for m in s.models.tolist() if isinstance(m, str))
            rows.append({key: level, "run_dir": str(s.run_dir), **latency_cells(s),
                         **scheduled_cells(summary), "slo": _verdict(plan, summary)})
    ui.step(len(levels), len(levels), "done")
    header = _header("load", plan, levels)
    if corpus is not None:
        header["seeds"] = f"every level replays {corpus}" + (
            "" if plan.salt is None else f", salted per level with '{plan.salt}-<level index>'")
    warnings = coverage_warnings(summaries)
    if plan.uses_mock:  # the mock started with this file: it is valid
        from mock_server.config import load_profiles

        warnings += flat_load_warnings(sorted(models), load_profiles(plan.profiles), str(plan.profiles))
    return cast("SweepResult", {**header, **warned(fresh, warnings, ui),
                                "level_key": key,
                                "corpus": str(corpus) if corpus else None,
                                "knee": knee(rows, key), "steps": rows})


def sweep_failed(result: SweepResult) -> bool:
    """Whether any step failed its SLO (the CLI exits 7 then)."""
    return any(r.get("slo") is not None and not r["slo"]["passed"] for r in result["steps"])

