"""The library API: everything the CLI does, a Python user can do by importing this module.

Each function composes stages through their files (docs/design.md) and raises ``suite.errors``
exceptions; rendering and exit codes belong to the CLI. Stages are imported lazily so that, e.g.,
``llmsuite analyze`` never pays for Faker or the driver.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.errors import SpecError, SuiteError

if TYPE_CHECKING:
    from suite.driver.control.target import Target

REPO_ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIRS = (Path("corpora/scenarios"), REPO_ROOT / "corpora" / "scenarios")
DEFAULT_PROFILES = REPO_ROOT / "corpora" / "profiles" / "models.yaml"

Progress = Callable[[int, int], None]
DEFAULT_MAX_ERROR_RATIO = 0.5  # llmsuite run --max-error-ratio


def resolve_scenario(name_or_path: str | Path) -> Path:
    """A scenario is a YAML path, or a name looked up in ``corpora/scenarios/``."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.exists():
            raise SpecError(f"scenario file {path} does not exist. Check the path.")
        return path
    for folder in SCENARIO_DIRS:
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.exists():
            return candidate
    known = sorted({p.stem for d in SCENARIO_DIRS if d.is_dir() for p in d.glob("*.yaml")})
    raise SpecError(f"unknown scenario {str(name_or_path)!r}; known: {', '.join(known) or 'none'}"
                    " (or give a path to a .yaml file).")


@dataclass
class SynthResult:
    corpus: Path
    manifest_path: Path
    manifest: dict[str, Any]


def synthesize(scenario: str | Path, out: Path, *, n: int | None = None, seed: int | None = None,
               repeat_ratio: float | None = None, models: dict[str, float] | None = None,
               overrides: dict[str, Any] | None = None, progress: Progress | None = None) -> SynthResult:
    """Scenario spec → corpus JSONL + manifest; command-line values override the spec's keys and
    are validated exactly like them. ``progress(done, total)`` is called while building."""
    from suite import synth
    from suite.synth.write import write_corpus_then_manifest

    given = {"n": n, "seed": seed, "repeat_ratio": repeat_ratio, "models": models}
    merged = {k: v for k, v in given.items() if v is not None} | (overrides or {})
    spec = synth.load_spec(resolve_scenario(scenario), overrides=merged)
    requests = synth.build_corpus(spec, rng_seed=spec.seed, progress=progress)
    corpus, mpath, manifest = write_corpus_then_manifest(
        out, requests, lambda sha: synth.build_manifest(spec, spec.seed, requests, corpus_sha=sha))
    return SynthResult(corpus, mpath, manifest)


@dataclass
class Analysis:
    run_dir: Path
    summary: dict[str, Any]
    files: list[Path]


def analyze(run_dir: Path, slo: str | Path | None = None, files: list[Path] | None = None,
            checks: list[str] | None = None, cache_detect: str | None = None,
            cache_ttl_s: float | None = None, served_key_header: str | None = None,
            similarity_header: str | None = None) -> Analysis:
    """Request log shards (or ``files``) → summary.json, CSVs, charts and report.html in the run
    folder; with ``slo`` (a profile name or a YAML file) and/or ``checks`` (``"ttft.p95 < 500ms"``),
    goodput and a verdict in the summary (``summary["slo"]["passed"]``); with ``cache_detect`` (a
    ``--cache-detect`` rule), hits re-attributed from the records' recorded cache headers; with
    ``cache_ttl_s`` (the target cache's TTL), repeat misses past it are counted as expired; with
    ``served_key_header`` / ``similarity_header`` (recorded header names; one not given is not read),
    hits judged against the corpus by those instead of the run's own rule."""
    from suite import analyze as stage
    from suite.analyze.summarize.slo import load_slo, with_checks
    from suite.cachesignal import served_rule

    spec = with_checks(load_slo(slo) if slo is not None else None, checks or [])
    served = None if served_key_header is None and similarity_header is None else \
        served_rule(served_key_header or "none", similarity_header or "none")
    summary, written = stage.analyze_and_write(run_dir, spec, files, cache_detect=cache_detect,
                                               cache_ttl_s=cache_ttl_s, served=served)
    return Analysis(run_dir, summary, list(written))


