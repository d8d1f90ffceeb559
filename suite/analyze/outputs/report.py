"""``render_html(summary, images) -> str``: one self-contained report page (inline CSS, charts as
base64 data URIs), rendered only from the summary dict.

Rule: every piece of text that comes from data (model names, targets, error messages, headlines)
passes through ``esc`` — a request log is untrusted input.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping
from typing import Any

from suite.analyze.outputs.facts import (
    COMPAT_COLUMNS,
    COST_HEADERS,
    OPEN_LOOP_COLUMNS,
    SLO_HEADERS,
    SLOWEST_HEADERS,
    SPEEDUP_CI_COLUMNS,
    SPREAD_COLUMNS,
    cache_extra_facts,
    cost_line,
    cost_rows,
    monitor_facts,
    run_notes,
    slo_line,
    slo_rows,
    slowest_rows,
    token_facts,
)
from suite.analyze.outputs.rows import (
    CACHE_COLUMNS,
    CACHE_DETAIL_COLUMNS,
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
from suite.analyze.schema import GroupBlock, SloVerdict, Summary, Totals, Why

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;
color:#1d2330;padding:0 1rem}h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #dde;
padding-bottom:.3rem}table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #dde;padding:.3rem .6rem;text-align:right}th{background:#f3f5f9}
td:first-child,th:first-child{text-align:left}.lead li{font-size:1.05rem;margin:.3rem 0}
img{max-width:100%;border:1px solid #eee}.why{color:#8a5a00}code{background:#f3f5f9;padding:0 .2rem}
.alert{background:#fdecea;border-left:4px solid #c0392b;padding:.5rem .8rem}.verdict{font-weight:600}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def column_table(first: str, columns: tuple[Column[B], ...], blocks: list[tuple[str, B]]) -> str:
    return table([first, *(c.header for c in columns)], ([label, *cells(columns, b)] for label, b in blocks))


def image(title: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{esc(title)}" src="data:image/png;base64,{data}"><figcaption>{esc(title)}' \
           "</figcaption></figure>"


def section(title: str, *parts: str) -> str:
    return f"<section><h2>{esc(title)}</h2>{''.join(parts)}</section>"


def errors_part(totals: Totals) -> str:
    if not totals["errors"]:
        return f"<p>No failed requests out of {totals['sent']:,}.</p>"
    rows = [cells(ERROR_COLUMNS, row) for row in totals["errors"]]
    return table([c.header for c in ERROR_COLUMNS], rows)


def slo_part(slo: SloVerdict | Why) -> str:
    line = f"<p class=verdict>{esc(slo_line(slo))}</p>"
    if "checks" not in slo:
        return line
    return line + table(SLO_HEADERS, slo_rows(slo))


def open_loop_part(summary: Summary, blocks: list[tuple[str, GroupBlock]]) -> str:
    if not summary["run"].get("open_loop"):
        return "<p>Closed-loop run: no scheduled send times, so no schedule lag.</p>"
    return ("<p>Latency from the scheduled send time charges each request for the driver's lag "
            "(coordinated omission corrected).</p>" + column_table("model", OPEN_LOOP_COLUMNS, blocks))


def render_html(summary: Summary, images: Mapping[str, bytes]) -> str:
    """The full report page; ``images`` maps a caption to PNG bytes (embedded, in order)."""
    run = summary["run"]
    title = f"LLM Traffic Suite — run report: {run['meta'].get('run_id') or run['run_dir']}"
    notes = "".join(f"<p class=alert>{esc(n)}</p>" for n in run_notes(run))
    lead = "".join(f"<li>{esc(s)}</li>" for s in summary["headlines"])
    blocks = model_blocks(summary)
    missing = "".join(f"<li><code>{esc(m['path'])}</code>: <span class=why>{esc(m['why'])}</span></li>"
                      for m in summary["missing"])
    cache = summary["cache"]
    target = summary.get("target_metrics", {"why": "the target's series were not read"})
    return "".join([
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{esc(title)}</title>",
        f"<style>{CSS}</style></head><body><h1>{esc(title)}</h1>{notes}",
        section("Executive summary", f"<ul class=lead>{lead}</ul>"),
        section("SLO verdict", slo_part(summary["slo"])),
        section("Run", table(["field", "value"], run_rows(run))),
        section("Latency per model", column_table("model", LATENCY_COLUMNS, blocks),
                column_table("model", SPREAD_COLUMNS, blocks)),
        section("Per-token latency and throughput", column_table("model", RATE_COLUMNS, blocks)),
        section("Compatibility view (same requests, other tools' formulas)",
                column_table("model", COMPAT_COLUMNS, blocks)),
        section("Open loop: schedule lag", open_loop_part(summary, blocks)),
        section("Cache", table(["fact", "value"], cache_facts(cache) + cache_extra_facts(cache)),
                column_table("model", CACHE_COLUMNS, cache_blocks(summary)),
                column_table("model", CACHE_DETAIL_COLUMNS, cache_blocks(summary)),
                column_table("model", SPEEDUP_CI_COLUMNS, cache_blocks(summary))),
        section("Tokens and cost", table(["fact", "value"], token_facts(summary["tokens"])),
                f"<p>{esc(cost_line(summary['tokens']['cost']))}</p>",
                table(COST_HEADERS, cost_rows(summary["tokens"]["cost"]))),
        section("Errors", errors_part(summary["totals"])),
        section("Slowest requests and sample failures (prompts from the corpus)",
                table(SLOWEST_HEADERS, slowest_rows(summary.get("slowest", [])))),
        section("Target monitoring", table(["series", "value"], monitor_facts(target))),
        section("Charts", *(image(caption, png) for caption, png in images.items())),
        section("Not measured in this run", f"<ul>{missing}</ul>" if missing else "<p>Nothing missing.</p>"),
        section("Metric definitions", table(["metric", "definition"], summary["definitions"].items())),
        f"<p>{esc(summary['schema'])} · generated by {esc(summary['generator']['name'])} "
        f"{esc(summary['generator']['version'])}</p></body></html>\n",
    ])
