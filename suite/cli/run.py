"""``llmsuite run``: replay a corpus with Locust (closed or open loop, presets, processes, web UI,
abort rules, live exporter), then analyze. A thin click layer: options become one ``LoadOptions``
and one ``Topology``, ``suite.api.run`` does the work; errors and exit codes go through
``suite.cli.common.run_command``. Exit codes: an abort rule stopped the run → ``EXIT_RUN_ABORTED``;
SIGINT / SIGTERM / SIGHUP → 130 / 143 / 129 after Locust's group is stopped, the log checked, the
counts printed and what was recorded analyzed (the report marked partial). ``--web --web-keep``:
after the run is written and analyzed, Locust's UI stays up until Ctrl-C (then the run's own code).
The terminal shows the run's live panel (suite.cli.livepanel).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from suite import api
from suite.api import DEFAULT_MAX_ERROR_RATIO
from suite.cli.common import (
    EXIT_INTERRUPTED,
    Duration,
    NonNegativeInt,
    Port,
    PositiveFloat,
    PositiveInt,
    Seed,
    Share,
    console,
    err_console,
    parse_duration,
    print_summary,
    run_command,
    run_files_options,
)
from suite.cli.helpgroups import EXAMPLES, GroupedCommand
from suite.cli.livepanel import RunPanel
from suite.cli.targetopts import TargetArgs, target_group
from suite.driver.control.command import DEFAULT_MASTER_PORT, Topology
from suite.driver.control.loadopts import (
    DEFAULT_ABORT_CONNECT_ERRORS,
    DEFAULT_LAG_WARN_MS,
    DEFAULT_MAX_CONCURRENCY,
    LoadOptions,
)
from suite.driver.control.shapes import PRESETS, describe
from suite.driver.inlocust.backoff import RETRY_AFTER_CAP_S
from suite.errors import EXIT_ERROR_RATIO, EXIT_RUN_ABORTED, EXIT_SLO_FAILED, SpecError
from suite.signals import interruption

if TYPE_CHECKING:
    from suite.driver.control.runner import RunResult
    from suite.driver.control.webkeep import KeptWeb


def _load_options(fn: Any) -> Any:
    options = [
        click.option("--users", "-u", type=PositiveInt, help="Closed-loop users (default 10; with "
                     "--preset: the preset's peak rescaled to this)."),
        click.option("--spawn-rate", "-r", type=PositiveFloat, default=10.0, show_default=True),
        click.option("--duration", "-d", type=Duration(), help="Upper bound: 90, 30s, 5m (default 60 s, "
                     "or the preset's); the run ends earlier when the corpus is exhausted."),
        click.option("--think-time", type=Duration(allow_zero=True), default="0", show_default=True,
                     help="Closed loop: pause after each answer (e.g. 500ms)."),
        click.option("--affinity", is_flag=True, help="Closed loop: a user keeps a whole multi-turn "
                     "session."),
        click.option("--preset", type=click.Choice(list(PRESETS)), help=describe()),
        click.option("--open-loop", is_flag=True, help="Send at the corpus's arrival times t (or --rate) "
                     "whether or not earlier requests have answered."),
        click.option("--rate", type=PositiveFloat, help="Open loop: override the arrival rate (requests/s)."),
        click.option("--arrival", type=click.Choice(["poisson", "constant"]), default="poisson",
                     show_default=True, help="Open loop with --rate: the arrival process."),
        click.option("--seed", type=Seed, default=0, show_default=True, help="Seed of --arrival poisson."),
        click.option("--max-concurrency", type=PositiveInt, default=DEFAULT_MAX_CONCURRENCY,
                     show_default=True,
                     help="Open loop: requests in flight per process; later sends wait (and count)."),
        click.option("--lag-warn", type=PositiveFloat, default=DEFAULT_LAG_WARN_MS, show_default=True,
                     help="Open loop: warn when send lateness p99 exceeds this many ms."),
        click.option("--max-requests", type=PositiveInt, help="Send at most the first N corpus requests."),
        click.option("--warmup", type=Duration(allow_zero=True), help="Mark requests sent in this first "
                     "window (e.g. 10s) warmup: kept in the log, excluded from statistics."),
        click.option("--abort-error-ratio", type=Share, help="Abort when the error ratio over "
                     "--abort-window exceeds this (e.g. 0.5)."),
        click.option("--abort-window", type=Duration(), default="30s", show_default=True),
        click.option("--abort-min-requests", type=PositiveInt, default=20, show_default=True,
                     help="--abort-error-ratio judges a window only once it holds this many "
                     "results (a couple of early failures are not a trend)."),
        click.option("--abort-health-failures", type=PositiveInt, help="Abort after this many /health "
                     "checks in a row fail (checked every --health-interval)."),
        click.option("--health-interval", type=Duration(), default="5s", show_default=True),
        click.option("--prometheus-port", type=Port, help="Serve live driver metrics on 127.0.0.1:PORT "
                     "(worker i of --processes: PORT+i)."),
        click.option("--web", is_flag=True, help="Locust's web UI on 127.0.0.1:--web-port, started at "
                     "once; an LLM tab shows TTFT, output tokens/s, hit ratio, in flight per model."),
        click.option("--web-port", type=Port, default=8089, show_default=True),
        click.option("--web-keep", is_flag=True, help="With --web: keep the web UI up after the run "
                     "(records and analysis written first) until Ctrl-C."),
        click.option("--processes", type=NonNegativeInt, default=0, help="Locust master + N worker "
                     "processes on this host; the corpus is split between them (0: one process)."),
        click.option("--master", is_flag=True, help="Multi-host: be the master; wait for --expect-workers."),
        click.option("--expect-workers", type=PositiveInt, default=1, show_default=True),
        click.option("--worker", is_flag=True, help="Multi-host: be a worker of --master-host."),
        click.option("--master-host", default="127.0.0.1", show_default=True),
        click.option("--master-port", type=Port, default=DEFAULT_MASTER_PORT, show_default=True),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def build_load(v: dict[str, Any]) -> LoadOptions:
    """LoadOptions from the command's values (pops what it uses)."""
    return LoadOptions(
        mode="open" if v.pop("open_loop") else "closed", rate=v.pop("rate"), arrival=v.pop("arrival"),
        seed=v.pop("seed"), max_concurrency=v.pop("max_concurrency"), lag_warn_ms=v.pop("lag_warn"),
        think_time_s=parse_duration("--think-time", v.pop("think_time")) or 0.0,
        affinity=v.pop("affinity"), preset=v.pop("preset"), max_requests=v.pop("max_requests"),
        warmup_s=parse_duration("--warmup", v.pop("warmup")) or 0.0,
        abort_error_ratio=v.pop("abort_error_ratio"),
        abort_window_s=parse_duration("--abort-window", v.pop("abort_window")) or 30.0,
        abort_min_requests=v.pop("abort_min_requests"),
        health_failures=v.pop("abort_health_failures"),
        health_interval_s=parse_duration("--health-interval", v.pop("health_interval")) or 5.0,
        prometheus_port=v.pop("prometheus_port"), llm_stats=bool(v.get("web")))


