"""``render_compare_html(result, charts) -> str``: compare.html on the shared page skeleton
(``suite.analyze.outputs.page``): what was compared (banner), the answers in plain words with their
CIs, one chart per question (latency, throughput), then every table folded away.

Order is the same everywhere on the page: the baseline A first, then B ("A vs B"), as in the title,
the chart legends and the table columns; differences are always B − A. Every text taken from data —
labels, model names, folders, reasons — is escaped by the skeleton's builders; run folders and model
names are user input. Folder names only in the tables: full paths live in the run-metadata fold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from suite.analyze.outputs.page import Fold, esc, figure, paragraph, render_page, table
from suite.compare.outputs.cells import (
    NAMES,
    cell_p,
    cell_ratio,
    cell_signed,
    cell_significant,
    cell_value,
    metric_name,
    tests_caption,
)
from suite.compare.outputs.provenance import alerts, metadata_rows, provenance, runs_rows, swap_design


def title_of(result: dict[str, Any]) -> str:
    """"Comparison: A vs B" — the baseline first, as every section below."""
    return f"Comparison: {' vs '.join(r['label'] for r in result['runs'])}"


def metrics_table(cmp: dict[str, Any], group: dict[str, Any]) -> str:
    rows = [[metric_name(r), cell_value(r, "a"), cell_value(r, "b"), cell_signed(r), cell_ratio(r),
             cell_p(r.get("p")), cell_p(r.get("p_holm")), cell_significant(r), r.get("why") or ""]
            for r in group["metrics"]]
    return table(["metric", f"A: {cmp['a']}", f"B: {cmp['b']}", "B − A (CI)", "B / A (CI)", "p", "p Holm",
                  "significant", "note"], rows)


def paired_block(paired: dict[str, Any]) -> str:
    if not paired.get("paired"):
        return paragraph(f"No paired comparison: {paired.get('why')}", "why")
    parts = [paragraph(f"{paired['basis']}; {paired['matched']} requests matched by id, "
                       f"{paired['only_in_a']} only in A, {paired['only_in_b']} only in B, "
                       f"{paired['failed_in_either']} failed in either run.")]
    for group in paired["groups"]:
        rows = [[NAMES.get(r["metric"], r["metric"]), r["n_pairs"],
                 cell_signed({"delta": r.get("median_delta"), "delta_ci": r.get("median_delta_ci"),
                              "unit": "s"}),
                 "—" if "share_faster_in_b" not in r else f"{r['share_faster_in_b']:.1%}",
                 cell_p(r.get("p")), cell_p(r.get("p_holm")), "yes" if r.get("significant") else "no",
                 r.get("why") or ""] for r in group["metrics"]]
        parts.append(f"<h3>{esc(group['group'])}</h3>" +
                     table(["metric", "pairs", "median Δ B − A (CI)", "faster in B", "p", "p Holm",
                            "significant", "note"], rows))
    return "".join(parts)


def population_block(result: dict[str, Any]) -> str:
    """Which requests latency was read from, per run, and what each rule means."""
    pop = result["population"]
    rows = [[r["label"], r["rule"], r["requests"], r["of"], r.get("why") or ""] for r in pop["runs"]]
    return (paragraph(f"{pop['note']}.") + table(["run", "rule", "requests", "of", "note"], rows)
            + table(["rule", "meaning"], pop["rules"].items()))


def slo_block(slo: dict[str, Any]) -> str:
    rows = []
    for label, verdict in slo["runs"].items():
        for c in verdict["checks"]:
            name = f"{c['metric']}.{c['stat']}" if c["stat"] else c["metric"]
            rows.append([label, c["scope"], f"{name} {c['op']} {c['threshold']:g}",
                         "PASS" if c["passed"] else "FAIL", c["why"]])
    return table(["run", "scope", "check", "verdict", "why"], rows)


def slo_sentence(slo: dict[str, Any]) -> str:
    failing = [label for label, v in slo["runs"].items() if not v.get("passed")]
    if not failing:
        return f"SLO {slo['profile']}: every run passes"
    return f"SLO {slo['profile']}: {', '.join(failing)} fail{'s' if len(failing) == 1 else ''}"


def comparison_folds(cmp: dict[str, Any]) -> list[Fold]:
    name = f"{cmp['a']} vs {cmp['b']}"
    cap = tests_caption({"population": cmp.get("population")}, cmp.get("tests"))
    head = (paragraph(cmp["note"], "why") if cmp.get("note") else "") + (paragraph(f"{cap}.") if cap else "")
    groups = "".join(f"<h3>{esc(g['group'])}</h3>" + metrics_table(cmp, g) for g in cmp["groups"])
    return [Fold(f"{name}: every metric (A, B, B − A, B / A with CIs)", head + groups),
            Fold(f"{name}: paired per-request deltas", paired_block(cmp["paired"]))]


def answers_of(result: dict[str, Any]) -> list[str]:
    heads = [h for cmp in result["comparisons"] for h in cmp["headlines"]]
    return heads + ([slo_sentence(result["slo"])] if result.get("slo") else [])


def render_compare_html(result: dict[str, Any], charts: Sequence[tuple[str, bytes]] = ()) -> str:
    """The page; ``charts`` are ``(caption, png)`` pairs in display order."""
    folds = [Fold("Runs", table(["run", "folder", "models", "requests", "ok", "users", "corpus",
                                 "model override", "coverage"], runs_rows(result)))]
    if result.get("population"):
        folds.append(Fold(f"Population: {result['population']['population']}", population_block(result)))
    for cmp in result["comparisons"]:
        folds += comparison_folds(cmp)
    if result.get("slo"):
        folds.append(Fold(f"SLO {result['slo']['profile']}", slo_block(result["slo"])))
    design = swap_design(result)
    if design:
        folds.append(Fold("Experiment design (swap)", table(["item", "value"], design)))
    boot = result["bootstrap"]
    folds.append(Fold("Method and definitions",
                      paragraph(f"{boot['conf']:.0%} percentile bootstrap, {boot['n_boot']} replicates, "
                                f"seed {boot['seed']}.") + table(["term", "definition"],
                                                                 result["definitions"].items())))
    folds.append(Fold("Run metadata (folders, targets, corpus identity)",
                      table(["run", "item", "value"], metadata_rows(result))))
    return render_page(title_of(result), provenance=provenance(result), alerts=alerts(result),
                       answers=answers_of(result), charts=[figure(c, png) for c, png in charts],
                       folds=folds, footer=f"{result['generator']['name']} {result['generator']['version']}"
                       f" · {result['schema']}")

