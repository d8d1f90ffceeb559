"""``llmsuite compare``, ``llmsuite sweep cache|load`` and ``llmsuite swap``: thin click commands over
``suite.compare`` and ``suite.sweep``. They parse, call the library, render; errors and exit codes go
through ``suite.cli.common.run_command`` like every other command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from suite.cli.common import (
    PositiveFloat,
    PositiveInt,
    Seed,
    boot_options,
    console,
    default_out,
    parse_list,
    parse_models,
    run_command,
)
from suite.cli.helpgroups import EXAMPLES, GroupedCommand
from suite.cli.targetopts import TargetArgs, target_group
from suite.errors import EXIT_SLO_FAILED, SpecError
from suite.sweep import STEP_CAP_S


def print_comparison(result: dict[str, Any], files: list[Path]) -> int:
    """Headlines, the terminal tables, where the files are; returns the exit code (7 on SLO failure)."""
    from suite.compare.outputs.table import comparison_table, paired_table

    conf = result["bootstrap"]["conf"]
    for cmp in result["comparisons"]:
        console.print(comparison_table(cmp, conf))
        paired = paired_table(cmp)
        if paired is not None:
            console.print(paired)
        elif cmp["paired"].get("why"):
            console.print(f"[yellow]not paired:[/] {cmp['paired']['why']}", highlight=False)
        for line in cmp["headlines"]:
            console.print(f"• {line}", highlight=False, soft_wrap=True)
    pop = result.get("population")
    if pop and pop["population"] != "all":
        kept = ", ".join(f"{r['label']} {r['requests']}/{r['of']} ({r['rule']})" for r in pop["runs"])
        console.print(f"population {pop['population']}: {kept}; {pop['note']}", highlight=False,
                      soft_wrap=True)
    slo = result.get("slo")
    if slo:
        state = "[green]pass[/]" if slo["passed"] else "[bold red]FAIL[/]"
        runs = ", ".join(f"{k} {'pass' if v['passed'] else 'FAIL'}" for k, v in slo["runs"].items())
        console.print(f"SLO {slo['profile']}: {state} ({runs})", highlight=False)
    for path in files:
        console.print(f"wrote {path}", highlight=False)
    return EXIT_SLO_FAILED if slo and not slo["passed"] else 0


@click.command(cls=GroupedCommand)
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Output folder (default reports/compare-<time>).")
@click.option("--labels", help="One name per run, comma-separated (default: the run's model or folder).")
@click.option("--population", type=click.Choice(["all", "miss"]), default="all", show_default=True,
              help="Requests latency is compared on: all, or cache misses only (first-seen requests "
              "when a run has no cache signal). Error and hit ratios always use every request.")
@click.option("--primary", default="e2e.p50", show_default=True,
              help="Primary metric, tested at --conf without correction (METRIC.STAT, e.g. ttft.p50); "
              "every other metric is Holm-corrected.")
@boot_options
def compare(runs: tuple[Path, ...], out: Path | None, labels: str | None, population: str, primary: str,
            n_boot: int, conf: float, boot_seed: int, slo: str | None) -> None:
    """Compare runs (folders or their summary.json): B − A per model and metric with bootstrap CIs;
    paired per-request deltas when they replayed the same corpus. The first run is the baseline."""
    from suite import compare as cmp

    def go() -> int:
        boot = cmp.Boot(n_boot, conf, boot_seed)
        names = [s.strip() for s in labels.split(",")] if labels else None
        result = cmp.compare_runs(list(runs), labels=names, boot=boot, population=population,
                                  primary=primary)
        if slo:
            result["slo"] = cmp.slo_section(list(runs), [r["label"] for r in result["runs"]], slo)
        files = cmp.write_all(out or default_out("compare"), result)
        return print_comparison(result, files)

    run_command(go)


class RichSweepUI:
    """A rich progress bar over a sweep's steps, plus notes."""

    def __init__(self, label: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.description}"), TimeElapsedColumn(), console=console)
        self._task: Any = None

    def step(self, done: int, total: int, label: str) -> None:
        if self._task is None:
            self._bar.start()
            self._task = self._bar.add_task(label, total=total)
        self._bar.update(self._task, completed=done, total=total, description=label)

    def note(self, message: str) -> None:
        console.print(f"[yellow]note:[/] {message}", highlight=False)

    def stop(self) -> None:
        if self._task is not None:
            self._bar.stop()


