"""``llmsuite run``: replay a corpus with Locust (closed or open loop, presets, processes, web UI,
abort rules, live exporter), then analyze. A thin click layer: options become one ``LoadOptions``
and one ``Topology``, ``suite.api.run`` does the work; errors and exit codes go through
``suite.cli.common.run_command``. Exit codes: an abort rule stopped the run → ``EXIT_RUN_ABORTED``;
Ctrl-C → 130 after the log is checked and the counts printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from suite import api
from suite.cli.common import (
    EXIT_INTERRUPTED,
    RunProgress,
    console,
    err_console,
    parse_duration,
    print_summary,
    request_options,
    run_command,
    target_options,
)
from suite.driver.control.command import DEFAULT_MASTER_PORT, Topology
from suite.driver.control.loadopts import DEFAULT_LAG_WARN_MS, DEFAULT_MAX_CONCURRENCY, LoadOptions
from suite.driver.control.shapes import PRESETS, describe
from suite.errors import EXIT_RUN_ABORTED, EXIT_SLO_FAILED, SpecError


def _load_options(fn: Any) -> Any:
    options = [
        click.option("--users", "-u", type=int, help="Closed-loop users (default 10; with --preset: "
                     "the preset's peak rescaled to this)."),
        click.option("--spawn-rate", "-r", type=float, default=10.0, show_default=True),
        click.option("--duration", "-d", help="Upper bound: 90, 30s, 5m (default 60 s, or the "
                     "preset's); the run ends earlier when the corpus is exhausted."),
        click.option("--think-time", default="0", show_default=True, help="Closed loop: pause after "
                     "each answer (e.g. 500ms)."),
        click.option("--affinity", is_flag=True, help="Closed loop: a user keeps a whole multi-turn "
                     "session."),
        click.option("--preset", type=click.Choice(list(PRESETS)), help=describe()),
        click.option("--open-loop", is_flag=True, help="Send at the corpus's arrival times t (or --rate) "
                     "whether or not earlier requests have answered."),
        click.option("--rate", type=float, help="Open loop: override the arrival rate (requests/s)."),
        click.option("--arrival", type=click.Choice(["poisson", "constant"]), default="poisson",
                     show_default=True, help="Open loop with --rate: the arrival process."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed of --arrival poisson."),
        click.option("--max-concurrency", type=int, default=DEFAULT_MAX_CONCURRENCY, show_default=True,
                     help="Open loop: requests in flight per process; later sends wait (and count)."),
        click.option("--lag-warn", type=float, default=DEFAULT_LAG_WARN_MS, show_default=True,
                     help="Open loop: warn when send lateness p99 exceeds this many ms."),
        click.option("--max-requests", type=int, help="Send at most the first N corpus requests."),
        click.option("--warmup", help="Mark requests sent in this first window (e.g. 10s) warmup: kept "
                     "in the log, excluded from statistics."),
        click.option("--abort-error-ratio", type=float, help="Abort when the error ratio over "
                     "--abort-window exceeds this (e.g. 0.5)."),
        click.option("--abort-window", default="30s", show_default=True),
        click.option("--abort-min-requests", type=int, default=20, show_default=True,
                     help="--abort-error-ratio judges a window only once it holds this many "
                     "results (a couple of early failures are not a trend)."),
        click.option("--abort-health-failures", type=int, help="Abort after this many /health checks "
                     "in a row fail (checked every --health-interval)."),
        click.option("--health-interval", default="5s", show_default=True),
        click.option("--prometheus-port", type=int, help="Serve live driver metrics on 127.0.0.1:PORT "
                     "(worker i of --processes: PORT+i)."),
        click.option("--web", is_flag=True, help="Locust's web UI on 127.0.0.1:--web-port, started at "
                     "once, with TTFT and output tokens/s rows per model."),
        click.option("--web-port", type=int, default=8089, show_default=True),
        click.option("--processes", type=int, default=0, help="Locust master + N worker processes on "
                     "this host; the corpus is split between them."),
        click.option("--master", is_flag=True, help="Multi-host: be the master; wait for --expect-workers."),
        click.option("--expect-workers", type=int, default=1, show_default=True),
        click.option("--worker", is_flag=True, help="Multi-host: be a worker of --master-host."),
        click.option("--master-host", default="127.0.0.1", show_default=True),
        click.option("--master-port", type=int, default=DEFAULT_MASTER_PORT, show_default=True),
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
                    expect_workers=v.pop("expect_workers"), web=v.pop("web"), web_port=v.pop("web_port"))


_no_analyze = click.option("--no-analyze", is_flag=True, help="Only write the request log.")
_slo = click.option("--slo", default=None, help="Check the run against an SLO profile (single-tenant, "
                    "multi-tenant, enterprise, high-frequency) or a YAML file; exit 7 when it fails.")
_monitor = click.option("--monitor-interval", default=None,
                        help="Scrape <target>/metrics every N s into target_metrics.jsonl "
                             "(default: 2s when the target has /metrics, else off; 0: off).")


@click.command("run")
@target_options
@request_options
@_load_options
@_monitor
@_slo
@_no_analyze
def run(corpus: Path, target: str, run_id: str | None, out: Path, no_analyze: bool, slo: str | None,
        users: int | None, spawn_rate: float, duration: str | None, request: Any, **values: Any) -> None:
    """Replay a corpus against a target with Locust, then analyze (driver + analyze)."""

    def go() -> int:
        if slo is not None:
            _check_slo(slo, no_analyze)
        monitor = parse_duration("--monitor-interval", values.pop("monitor_interval", None))
        load, topology = build_load(values), build_topology(values)
        bar = RunProgress("run")
        try:
            result = api.run(corpus, target, out, users=users, spawn_rate=spawn_rate,
                             duration_s=parse_duration("--duration", duration), run_id=run_id,
                             api_key=request.api_key, progress=bar, load=load, topology=topology,
                             options={"request": request.options()},
                             monitor_interval=0.0 if topology.role == "worker" else monitor,
                             notify=lambda note: console.print(note, style="dim", markup=False,
                                                               highlight=False))
        finally:
            bar.stop()
        console.print(f"sent {result.sent}, recorded {result.records} -> {result.run_dir}")
        for warning in result.warnings:
            err_console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
        if result.aborted:
            err_console.print(f"[bold red]aborted:[/] {result.aborted['reason']}", highlight=False,
                              soft_wrap=True)
        if result.interrupted:
            err_console.print("[bold red]Interrupted.[/] The log holds every request sent.")
            return EXIT_INTERRUPTED
        passed = None
        if not no_analyze and topology.role != "worker" and result.log_files:
            analysis = api.analyze(result.run_dir, slo=slo)
            print_summary(analysis)
            passed = (analysis.summary.get("slo") or {}).get("passed")
        return exit_code(bool(result.aborted), passed)

    run_command(go)


def _check_slo(slo: str, no_analyze: bool) -> None:
    """A bad --slo fails before any load is sent, not after the run."""
    from suite.analyze.summarize.slo import load_slo

    if no_analyze:
        raise SpecError("--slo checks the analysis of the run; drop --no-analyze to use it.")
    load_slo(slo)


def exit_code(aborted: bool, slo_passed: bool | None) -> int:
    """An abort outranks the SLO verdict: a run stopped early cannot pass or fail its SLO fairly."""
    if aborted:
        return EXIT_RUN_ABORTED
    return EXIT_SLO_FAILED if slo_passed is False else 0
