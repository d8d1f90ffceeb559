"""Terminal rendering of a summary with rich: the same tables as the HTML report, as renderables.

Cells are ``rich.text.Text`` objects, never markup strings: a model name or error message like
``[bold]`` must print as written, not be interpreted.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Group, NewLine, RenderableType
from rich.table import Table
from rich.text import Text

from suite.analyze.outputs.facts import COST_HEADERS, SLO_HEADERS, cost_rows, run_notes, slo_line, slo_rows
from suite.analyze.outputs.prefix import SHORT_HEADERS as PREFIX_HEADERS
from suite.analyze.outputs.prefix import TITLE as PREFIX_TITLE
from suite.analyze.outputs.prefix import measured, prefix_rows
from suite.analyze.outputs.rows import (
    CACHE_COLUMNS,
    ERROR_COLUMNS,
    LATENCY_COLUMNS,
    RATE_COLUMNS,
    B,
    Column,
    cache_blocks,
    cache_facts,
    cells,
    model_blocks,
    run_rows,
)
from suite.analyze.outputs.semantic import TITLE, semantic_rows
from suite.analyze.schema import Summary


def _table(title: str, headers: Iterable[str], rows: Iterable[Iterable[str]], left: int = 1) -> Table:
    """A table whose first ``left`` columns are labels (left-aligned, unwrapped) and the rest numbers."""
    table = Table(title=Text(title, style="bold"), title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, padding=(0, 1), collapse_padding=True)
    for i, header in enumerate(headers):
        justify = "left" if i < left else "right"
        # "TTFT p50" over two lines keeps ten numeric columns inside an 80-column terminal
        label = header if i < left else header.replace(" ", "\n", 1)
        table.add_column(Text(label), justify=justify, no_wrap=i == 0, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _columns(title: str, columns: tuple[Column[B], ...], blocks: list[tuple[str, B]]) -> Table:
    rows = ([name, *cells(columns, block)] for name, block in blocks)
    return _table(title, ["model", *(c.header for c in columns)], rows)


def headline_text(summary: Summary) -> Text:
    lines = [Text.assemble(("• ", "bold"), sentence) for sentence in summary["headlines"]]
    return Text("\n").join(lines)


def render_summary_table(summary: Summary) -> RenderableType:
    """Headlines, run facts, per-model latency, cache and errors tables, as one rich ``Group``."""
    notes = [Text(n, style="bold red") for n in run_notes(summary["run"])]
    parts: list[RenderableType] = [
        *notes,
        headline_text(summary),
        _table("Run", ["field", "value"], run_rows(summary["run"]), left=2),
        _columns("Latency", LATENCY_COLUMNS, model_blocks(summary)),
        _columns("Per-token latency and throughput", RATE_COLUMNS, model_blocks(summary)),
        _table("Cache", ["fact", "value"], cache_facts(summary["cache"])),
        _columns("Cache hits vs misses (E2E)", CACHE_COLUMNS, cache_blocks(summary)),
    ]
    semantic = summary.get("semantic")
    if semantic is not None and (semantic["hits"] or semantic.get("opportunities")):
        parts.append(_table(TITLE, ["fact", "value"], semantic_rows(semantic)))
    prefix = measured(summary)
    if prefix is not None:
        parts.append(_table(PREFIX_TITLE, PREFIX_HEADERS, prefix_rows(prefix, short=True)))
    cost = summary.get("tokens", {}).get("cost", {})
    if cost.get("models"):
        parts.append(_table("Cost", COST_HEADERS, cost_rows(cost)))
    slo = summary.get("slo", {})
    if "checks" in slo:
        parts.append(_table(f"SLO {slo['profile']}", SLO_HEADERS, slo_rows(slo), left=2))
        parts.append(Text(slo_line(slo), style="bold green" if slo["passed"] else "bold red"))
    if summary["totals"]["errors"]:
        rows = [cells(ERROR_COLUMNS, row) for row in summary["totals"]["errors"]]
        parts.append(_table("Errors", [c.header for c in ERROR_COLUMNS], rows, left=len(ERROR_COLUMNS)))
    if summary["missing"]:
        parts.append(Text(f"{len(summary['missing'])} metrics not measured in this run "
                          "(see summary.json 'missing' or report.html).", style="dim"))
    spaced: list[RenderableType] = []
    for part in parts:
        spaced += [part, NewLine()]
    return Group(*spaced[:-1])
