"""``llmsuite check``: a preset run against a baseline run; exit 9 (``EXIT_REGRESSION``) when a primary
metric regressed significantly. A thin click layer over ``suite.check`` (run → analyze → compare →
verdict → check.json); errors and exit codes go through ``suite.cli.common.run_command``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from suite.api import DEFAULT_MAX_ERROR_RATIO
from suite.cli.common import (
    EXIT_INTERRUPTED,
    Duration,
    FiniteFloat,
    PositiveInt,
    RunId,
    Seed,
    Share,
    console,
    err_console,
    parse_duration,
    run_command,
)
from suite.cli.helpgroups import EXAMPLES, GroupedCommand
from suite.cli.livepanel import RunPanel
from suite.cli.targetopts import TargetArgs, target_group
from suite.driver.control.shapes import PRESETS, describe
from suite.errors import EXIT_ERROR_RATIO

if TYPE_CHECKING:
    from suite.check import CheckOutcome

NonNegativeFloat = FiniteFloat(min=0)


def _options(fn: Any) -> Any:
    options = [
        click.option("--preset", type=click.Choice(list(PRESETS)), required=True, help=describe()),
        click.option("--corpus", "-c", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                     help="Corpus JSONL to replay (or --scenario)."),
        click.option("--scenario", help="Synthesize the corpus from this scenario (name or YAML); the same "
                     "scenario and --n give the same corpus, so checks pair with their baseline."),
        click.option("--n", type=PositiveInt, help="With --scenario: requests in the corpus."),
        click.option("--users", "-u", type=PositiveInt, help="Override the preset's peak users."),
        click.option("--duration", "-d", type=Duration(), help="Override the preset's duration (e.g. 20s); "
                     "the run ends earlier when the corpus is exhausted."),
        click.option("--baseline", default="latest", show_default=True, metavar="DIR|latest|none",
                     help="The run to compare with: a run folder, the newest baseline saved for this "
                     "preset, target and corpus (latest), or none."),
        click.option("--save-baseline", is_flag=True, help="Promote this run to the baselines folder "
                     "when the check passes (exit 0)."),
        click.option("--baselines", type=click.Path(path_type=Path, file_okay=False),
                     default=Path("reports") / "baselines", show_default=True,
                     help="Baselines folder: <preset>/<run>/ copies with a baseline.json each."),
        click.option("--min-effect", type=NonNegativeFloat, default=0.10, show_default=True,
                     help="Ignore a latency or throughput change below this share of the baseline "
                     "(0.1 = 10 %), even when significant: CIs see request noise, not run-to-run drift."),
        click.option("--min-error-delta", type=Share, default=0.01, show_default=True,
                     help="Ignore an error-ratio increase below this (0.01 = 1 percentage point)."),
        click.option("--population", type=click.Choice(["all", "miss"]), default="all", show_default=True,
                     help="Latency compared on all requests, or on cache misses only (a caching target "
                     "answers a replayed corpus from its cache)."),
        click.option("--n-boot", type=PositiveInt, default=1000, show_default=True,
                     help="Bootstrap replicates."),
        click.option("--conf", type=FiniteFloat(0, 1, min_open=True, max_open=True), default=0.95,
                     show_default=True, help="Confidence level of CIs and tests, in (0, 1)."),
        click.option("--boot-seed", type=Seed, default=0, show_default=True, help="Bootstrap seed."),
        click.option("--slo", default=None, help="Also check the run against an SLO profile or YAML "
                     "file; exit 7 when it fails (and nothing worse happened)."),
        click.option("--max-error-ratio", type=Share, default=DEFAULT_MAX_ERROR_RATIO, show_default=True,
                     help="Exit 5 when more than this share of requests failed."),
        click.option("--run-id", type=RunId(), help="Folder name under --out (default: UTC timestamp)."),
        click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.command("check", cls=GroupedCommand, examples=EXAMPLES.get("check", ()))
@target_group()
@_options
def check(target: TargetArgs, preset: str, corpus: Path | None, scenario: str | None, n: int | None,
          users: int | None, duration: str | None, baseline: str, save_baseline: bool, baselines: Path,
          min_effect: float, min_error_delta: float, population: str, n_boot: int, conf: float,
          boot_seed: int, slo: str | None, max_error_ratio: float, run_id: str | None, out: Path) -> None:
    """Run a preset, compare with a baseline run; exit 9 when a primary metric (E2E/TTFT p50/p95, error
    ratio) is significantly worse. Exit codes: 0 pass, 9 regression, 7 SLO failed, 5 too many errors,
    8 aborted, 4 target unusable."""
    from suite.check import CheckPlan, Thresholds, run_check
    from suite.compare import Boot

    def go() -> int:
        where, notices = target.real()
        for notice in notices:
            err_console.print(f"[yellow]note:[/] {notice}", highlight=False, soft_wrap=True)
        plan = CheckPlan(preset=preset, target=where, boot=Boot(n_boot, conf, boot_seed), corpus=corpus,
                         scenario=scenario, n=n, baseline=baseline, store=baselines, out=out,
                         save=save_baseline, users=users, duration_s=parse_duration("--duration", duration),
                         run_id=run_id, slo=slo, max_error_ratio=max_error_ratio, population=population,
                         thresholds=Thresholds(min_effect, min_error_delta))
        bar = RunPanel("check")
        try:
            outcome = run_check(plan, progress=bar, notify=lambda note: console.print(
                note, style="dim", markup=False, highlight=False))
        finally:
            bar.stop()
        return report(outcome, max_error_ratio)

    run_command(go)


def report(outcome: CheckOutcome, max_error_ratio: float) -> int:
    """The run's counts and warnings, the check table and verdict; returns the exit code."""
    from suite import api
    from suite.check.table import check_table, verdict_lines

    result = outcome.run
    console.print(f"sent {result.sent}, recorded {result.records} -> {result.run_dir}", highlight=False)
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if result.aborted:
        err_console.print(f"[bold red]aborted:[/] {result.aborted['reason']}", highlight=False,
                          soft_wrap=True)
    if result.stopped_by is not None:
        err_console.print(f"[bold red]Interrupted[/] by {result.stopped_by.signal}; nothing was judged.")
        return int(result.stopped_by.exit_code)
    if result.interrupted:
        return EXIT_INTERRUPTED
    if not outcome.record:  # nothing recorded: nothing analyzed or judged
        for note in outcome.notes:
            err_console.print(f"[bold red]failing:[/] {escape(note)}", highlight=False, soft_wrap=True)
        return EXIT_ERROR_RATIO
    record = outcome.record
    summary = outcome.analysis.summary if outcome.analysis else {}
    failing = api.error_verdict(summary, max_error_ratio)
    if failing:
        err_console.print(f"[bold red]failing:[/] {escape(failing)}", highlight=False, soft_wrap=True)
    if record["compared"]:
        console.print(check_table(record))
    marker = "[bold red]REGRESSION[/]" if record["regressed"] else "[green]ok[/]"
    for i, line in enumerate(verdict_lines(record)):
        text = escape(line)
        console.print(f"{marker if i == 0 else '  '} {text}" if record["compared"] else text,
                      highlight=False, soft_wrap=True)
    if record["slo"] is not None:
        console.print(f"SLO: {'[green]pass[/]' if record['slo']['passed'] else '[bold red]FAIL[/]'}")
    for note in record["notes"]:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    if record["saved_baseline"]:
        console.print(f"saved as baseline: {record['saved_baseline']}", highlight=False)
    console.print(f"report: {result.run_dir / 'report.html'}  check: {result.run_dir / 'check.json'}"
                  + (f"  comparison: {record['compare_dir']}/compare.html" if record["compare_dir"] else ""),
                  highlight=False, soft_wrap=True)
    console.print(f"exit {record['exit_code']}", highlight=False)
    return int(record["exit_code"])