def build_topology(v: dict[str, Any]) -> Topology:
    master, worker = v.pop("master"), v.pop("worker")
    if master and worker:
        raise SpecError("--master and --worker exclude each other: a process is one or the other.")
    role = "master" if master else "worker" if worker else "local"
    return Topology(processes=v.pop("processes"), role=role,
                    master_host=v.pop("master_host"), master_port=v.pop("master_port"),
                    expect_workers=v.pop("expect_workers"), web=v.pop("web"), web_port=v.pop("web_port"),
                    web_keep=v.pop("web_keep"))


def _fault_options(fn: Any) -> Any:
    """Retry-After and the verdicts on a failing target (issue 13); the per-request limits
    (--timeout, --ttft-timeout) are the target's (suite.cli.targetopts)."""
    options = [
        click.option("--retry-after", type=click.Choice(["record", "honour"]), default="record",
                     show_default=True, help="A 429/503's Retry-After is always recorded "
                     f"(retry_after); honour: that closed-loop user also waits it (at most "
                     f"{RETRY_AFTER_CAP_S:g} s) before its next send."),
        click.option("--max-error-ratio", type=Share, default=DEFAULT_MAX_ERROR_RATIO, show_default=True,
                     help="Exit 5 when more than this share of requests failed (checked on the "
                     "analysis; 1 = never)."),
        click.option("--abort-connect-errors", type=PositiveInt, default=DEFAULT_ABORT_CONNECT_ERRORS,
                     show_default=True, help="Abort (exit 8) after this many connect errors in a row: "
                     "the target is gone."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


_no_analyze = click.option("--no-analyze", is_flag=True, help="Only write the request log.")
_slo = click.option("--slo", default=None, help="Check the run against an SLO profile (single-tenant, "
                    "multi-tenant, enterprise, high-frequency) or a YAML file; exit 7 when it fails.")
_monitor = click.option("--monitor-interval", type=Duration(allow_zero=True), default=None,
                        help="Scrape <target>/metrics every N s into target_metrics.jsonl "
                             "(default: 2s when the target has /metrics, else off; 0: off).")


@click.command("run", cls=GroupedCommand, examples=EXAMPLES["run"])
@run_files_options
@target_group()
@_load_options
@_fault_options
@_monitor
@_slo
@_no_analyze
def run(corpus: Path, target: TargetArgs, run_id: str | None, out: Path, no_analyze: bool, slo: str | None,
        users: int | None, spawn_rate: float, duration: str | None, **values: Any) -> None:
    """Replay a corpus against a target with Locust, then analyze (driver + analyze)."""

    def go() -> int:
        if slo is not None:
            _check_slo(slo, no_analyze)
        monitor = parse_duration("--monitor-interval", values.pop("monitor_interval", None))
        where, notices = target.real()
        for notice in notices:
            err_console.print(f"[yellow]note:[/] {notice}", highlight=False, soft_wrap=True)
        max_error_ratio = values.pop("max_error_ratio")
        load = replace(build_load(values), retry_after=values.pop("retry_after"),
                       abort_connect_errors=values.pop("abort_connect_errors"))
        topology = build_topology(values)
        if topology.web and topology.role != "worker":  # a worker has no UI: its master does
            console.print(f"web UI: http://127.0.0.1:{topology.web_port} (LLM figures: its LLM tab)",
                          highlight=False, markup=False)
        bar = RunPanel("run")
        try:
            result = api.run(corpus, where, out, users=users, spawn_rate=spawn_rate,
                             duration_s=parse_duration("--duration", duration), run_id=run_id,
                             progress=bar, load=load, topology=topology,
                             monitor_interval=0.0 if topology.role == "worker" else monitor,
                             notify=lambda note: console.print(note, style="dim", markup=False,
                                                               highlight=False))
        finally:
            bar.stop()
        try:
            code = _report(result, no_analyze, topology.role, slo, max_error_ratio)
            if result.web is not None:
                keep_web(result.web)
        finally:
            if result.web is not None:
                result.web.stop()
        return code

    run_command(go)


def keep_web(web: KeptWeb) -> None:
    """--web-keep: the run is written and analyzed; the UI stays until Ctrl-C (or Locust exits)."""
    console.print(f"web UI still up at {web.url} with the run's final numbers; press Ctrl-C to stop",
                  highlight=False, markup=False, soft_wrap=True)
    try:
        web.wait()
    except KeyboardInterrupt as exc:  # Ctrl-C is the expected way to end it, not an interruption
        if interruption(exc).signal != "SIGINT":  # SIGTERM / SIGHUP: a supervisor stopping us
            raise
    web.stop()
    console.print("web UI stopped", highlight=False, markup=False)


def _report(result: RunResult, no_analyze: bool, role: str, slo: str | None, max_error_ratio: float) -> int:
    """After the run: its counts, truncation and warnings, the analysis; returns the exit code."""
    console.print(f"sent {result.sent}, recorded {result.records} -> {result.run_dir}")
    from suite.analyze.summarize.coverage import run_coverage, truncated  # not on --help's path

    coverage = run_coverage(result.meta) if result.meta else None
    if coverage is not None and truncated(coverage):  # the same sentence as summary.json's
        err_console.print(f"[yellow]truncated:[/] {coverage['note']}", highlight=False, soft_wrap=True)
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if result.aborted:
        err_console.print(f"[bold red]aborted:[/] {result.aborted['reason']}", highlight=False,
                          soft_wrap=True)
    if result.partial:
        err_console.print(f"[bold red]partial:[/] {result.partial['reason']}", highlight=False,
                          soft_wrap=True)
    passed, failing = None, None
    # an interrupted run is analyzed too: what was recorded, marked partial (from run.json)
    if not no_analyze and role != "worker" and result.log_files and (
            result.records or not result.interrupted):
        analysis = api.analyze(result.run_dir, slo=slo)
        print_summary(analysis)
        passed = (analysis.summary.get("slo") or {}).get("passed")
        failing = api.error_verdict(analysis.summary, max_error_ratio)
        if failing:
            err_console.print(f"[bold red]failing:[/] {failing}", highlight=False, soft_wrap=True)
    if result.stopped_by is not None:
        err_console.print(f"[bold red]Interrupted[/] by {result.stopped_by.signal}. The log holds "
                          "every request sent.")
        return result.stopped_by.exit_code
    if result.interrupted:
        return EXIT_INTERRUPTED
    return exit_code(bool(result.aborted), passed, failing is not None)


def _check_slo(slo: str, no_analyze: bool) -> None:
    """A bad --slo fails before any load is sent, not after the run."""
    from suite.analyze.summarize.slo import load_slo

    if no_analyze:
        raise SpecError("--slo checks the analysis of the run; drop --no-analyze to use it.")
    load_slo(slo)


def exit_code(aborted: bool, slo_passed: bool | None, too_many_errors: bool = False) -> int:
    """Abort 8 > error ratio 5 > SLO 7: a run stopped early cannot pass or fail anything fairly,
    and a run that mostly failed measured the errors, not the target's latency."""
    if aborted:
        return EXIT_RUN_ABORTED
    if too_many_errors:
        return EXIT_ERROR_RATIO
    return EXIT_SLO_FAILED if slo_passed is False else 0
