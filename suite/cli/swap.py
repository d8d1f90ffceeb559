"""``llmsuite swap``: one corpus against several models as a fair experiment (suite.sweep.swap); a
thin click command sharing the step options of the sweeps (suite.cli.compare)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from suite.cli.common import PositiveInt, console, default_out, run_command
from suite.cli.compare import RichSweepUI, _plan, _step_options, print_comparison
from suite.cli.helpgroups import EXAMPLES, GroupedCommand


@click.command(cls=GroupedCommand, examples=EXAMPLES["swap"])
@click.option("--models", "models_list", required=True,
              help="Models to run the corpus against: gpt-4o,gpt-5-mini (the first is the baseline).")
@click.option("--corpus", "-c", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True)
@click.option("--users", "-u", type=PositiveInt, default=8, show_default=True)
@click.option("--order", type=click.Choice(["abba", "interleave", "sequential"]), default="abba",
              show_default=True, help="abba: A·h1 B·h1 B·h2 A·h2 over corpus halves (by session); "
              "interleave: every model's requests mixed in one seeded random run; sequential: A then B.")
@click.option("--warmup", type=click.IntRange(min=0), default=8, show_default=True,
              help="Warm-up requests per model before any measured run (salted prompts, own folder, "
              "never in statistics); 0 = off.")
@click.option("--primary", default="e2e.p50", show_default=True,
              help="The primary metric of the comparison (misses only); the rest are Holm-corrected.")
@_step_options("none", synth=False)
def swap(models_list: str, corpus: Path, out: Path | None, order: str, warmup: int, primary: str,
         **kw: Any) -> None:
    """Run one corpus against each model as a fair experiment: every model probed first, warmed up,
    measured in ABBA (or interleaved) order, then compared on cache misses request by request."""
    from suite.sweep.swap import SwapOptions
    from suite.sweep.swap import swap as run_swap

    def go() -> int:
        from suite import compare as cmp

        folder = out or default_out("swap")
        opts = SwapOptions(order=order, warmup=warmup, primary=primary)
        plan = _plan(folder, **kw)
        ui = RichSweepUI("swap")
        try:
            result = run_swap(plan, corpus, [m.strip() for m in models_list.split(",") if m.strip()], ui,
                              opts)
        finally:
            ui.stop()
        print_swap_design(result)
        code = print_comparison(result, cmp.write_all(folder, result))
        print_swap_fresh(result)
        return code

    run_command(go)


def print_swap_design(result: dict[str, Any]) -> None:
    """How the experiment was run (order, warm-up, population), before its numbers."""
    warm = result.get("warmup") or {}
    runs = " → ".join(f"{s['model']}·{s['part']}" if s["model"] != "*" else "all models interleaved"
                      for s in result.get("schedule", []))
    console.print(f"order {result.get('order')}: {runs}", highlight=False)
    console.print(f"warm-up: {warm['n']} request(s) per model" if warm.get("n") else
                  f"warm-up: none ({warm.get('why', '--warmup 0')})", highlight=False, soft_wrap=True)
    common = result.get("restricted_to_common")
    if common:
        sent = ", ".join(f"{m} {n}" for m, n in common["sent"].items())
        console.print(f"[yellow]compared on the {common['requests']} requests every model sent[/] "
                      f"(sent: {sent}): {common['why']}", highlight=False, soft_wrap=True)
    tests = result.get("tests") or {}
    console.print(f"compared: cache misses only; primary metric {tests.get('primary')}, the rest "
                  f"{tests.get('correction', 'Holm')}-corrected", highlight=False)


def print_swap_fresh(result: dict[str, Any]) -> None:
    """The salt, the fresh-request probe and every warning (a segment cut by --duration): last, under
    the numbers they qualify."""
    from rich.markup import escape

    from suite.sweep.table import fresh_lines

    salt = result.get("salt") or {}
    if not salt.get("value"):
        console.print(escape(f"salt: none ({salt.get('why')})"), highlight=False, soft_wrap=True)
    for line in fresh_lines({**result, "salt": salt if salt.get("value") else None}):
        console.print(line, highlight=False, soft_wrap=True)
