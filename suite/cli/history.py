"""``llmsuite history REPORTS_DIR``: the trend of the key figures across the runs in a reports folder
(issue #18): history.html, history.json and a short table per group on the terminal."""

from __future__ import annotations

from pathlib import Path

import click

from suite.cli.common import console, run_command


@click.command(name="history")
@click.argument("reports_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("-o", "--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output folder for history.html and history.json (default REPORTS_DIR/history).")
def history(reports_dir: Path, out: Path | None) -> None:
    """Trend of TTFT/E2E p50/p95, error and hit ratios, per-hit speedup and output tokens/s across
    the runs under REPORTS_DIR, one group per target, corpus and load (never averaged across
    groups), with each run's SLO verdict and the regressions llmsuite check marked.

    \b
    Example:
      llmsuite history reports/
    """
    from suite.history import build_history, write_history
    from suite.history.table import group_table

    def go() -> int:
        out_dir = out or reports_dir / "history"
        result = build_history(reports_dir, exclude=out_dir)
        for group in result["groups"]:
            console.print(group_table(group))
        for skip in result["skipped"]:
            console.print(f"[yellow]skipped[/] {skip['path']}: {skip['why']}", highlight=False,
                          soft_wrap=True)
        for path in write_history(out_dir, result):
            console.print(f"wrote {path}", highlight=False)
        return 0

    run_command(go)