def error_verdict(summary: Mapping[str, Any], max_error_ratio: float = DEFAULT_MAX_ERROR_RATIO) -> str | None:
    """Why an analyzed run failed as a measurement — more than ``max_error_ratio`` of its
    requests failed — naming the dominant error kind and quoting one of its messages; None when
    the ratio is within bounds or nothing was sent (no ratio exists). ``llmsuite run`` exits 5 on it."""
    totals = summary.get("totals") or {}
    ratio = totals.get("error_ratio")
    if ratio is None or ratio <= max_error_ratio:
        return None
    errors = totals.get("errors") or []
    top = errors[0] if errors else {}
    example = f", e.g. {top['example']!r}" if top.get("example") else ""
    dominant = f"; most failures are {top.get('kind')} ({top.get('count')}){example}" if top else ""
    return (f"{totals.get('failed')} of {totals.get('sent')} requests failed (error ratio "
            f"{ratio:.2f}), above --max-error-ratio {max_error_ratio:g}{dominant}")


def run(corpus: Path, target: str | Target, out_root: Path, *, users: int | None = None,
        spawn_rate: float = 10.0, duration_s: float | None = None, run_id: str | None = None,
        api_key: str | None = None, progress: Progress | None = None, load: Any = None,
        topology: Any = None, options: Mapping[str, Any] | None = None,
        monitor_interval: float | None = None, notify: Callable[[str], None] | None = None,
        bundled_mock: Mapping[str, Any] | None = None, **run_load_kwargs: Any) -> Any:
    """Replay a corpus against a target with Locust; returns the driver's RunResult.

    ``target``: a ``Target`` (suite.driver.control.target: URL, request options, key, health
    check, timeouts — what ``llmsuite run`` builds from its options), or a base URL with the key
    in ``api_key`` and request settings in ``options``. run.json keeps ``Target.describe()``
    (no secret) as ``extra.target``.

    ``monitor_interval``: scrape ``<target>/metrics`` every N s into ``target_metrics.jsonl``
    (None = 2 s when the target has /metrics, else off; 0 = off), with the target's auth headers;
    ``notify`` hears which.

    ``bundled_mock``: set by whoever started the bundled mock server as the target
    (``bundled_mock_meta``); run.json keeps it as ``extra.target.bundled_mock`` so a report never
    reads like a measurement of real models.

    ``load`` (suite.driver.control.loadopts.LoadOptions): closed/open loop, preset, warm-up, abort rules,
    exporters; ``topology`` (suite.driver.control.command.Topology): processes, master/worker, web UI;
    ``options``: further DriverConfig fields by name (e.g. ``{"request": RequestOptions(...)}``);
    other keywords go to ``run_load`` (e.g. ``stop_timeout_s``, ``max_wall_s``). Without
    ``users`` / ``duration_s``: the preset's, else 10 users for at most 60 s. SIGINT, SIGTERM or
    SIGHUP during the run stop Locust and return the result (``result.stopped_by``, run.json
    ``extra.interrupted`` and ``extra.partial``); before or after it they raise
    ``suite.signals.Interrupted``, with the scratch series removed either way.
    """
    from dataclasses import replace

    from suite.driver.control.loadopts import LoadOptions
    from suite.driver.control.runner import run_load
    from suite.driver.control.shapes import get_preset

    load = load or LoadOptions()
    if load.preset:
        preset = get_preset(load.preset)
        load = replace(load, preset_users=users)
        users = users or preset.peak_users
        duration_s = duration_s or preset.duration_s
    from suite.driver.control.target import as_target

    opts = options or {}
    where = as_target(target, api_key=api_key, request=opts.get("request"),
                      ttft_timeout_s=opts.get("ttft_timeout_s"), timeout_s=run_load_kwargs.get("timeout_s"),
                      health_path=load.health_path, health_method=load.health_method)
    load = replace(load, health_path=where.health_path, health_method=where.health_method)
    options = {**opts, "request": where.request, "ttft_timeout_s": where.ttft_timeout_s}
    run_load_kwargs["timeout_s"] = where.timeout_s
    if bundled_mock is None:  # started by hand (`llmsuite mock`): the mock says so itself
        bundled_mock = identify_bundled_mock(where.url, where.auth_headers())
    from suite.monitor import monitor_target
    from suite.signals import stop_on_signals

    scratch = Path(out_root) / f".target_metrics.{os.getpid()}.jsonl"
    # a signal is an exception here (not a kill), so the scratch file is always removed or moved
    with stop_on_signals(), contextlib.ExitStack() as cleanup:
        cleanup.callback(scratch.unlink, missing_ok=True)
        with monitor_target(where.url, monitor_interval, scratch, headers=where.auth_headers()) as monitoring:
            if notify:
                notify(monitoring.note)
            result = run_load(corpus, where.url, out_root, users or 10, spawn_rate, duration_s or 60.0,
                              api_key=where.api_key, progress=progress, run_id=run_id, load=load,
                              topology=topology, options=options,
                              target_meta={**where.describe(),
                                           **({"bundled_mock": dict(bundled_mock)} if bundled_mock else {})},
                              **run_load_kwargs)
        monitoring.save_to(result.run_dir)
    return result


