"""history.html on the shared page skeleton (``suite.analyze.outputs.page``): the banner (reports
folder, runs, groups, span, skipped folders), the latest runs' regressions and SLO failures as
alerts, one answer sentence per group (the latest figures against the previous run and the median of
the earlier ones), one trend chart per group, then per group the latest-vs table and every run in a
fold. Folders are named relative to the reports folder: a page is read on another machine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from suite.analyze.outputs.fmt import MISSING
from suite.analyze.outputs.page import Fact, Fold, esc, figure, fold, paragraph, render_page, table
from suite.history.chart import trend_png
from suite.history.figures import BY_KEY, METRICS
from suite.history.text import (
    change,
    group_answer,
    group_title,
    regression_text,
    short_id,
    slo_text,
    value,
    when,
)

MAX_ANSWERED = 5  # groups with a sentence of their own; the rest are below, each with its section


def _alerts(groups: list[dict[str, Any]]) -> list[str]:
    out = []
    for g in groups:
        latest = g["runs"][-1]
        if latest["check"].get("regression"):
            out.append(f"{g['id']}: the latest run {latest['run_id']} regressed against its baseline — "
                       f"{regression_text(latest['check'])}")
        if latest["slo"].get("passed") is False:
            failed = ", ".join(latest["slo"].get("failed") or []) or "see its report"
            out.append(f"{g['id']}: the latest run {latest['run_id']} failed its SLO "
                       f"({latest['slo'].get('profile')}: {failed})")
    return out


def _answers(history: dict[str, Any]) -> list[str]:
    groups = history["groups"]
    regressed = sum(len(g["regressions"]) for g in groups)
    slo_failed = sum(len(g["slo_failed"]) for g in groups)
    first = (f"{history['runs_n']} runs in {len(groups)} group{'s' if len(groups) != 1 else ''} (target × "
             f"corpus × load); figures are never averaged across groups. Regressions marked by llmsuite "
             f"check: {regressed}; SLO failures: {slo_failed}.")
    more = len(groups) - MAX_ANSWERED
    tail = [f"… and {more} older group{'s' if more > 1 else ''}, each in its section below."] \
        if more > 0 else []
    return [first, *(group_answer(g) for g in groups[:MAX_ANSWERED]), *tail]


def latest_table(group: Mapping[str, Any]) -> str:
    rows = []
    for r in group["latest_vs"]:
        key = r["metric"]
        why = r.get("why") or r.get("previous_why") or r.get("median_why") or ""
        arrow = " ↓" if BY_KEY[key].better == "lower" else " ↑"
        rows.append([BY_KEY[key].label + arrow, value(key, r["latest"]),
                     value(key, r["previous"]), change(key, r.get("vs_previous")), value(key, r["median"]),
                     change(key, r.get("vs_median")), str(r["earlier_n"]), why])
    return table(["figure (↓ lower is better, ↑ higher)", "latest", "previous run", "vs previous",
                  "median of earlier runs", "vs median", "earlier runs measured", "why missing"], rows)


def run_table(group: Mapping[str, Any]) -> str:
    heads = ["run", "started", "sent", *(m.label for m in METRICS), "SLO", "regression", "folder"]
    rows = []
    for r in reversed(group["runs"]):
        figs = r["figures"]
        rows.append([r["run_id"] + (" (partial)" if r["partial"] else ""), when(r["started"]),
                     MISSING if r["sent"] is None else f"{r['sent']:,}",
                     *(value(m.key, figs[m.key]["value"]) for m in METRICS), slo_text(r["slo"]),
                     regression_text(r["check"]), r["run_dir"]])
    return table(heads, rows)


def _whys(group: Mapping[str, Any]) -> list[str]:
    """Why a figure is missing, once per (figure, reason), with the runs it applies to."""
    seen: dict[tuple[str, str], list[str]] = {}
    for r in group["runs"]:
        for m in METRICS:
            f = r["figures"][m.key]
            if f["value"] is None:
                seen.setdefault((m.label, f.get("why", "not measured")), []).append(r["run_id"])
    return [f"{label}: {why} ({len(ids)} run{'s' if len(ids) > 1 else ''}: {', '.join(ids[-3:])}"
            f"{', …' if len(ids) > 3 else ''})" for (label, why), ids in seen.items()]


def group_section(group: Mapping[str, Any]) -> str:
    whys = _whys(group)
    parts = [
        f'<h2 id="{esc(group["id"])}">{esc(group_title(group))}</h2>',
        paragraph(f"{group['runs_n']} runs from {when(group['first_started'])} to "
                  f"{when(group['latest_started'])}; "
                  f"target {group['target'] or 'unknown'}; corpus {group['corpus'] or 'unknown'}, sha256 "
                  f"{group['corpus_identity'] or 'unknown'} ({group['corpus_identity_source']}); load "
                  f"{group['load']}. The latest run against the previous one and the median of the earlier "
                  "ones: differences between runs, not tests — llmsuite check decides significance.",
                  "muted"),
        latest_table(group),
        fold(Fold(f"All {group['runs_n']} runs of {group['id']} (newest first)", run_table(group))),
    ]
    if whys:
        parts.append(fold(Fold(f"Why figures are missing in {group['id']}",
                               "<ul>" + "".join(f"<li>{esc(w)}</li>" for w in whys) + "</ul>")))
    return "<section>" + "".join(parts) + "</section>"


def _how() -> str:
    rows = [[m.label, ".".join(m.path), m.unit, m.better] for m in METRICS]
    return (paragraph("Runs are found under the reports folder by their summary.json and grouped by target "
                      "(URL and request path), corpus identity (the corpus sha256, the source corpus for a "
                      "model-override copy) and load (preset, users or rate). Runs are ordered by run.json "
                      "started. Each figure is read from summary.json as written; a figure a run did not "
                      "measure is missing with its reason, never 0. Regression marks come from check.json, "
                      "written beside a run by llmsuite check.")
            + table(["figure", "summary.json path", "unit", "better"], rows))


def render_history(history: dict[str, Any]) -> str:
    groups = history["groups"]
    starts = [r["started"] for g in groups for r in g["runs"] if r["started"] is not None]
    skipped = history["skipped"]
    facts = [Fact("reports", history["reports_dir"]), Fact("runs", str(history["runs_n"])),
             Fact("groups", str(len(groups)))]
    if starts:
        facts.append(Fact("span", f"{when(min(starts))} → {when(max(starts))}"))
    if skipped:
        facts.append(Fact("skipped folders", str(len(skipped)), warn=True))
    charts = [f'<div style="grid-column:1/-1">{figure(f"Trend of {group_title(g)}", trend_png(g))}</div>'
              for g in groups]
    folds = [Fold("How runs are grouped and read", _how())]
    if skipped:
        folds.insert(0, Fold(f"Skipped folders ({len(skipped)})",
                             table(["folder", "why"], [[s["path"], s["why"]] for s in skipped])))
    return render_page(
        f"History: {history['runs_n']} runs, {len(groups)} group{'s' if len(groups) != 1 else ''}",
        provenance=facts, alerts=_alerts(groups), answers=_answers(history), charts=charts,
        body="".join(group_section(g) for g in groups), folds=folds,
        footer=f"{history['generator']['name']} {history['generator']['version']} · {history['schema']} · "
               f"corpus ids shortened to {len(short_id('x' * 64))} characters in titles",
    )