def _synth_options() -> list[Any]:
    return [
        click.option("--scenario", "-s", default="ops-assistant", show_default=True,
                     help="Scenario name or YAML path for the synthesized corpora."),
        click.option("--n", type=PositiveInt, default=200, show_default=True, help="Requests per step."),
        click.option("--models", help="Model mix of synthesized corpora: gpt-4o,gpt-5-mini or "
                     "gpt-4o:3,gpt-5-mini:1."),
        click.option("--max-tokens", help="max_tokens choices of synthesized requests, e.g. 16,32."),
    ]


def _step_options(cache_default: str, synth: bool = True) -> Any:
    """Options every step-by-step command shares; ``synth=False`` leaves out the corpus-making ones."""
    options = [
        *(_synth_options() if synth else []),
        click.option("--duration", "-d", type=PositiveFloat, default=STEP_CAP_S, show_default=True,
                     help="Safety cap per step (and per swap segment), seconds: a step ends when its "
                     "corpus is done; one the cap stops is reported with its unsent requests."),
        click.option("--seed", type=Seed, default=7, show_default=True),
        click.option("--salt", help="Reproduce the salt a sweep.json / compare.json recorded; default: "
                     "a new salt per invocation against a real target (the bundled mock: none), so the "
                     "target's cache never saw the prompts (docs/cli.md)."),
        click.option("--cache", type=click.Choice(["redis", "memory", "none"]), default=cache_default,
                     show_default=True, help="Cache of the bundled mock (ignored with --target URL)."),
        click.option("--profiles",  # resolved: the mock runs in another folder
                     type=click.Path(path_type=Path, exists=True, dir_okay=False, resolve_path=True),
                     help="Latency profiles of the bundled mock (default corpora/profiles/models.yaml)."),
        click.option("-o", "--out", type=click.Path(path_type=Path), help="Output folder."),
    ]

    def wrap(fn: Any) -> Any:
        for option in reversed(options):
            fn = option(fn)
        # the target group (suite.cli.targetopts), shared with `run`: -t, --target-file, key, ...
        return target_group(allow_mock=True)(boot_options(fn))
    return wrap


def _plan(out: Path, target: TargetArgs, users: int, duration: float, seed: int, cache: str, slo: str | None,
          n_boot: int, conf: float, boot_seed: int, profiles: Path | None = None,
          scenario: str = "ops-assistant", n: int = 200,
          models: str | None = None, max_tokens: str | None = None, salt: str | None = None) -> Any:
    from suite.compare import Boot
    from suite.sweep.run import StepPlan

    tokens = parse_list("--max-tokens", max_tokens, int)
    where, notices = target.build(mock_ok=True)  # None: the bundled mock
    for notice in notices:
        console.print(f"[yellow]note:[/] {notice}", highlight=False, soft_wrap=True)
    return StepPlan(out=out, target=where, scenario=scenario, n=n, users=users, duration_s=duration,
                    seed=seed, models=parse_models(models), max_tokens=tuple(tokens) if tokens else None,
                    cache=cache, slo=slo, boot=Boot(n_boot, conf, boot_seed), salt=salt,
                    **({"profiles": profiles} if profiles else {}))


def _finish_sweep(result: dict[str, Any], out: Path) -> int:
    from suite.sweep.files import write_sweep
    from suite.sweep.run import sweep_failed

    for path in write_sweep(out, result):
        console.print(f"wrote {path}", highlight=False)
    if result["kind"] == "load":
        from suite.sweep.table import load_sweep_table

        console.print(load_sweep_table(result))
        knee = result["knee"]
        where = knee["level"] if knee["level"] is not None else knee["why"]
        console.print(f"SLO knee: {where}", highlight=False)
    from suite.sweep.table import fresh_lines

    for line in fresh_lines(result):  # the salt, the fresh-request probe, warnings: loud and last
        console.print(line, highlight=False, soft_wrap=True)
    return EXIT_SLO_FAILED if sweep_failed(result) else 0


@click.group()
def sweep() -> None:
    """Run the same pipeline at several settings and plot the curve (cache ratio, semantic threshold,
    load)."""