# --- the demo: every stage, end to end, on loopback ---------------------------------------------


class DemoError(SuiteError):
    """A demo stage failed; the message names the stage."""

    def __init__(self, stage: str, message: str, exit_code: int) -> None:
        super().__init__(f"demo failed at stage '{stage}': {message}")
        self.stage = stage
        self.exit_code = exit_code


@dataclass
class DemoOptions:
    n: int = 300
    models: dict[str, float] = field(default_factory=lambda: {"gpt-4o": 0.5, "gpt-5-mini": 0.5})
    repeat_ratio: float = 0.3
    max_tokens: tuple[int, ...] = (48, 64, 96)
    users: int = 16
    spawn_rate: float = 16.0
    duration_s: float = 30.0
    seed: int = 7
    use_redis: bool = True
    out_root: Path = Path("reports")
    scenario: str = "ops-assistant"


@dataclass
class DemoResult:
    synth: SynthResult
    run: Any
    analysis: Analysis
    cache_backend: str
    stage_seconds: dict[str, float]


class DemoUI:
    """What the demo tells a person; the CLI subclasses it with rich output."""

    def stage(self, name: str, detail: str) -> None: ...

    def note(self, message: str) -> None: ...

    def progress(self) -> Progress | None:
        return None


@contextlib.contextmanager
def _stage(name: str, ui: DemoUI, timings: dict[str, float], detail: str = "") -> Iterator[None]:
    ui.stage(name, detail)
    t0 = time.perf_counter()
    try:
        yield
    except SuiteError as exc:
        raise DemoError(name, str(exc), exc.exit_code) from exc
    except Exception as exc:  # an unexpected failure still names its stage
        raise DemoError(name, f"{type(exc).__name__}: {exc}", 1) from exc
    timings[name] = time.perf_counter() - t0


def _demo_redis(opts: DemoOptions, ui: DemoUI, stack: contextlib.ExitStack) -> str:
    from suite.services import find_redis_server, start_redis

    if not opts.use_redis:
        ui.note("cache: mock server in-memory cache (--no-redis given)")
        return "memory"
    if find_redis_server() is None:
        ui.note("cache: redis-server not available, using the mock server's in-memory cache instead")
        return "memory"
    server = stack.enter_context(start_redis())
    return server.url


