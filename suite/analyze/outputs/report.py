"""``render_html(summary, images) -> str``: report.html, answer first, rendered only from the summary.

Layout (``page.render_page``, shared with compare.html and sweep.html): provenance banner, the
headlines and the SLO verdict, the 2–3 charts that answer "how fast per model", "what did the
cache buy" and "how steady over time", then every table folded away. A figure moves into a fold,
never out of the page; paths appear only in the run metadata fold. Text from data (model names,
targets, reasons, prompts) reaches the page only through ``page``'s escaping builders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from suite.analyze.outputs.cachetable import CACHE_TABLE_COLUMNS
from suite.analyze.outputs.facts import (
    COMPAT_COLUMNS,
    COST_HEADERS,
    OPEN_LOOP_COLUMNS,
    SLO_HEADERS,
    SLOWEST_HEADERS,
    SPREAD_COLUMNS,
    cache_extra_facts,
    cost_line,
    cost_rows,
    monitor_facts,
    slo_line,
    slo_rows,
    slowest_rows,
    token_facts,
)
from suite.analyze.outputs.page import Fold, bullets, esc, figure, paragraph, render_page, table
from suite.analyze.outputs.prefix import CAPTION as PREFIX_CAPTION
from suite.analyze.outputs.prefix import CHART as PREFIX_CHART
from suite.analyze.outputs.prefix import prefix_fold
from suite.analyze.outputs.provenance import provenance
from suite.analyze.outputs.rows import (
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
from suite.analyze.outputs.semantic import semantic_fold
from suite.analyze.schema import GroupBlock, Missing, SloVerdict, SlowestRow, Summary, Why

CHARTS = {  # file name -> caption, in the order the pipeline draws them
    "latency_cdf.png": "Latency CDF per model (TTFT, E2E)",
    "ttft_histogram.png": "TTFT histogram per model",
    "throughput.png": "Throughput over time",
    "cache_latency.png": "End-to-end latency of cache hits vs misses",
    "cache_speedup.png": "Cache speedup per model with 95 % bootstrap CIs",
    "target_metrics.png": "Target's /metrics during the run",
    "open_loop.png": "Open loop: schedule lag and latency from the scheduled time",
    PREFIX_CHART: PREFIX_CAPTION,
}
# one chart per question, on the first screen: latency per model, the cache, over time
LEAD = (("latency_cdf.png",), ("cache_latency.png", "cache_speedup.png"), ("throughput.png",))


def lead_charts(images: Mapping[str, bytes]) -> list[str]:
    """Captions of the charts shown under the answers (the first present of each question's)."""
    out = []
    for choices in LEAD:
        found = [CHARTS[name] for name in choices if CHARTS[name] in images]
        out += found[:1]
    return out


def column_table(first: str, columns: tuple[Column[B], ...], blocks: list[tuple[str, B]]) -> str:
    return table([first, *(c.header for c in columns)], ([label, *cells(columns, b)] for label, b in blocks))


def transposed_table(columns: tuple[Column[B], ...], blocks: list[tuple[str, B]]) -> str:
    """One row per figure, one column per model: fourteen cache figures stay readable side by side
    for the few models a run has, where fourteen columns would not fit the page."""
    values = [cells(columns, b) for _, b in blocks]
    rows = ([c.header, *(v[i] for v in values)] for i, c in enumerate(columns))
    return table(["per model", *(label for label, _ in blocks)], rows)


def h3(text: str) -> str:
    return f"<h3>{esc(text)}</h3>"


def _figures(images: Mapping[str, bytes], names: tuple[str, ...], shown: list[str]) -> str:
    """The charts of a fold that are not already on the first screen."""
    captions = [CHARTS[n] for n in names if CHARTS[n] in images and CHARTS[n] not in shown]
    return "".join(figure(c, images[c]) for c in captions)


def latency_fold(summary: Summary, images: Mapping[str, bytes], shown: list[str]) -> Fold:
    blocks = model_blocks(summary)
    parts = [column_table("model", LATENCY_COLUMNS, blocks),
             h3("Spread (mean, p90, max)"), column_table("model", SPREAD_COLUMNS, blocks),
             h3("Per-token latency and throughput"), column_table("model", RATE_COLUMNS, blocks),
             h3("Compatibility view (same requests, other tools' formulas)"),
             column_table("model", COMPAT_COLUMNS, blocks),
             h3("Open loop: schedule lag"), open_loop_part(summary, blocks),
             _figures(images, ("ttft_histogram.png", "open_loop.png", "latency_cdf.png", "throughput.png"),
                      shown)]
    return Fold("Latency and throughput per model", "".join(parts))


def open_loop_part(summary: Summary, blocks: list[tuple[str, GroupBlock]]) -> str:
    if not summary["run"].get("open_loop"):
        return paragraph("Closed-loop run: no scheduled send times, so no schedule lag.", "muted")
    return (paragraph("Latency from the scheduled send time charges each request for the driver's lag "
                      "(coordinated omission corrected).")
            + column_table("model", OPEN_LOOP_COLUMNS, blocks))


def cache_fold(summary: Summary, images: Mapping[str, bytes], shown: list[str]) -> Fold:
    cache = summary["cache"]
    facts = table(["fact", "value"], cache_facts(cache) + cache_extra_facts(cache))
    per_model = transposed_table(CACHE_TABLE_COLUMNS, cache_blocks(summary))
    charts = _figures(images, ("cache_latency.png", "cache_speedup.png"), shown)
    return Fold("Cache", per_model + facts + charts)


def tokens_fold(summary: Summary) -> Fold:
    tokens = summary["tokens"]
    body = (table(["fact", "value"], token_facts(tokens)) + paragraph(cost_line(tokens["cost"]))
            + table(COST_HEADERS, cost_rows(tokens["cost"])))
    return Fold("Tokens and cost", body)


def errors_fold(summary: Summary) -> Fold:
    totals = summary["totals"]
    title = f"Errors ({totals['failed']:,} of {totals['sent']:,} requests failed)"
    if not totals["errors"]:
        return Fold(title, paragraph(f"No failed requests out of {totals['sent']:,}."))
    rows = [cells(ERROR_COLUMNS, row) for row in totals["errors"]]
    return Fold(title, table([c.header for c in ERROR_COLUMNS], rows))


def slo_fold(slo: SloVerdict | Why) -> Fold | None:
    if "checks" not in slo:
        return None
    return Fold(f"SLO checks ({slo['profile']})", table(SLO_HEADERS, slo_rows(slo)))


def slowest_fold(summary: Summary) -> Fold:
    """One reason above the table when no prompt could be read (not the same sentence per row)."""
    slowest = summary.get("slowest", [])
    reasons = {r.get("prompt_why") for r in slowest if r["prompt"] is None}
    note = ""
    if slowest and len(reasons) == 1 and all(r["prompt"] is None for r in slowest):
        note = paragraph(f"Prompts not shown: {reasons.pop()}.", "why")
        slowest = [cast("SlowestRow", {**r, "prompt_why": "see above"}) for r in slowest]
    return Fold("Slowest requests and sample failures (prompts from the corpus)",
                note + table(SLOWEST_HEADERS, slowest_rows(slowest)))


def monitoring_fold(summary: Summary, images: Mapping[str, bytes], shown: list[str]) -> Fold:
    target = summary.get("target_metrics", {"why": "the target's series were not read"})
    chart = _figures(images, ("target_metrics.png",), shown)
    body = table(["series", "value"], monitor_facts(target)) + chart
    return Fold("Target monitoring (its own /metrics)", body)


def metadata_fold(summary: Summary) -> Fold:
    run = summary["run"]
    cost: Mapping[str, Any] = summary["tokens"]["cost"]
    rows = [*run_rows(run), *(("log file", f) for f in run.get("files", [])),
            *([("price table", str(cost["table"]))] if "table" in cost else [])]
    return Fold("Run metadata (versions, files, checksums)", table(["field", "value"], rows))


def by_reason(items: list[Missing]) -> list[str]:
    """One line per reason, naming every value it left unmeasured (a TTL nobody gave leaves nine)."""
    paths: dict[str, list[str]] = {}
    for m in items:
        paths.setdefault(m["why"], []).append(m["path"])
    return [f"{why} — {', '.join(p)}" for why, p in paths.items()]


def missing_fold(summary: Summary) -> Fold:
    """Really missing first (something a reader may act on), then what this kind of run never has."""
    missing = summary["missing"]
    real = by_reason([m for m in missing if not m.get("expected")])
    normal = by_reason([m for m in missing if m.get("expected")])
    n_expected = sum(bool(m.get("expected")) for m in missing)
    title = (f"Not measured ({len(missing) - n_expected} really missing, "
             f"{n_expected} expected for this kind of run)")
    if not missing:
        return Fold("Not measured (nothing)", paragraph("Every figure was measured."))
    body = (h3("Really missing") + (bullets(real, "why") if real else paragraph("Nothing.", "muted"))
            + h3("Expected for this kind of run") + (bullets(normal, "muted") if normal else
                                                     paragraph("Nothing.", "muted")))
    return Fold(title, body)


def render_html(summary: Summary, images: Mapping[str, bytes]) -> str:
    """The full report page; ``images`` maps a caption to PNG bytes."""
    run = summary["run"]
    title = f"Run report: {run['meta'].get('run_id') or run['run_dir']}"
    slo = summary["slo"]
    verdict_cls = "" if "checks" not in slo else ("pass" if slo["passed"] else "fail")
    shown = lead_charts(images)
    folds = [latency_fold(summary, images, shown), cache_fold(summary, images, shown),
             *([f] if (f := semantic_fold(summary)) else []),
             *([f] if (f := prefix_fold(summary, images)) else []), tokens_fold(summary),
             errors_fold(summary), *([f] if (f := slo_fold(slo)) else []),
             slowest_fold(summary),
             monitoring_fold(summary, images, shown), metadata_fold(summary), missing_fold(summary),
             Fold("Metric definitions", table(["metric", "definition"], summary["definitions"].items()))]
    footer = (f"{summary['schema']} · generated by {summary['generator']['name']} "
              f"{summary['generator']['version']} · LLM Traffic Suite")
    return render_page(title, provenance=provenance(summary), answers=summary["headlines"],
                       answers_html=paragraph(slo_line(slo), verdict_cls or "muted"),
                       charts=[figure(c, images[c]) for c in shown], folds=folds, footer=footer)