@sweep.command("cache", cls=GroupedCommand, examples=EXAMPLES["sweep cache"])
@click.option("--ratios", required=True, help="Repetition ratios to sweep, e.g. 0,0.25,0.5,0.75,0.9.")
@click.option("--users", "-u", type=PositiveInt, default=8, show_default=True)
@click.option("--coalesce", is_flag=True, help="Start the bundled mock with --coalesce: identical requests "
              "in flight wait for the first answer, so the observed hit ratio meets the theoretical one.")
@_step_options("redis")
def sweep_cache(ratios: str, out: Path | None, coalesce: bool, **kw: Any) -> None:
    """For each repetition ratio: synthesize, run, analyze; plot hit ratio and gains vs the bound."""
    from suite.sweep.run import sweep_cache as run_sweep

    def go() -> int:
        folder = out or default_out("sweep-cache")
        plan = _plan(folder, **kw)
        if coalesce and not plan.uses_mock:
            raise SpecError("--coalesce starts the bundled mock with single-flight; a --target "
                            "coalesces (or not) by itself: drop --coalesce or --target.")
        plan.coalesce = coalesce
        ui = RichSweepUI("sweep cache")
        try:
            result = run_sweep(plan, parse_list("--ratios", ratios) or [], ui)
        finally:
            ui.stop()
        from suite.sweep.table import cache_sweep_table

        console.print(cache_sweep_table(result))
        return _finish_sweep(result, folder)

    run_command(go)


@sweep.command("semantic", cls=GroupedCommand, examples=EXAMPLES["sweep semantic"])
@click.option("--thresholds", required=True,
              help="Similarity thresholds to sweep, e.g. 0.80,0.85,0.90,0.95,0.98.")
@click.option("--corpus", "-c", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Corpus replayed at every threshold (its variant_of / near_miss_of are the ground truth).")
@click.option("--min-precision", type=click.FloatRange(0, 1, min_open=True), default=0.99, show_default=True,
              help="Recommend the lowest threshold whose precision's 95 % lower bound reaches this.")
@click.option("--before-step", metavar="'CMD {threshold}'",
              help="With --target: the command that sets the target's threshold before each step.")
@click.option("--users", "-u", type=PositiveInt, default=4, show_default=True)
@_step_options("memory", synth=False)
def sweep_semantic(thresholds: str, corpus: Path, min_precision: float, before_step: str | None,
                   out: Path | None, **kw: Any) -> None:
    """For each similarity threshold: replay the corpus against a semantic cache and judge every hit
    against the corpus; the precision / hit-ratio curve and the threshold to run at."""
    from suite.sweep.semantic import sweep_semantic as run_sweep
    from suite.sweep.semanticfiles import operating_sentence, semantic_sweep_table

    def go() -> int:
        folder = out or default_out("sweep-semantic")
        plan = _plan(folder, **kw)
        ui = RichSweepUI("sweep semantic")
        try:
            result = run_sweep(plan, parse_list("--thresholds", thresholds) or [], corpus, min_precision,
                               before_step, ui)
        finally:
            ui.stop()
        console.print(semantic_sweep_table(result))
        console.print(operating_sentence(result), highlight=False, soft_wrap=True)
        return _finish_sweep(result, folder)

    run_command(go)


@sweep.command("load", cls=GroupedCommand, examples=EXAMPLES["sweep load"])
@click.option("--users", "-u", "users_list", help="Concurrency levels (closed loop), e.g. 1,5,10,50.")
@click.option("--rates", help="Offered rates in requests/s (open loop), e.g. 1,5,10.")
@click.option("--corpus", "-c", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Replay this corpus at every level instead of synthesizing one per level.")
@_step_options("none")
def sweep_load(users_list: str | None, rates: str | None, corpus: Path | None, out: Path | None,
               **kw: Any) -> None:
    """Latency and throughput at each load level; with --slo, the first level that breaks it (the knee)."""
    from suite.sweep.run import sweep_load as run_sweep

    def go() -> int:
        folder = out or default_out("sweep-load")
        plan = _plan(folder, users=1, **kw)
        ui = RichSweepUI("sweep load")
        try:
            result = run_sweep(plan, parse_list("--users", users_list, int), parse_list("--rates", rates),
                               corpus, ui)
        finally:
            ui.stop()
        return _finish_sweep(result, folder)

    run_command(go)