def identify_bundled_mock(url: str, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """``bundled_mock_meta`` for a loopback target whose ``/health`` says it is the bundled mock
    (``"server": "llmsuite-mock"``; a mock started by hand with ``llmsuite mock``), else None. Only
    loopback targets are asked: a real gateway is never sent a request it was not configured for."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "::1", "localhost"):
        return None
    try:
        request = urllib.request.Request(f"{url.rstrip('/')}/health", headers=dict(headers))
        with urllib.request.urlopen(request, timeout=2) as resp:
            health = json.loads(resp.read(65536))
    except (urllib.error.URLError, OSError, ValueError):
        return None
    if not isinstance(health, dict) or health.get("server") != "llmsuite-mock":
        return None
    return _mock_meta(health)


def _mock_meta(health: Mapping[str, Any]) -> dict[str, Any]:
    models = health.get("models")
    return {"profiles": [str(m) for m in models] if isinstance(models, list) else None,
            "cache": health.get("cache"), "seed": health.get("seed")}


def bundled_mock_meta(url: str) -> dict[str, Any]:
    """run.json ``extra.target.bundled_mock`` for a bundled mock server just started at ``url``: its
    profiles (model names), cache backend (``redis`` / ``memory`` / ``none``) and seed, as its own
    ``/health`` says; a field it did not answer is null (still marked as the bundled mock)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as resp:
            health = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        health = {}
    return _mock_meta(health if isinstance(health, dict) else {})


def demo(opts: DemoOptions, ui: DemoUI) -> DemoResult:
    """synth → private redis → mock server → Locust → analyze; everything started is stopped."""
    from suite.driver.control.runner import new_run_id
    from suite.services import start_mock_server

    timings: dict[str, float] = {}
    run_id = f"demo-{new_run_id()}"
    run_dir = opts.out_root / run_id
    with contextlib.ExitStack() as stack:
        with _stage("synth", ui, timings, f"{opts.n} requests, {opts.repeat_ratio:.0%} exact repeats"):
            synth_result = synthesize(
                opts.scenario, run_dir / "corpus.jsonl", n=opts.n, seed=opts.seed,
                repeat_ratio=opts.repeat_ratio, models=opts.models,
                overrides={"max_tokens": {"choices": list(opts.max_tokens)}})
        with _stage("redis", ui, timings):
            cache = _demo_redis(opts, ui, stack)
        with _stage("mock", ui, timings, f"cache {cache}"):
            mock = stack.enter_context(start_mock_server(
                ["--profiles", str(DEFAULT_PROFILES), "--cache", cache, "--seed", str(opts.seed)],
                run_dir / "mock_server.log"))
        with _stage("run", ui, timings, f"{opts.users} users, up to {opts.duration_s:.0f} s, {mock.url}"):
            result = run(synth_result.corpus, mock.url, opts.out_root, users=opts.users,
                         spawn_rate=opts.spawn_rate, duration_s=opts.duration_s, run_id=run_id,
                         progress=ui.progress(), bundled_mock=bundled_mock_meta(mock.url))
        with _stage("analyze", ui, timings):
            analysis = analyze(result.run_dir)
    backend = "redis" if cache.startswith("redis://") else "memory"
    return DemoResult(synth_result, result, analysis, backend, timings)


# --- corpus inspection ----------------------------------------------------------------------------


@dataclass
class CorpusStats:
    corpus: Path
    stats: dict[str, Any]
    plots: list[Path]


def corpus_stats(corpus: Path, *, plot: bool = False, prefix_cache: bool = False) -> CorpusStats:
    """Read a corpus and compute its headline statistics; with ``plot``, write
    ``<name>.tokens.png`` and ``<name>.popularity.png`` beside it; with ``prefix_cache``, also the
    expected prefix-cache share (it tokenizes every prompt)."""
    from suite.records import read_corpus
    from suite.synth import stats

    requests = read_corpus(Path(corpus))
    plots: list[Path] = []
    if plot:
        from suite.synth import plots as charts

        plots = charts.write_plots(Path(corpus), requests)
    return CorpusStats(Path(corpus), stats.summary(requests, with_prefix_cache=prefix_cache), plots)


def synthesize_import(source: Path, fmt: str, out: Path, *, scenario: str | Path = "ops-assistant",
                      column: str | None = None, skip_bad: bool = False, n: int | None = None,
                      seed: int | None = None, repeat_ratio: float | None = None,
                      models: dict[str, float] | None = None, overrides: dict[str, Any] | None = None,
                      progress: Progress | None = None) -> SynthResult:
    """Imported prompts (ShareGPT / JSONL / CSV) → corpus JSONL + manifest. The scenario supplies the
    model mix, request parameters, repetition and arrival controls; the prompts replace its templates
    (a multi-turn ShareGPT conversation becomes a session, one request per human turn).
    Without ``n``, the corpus has as many fresh requests as there are distinct prompts."""
    from suite import synth
    from suite.synth.imported import build_imported
    from suite.synth.importer import read_prompts
    from suite.synth.spec import read_yaml
    from suite.synth.write import write_corpus_then_manifest

    imported = read_prompts(source, fmt, column, skip_bad)
    given = {"seed": seed, "repeat_ratio": repeat_ratio, "models": models}
    merged = {k: v for k, v in given.items() if v is not None} | (overrides or {})
    path = resolve_scenario(scenario)
    # the file is read once, validated twice (n depends on it); None = an option not given
    raw = {**read_yaml(path), **{k: v for k, v in merged.items() if v is not None}}
    spec = synth.parse_spec(raw, str(path))
    fresh_share = 1 - spec.repeat_ratio - spec.near_duplicate_ratio
    distinct = len({tuple((m["role"], m["content"]) for m in p) for p in imported.prompts})
    count = n if n is not None else max(1, round(distinct / fresh_share))
    spec = synth.parse_spec({**raw, "n": count, "domain": "imported"}, str(path))
    requests, duplicates = build_imported(spec, imported.conversations, str(source), spec.seed, progress)
    report = {**imported.report(), "duplicates_skipped": duplicates}
    extra = {"import": report, "intent_mix": {"requested": None, "achieved": {"imported": 1.0}}}
    corpus, mpath, manifest = write_corpus_then_manifest(
        out, requests, lambda sha: synth.build_manifest(spec, spec.seed, requests, extra, corpus_sha=sha))
    return SynthResult(corpus, mpath, manifest)
