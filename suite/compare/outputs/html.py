"""``render_compare_html(result, png) -> str``: one self-contained page (inline CSS, chart as a data
URI). Rule: every piece of text taken from data — labels, model names, folders, reasons — passes
through ``esc``; run folders and model names are user input."""

from __future__ import annotations

import base64
from typing import Any

from suite.analyze.outputs.report import esc, table  # one escaping rule for every page
from suite.compare.outputs.cells import (
    cell_p,
    cell_ratio,
    cell_signed,
    cell_significant,
    cell_value,
    metric_name,
    tests_caption,
)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;
color:#1d2330;padding:0 1rem}h2{margin-top:2rem;border-bottom:1px solid #dde}table{border-collapse:collapse;
font-size:.9rem;margin:.5rem 0}th,td{border:1px solid #dde;padding:.3rem .6rem;text-align:right}
th{background:#f3f5f9}td:first-child,th:first-child{text-align:left}.lead li{font-size:1.05rem}
.sig{font-weight:600}.why{color:#8a5a00}.fail{color:#b00020}.pass{color:#116b2e}img{max-width:100%}
"""


def runs_table(result: dict[str, Any]) -> str:
    rows = [[r["label"], r["run_dir"], ", ".join(r["models"]), r["records"], r["ok"], r.get("users") or "—",
             (r.get("corpus_identity") or "—")[:12], r.get("model_override") or "—"] for r in result["runs"]]
    return table(["run", "folder", "models", "records", "ok", "users", "corpus", "model override"], rows)


def metrics_table(cmp: dict[str, Any], group: dict[str, Any]) -> str:
    rows = [[metric_name(r), cell_value(r, "a"), cell_value(r, "b"), cell_signed(r), cell_ratio(r),
             cell_p(r.get("p")), cell_p(r.get("p_holm")), cell_significant(r), r.get("why") or ""]
            for r in group["metrics"]]
    return table(["metric", cmp["a"], cmp["b"], "B − A (CI)", "B / A (CI)", "p", "p Holm", "significant",
                  "note"], rows)


def paired_table(paired: dict[str, Any]) -> str:
    if not paired.get("paired"):
        return f'<p class="why">No paired comparison: {esc(paired.get("why"))}</p>'
    parts = [f"<p>{esc(paired['basis'])}; {paired['matched']} requests matched by id, "
             f"{paired['only_in_a']} only in A, {paired['only_in_b']} only in B, "
             f"{paired['failed_in_either']} failed in either run.</p>"]
    for group in paired["groups"]:
        rows = [[r["metric"], r["n_pairs"], cell_signed({"delta": r.get("median_delta"),
                                                         "delta_ci": r.get("median_delta_ci"), "unit": "s"}),
                 "—" if "share_faster_in_b" not in r else f"{r['share_faster_in_b']:.1%}",
                 cell_p(r.get("p")), cell_p(r.get("p_holm")), "yes" if r.get("significant") else "no",
                 r.get("why") or ""] for r in group["metrics"]]
        parts.append(f"<h3>{esc(group['group'])}</h3>" +
                     table(["metric", "pairs", "median Δ B − A (CI)", "faster in B", "p", "p Holm",
                            "significant", "note"], rows))
    return "".join(parts)


def population_block(result: dict[str, Any]) -> str:
    """Which requests latency was read from, per run, and the rows that use every request."""
    pop = result.get("population")
    if not pop:
        return ""
    rows = [[r["label"], r["rule"], r["requests"], r["of"], r.get("why") or ""] for r in pop["runs"]]
    return (f"<h2>Population: {esc(pop['population'])}</h2><p>{esc(pop['note'])}.</p>"
            + table(["run", "rule", "requests", "of", "note"], rows)
            + table(["rule", "meaning"], pop["rules"].items()))


def slo_block(result: dict[str, Any]) -> str:
    slo = result.get("slo")
    if not slo:
        return ""
    rows = []
    for label, verdict in slo["runs"].items():
        for c in verdict["checks"]:
            name = f"{c['metric']}.{c['stat']}" if c["stat"] else c["metric"]
            rows.append([label, c["scope"], f"{name} {c['op']} {c['threshold']:g}",
                         "PASS" if c["passed"] else "FAIL", c["why"]])
    state = "pass" if slo["passed"] else "fail"
    verdict = "every run passes" if slo["passed"] else "at least one run fails"
    return (f"<h2>SLO {esc(slo['profile'])}</h2><p class=\"{state}\">{verdict}</p>"
            + table(["run", "scope", "check", "verdict", "why"], rows))


def render_compare_html(result: dict[str, Any], png: bytes | None) -> str:
    parts = [f"<h1>Comparison: {esc(' vs '.join(r['label'] for r in result['runs']))}</h1>"]
    heads = [h for cmp in result["comparisons"] for h in cmp["headlines"]]
    parts.append("<ul class=\"lead\">" + "".join(f"<li>{esc(h)}</li>" for h in heads) + "</ul>")
    caption = tests_caption(result)
    if caption:
        parts.append(f"<p>{esc(caption)}.</p>")
    parts.append("<h2>Runs</h2>" + runs_table(result) + population_block(result))
    if png:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure><img alt="A/B latency bars" src="data:image/png;base64,{data}"></figure>')
    for cmp in result["comparisons"]:
        parts.append(f"<h2>{esc(cmp['b'])} vs {esc(cmp['a'])}</h2>")
        if cmp.get("note"):
            parts.append(f'<p class="why">{esc(cmp["note"])}</p>')
        cap = tests_caption({"population": cmp.get("population")}, cmp.get("tests"))
        if cap:
            parts.append(f"<p>{esc(cap)}.</p>")
        for group in cmp["groups"]:
            parts.append(f"<h3>{esc(group['group'])}</h3>" + metrics_table(cmp, group))
        parts.append("<h3>Paired per-request deltas</h3>" + paired_table(cmp["paired"]))
    parts.append(slo_block(result))
    boot = result["bootstrap"]
    parts.append(f"<h2>Method</h2><p>{boot['conf']:.0%} percentile bootstrap, {boot['n_boot']} replicates, "
                 f"seed {boot['seed']}.</p>" + table(["term", "definition"], result["definitions"].items()))
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>llmsuite comparison</title>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n")
