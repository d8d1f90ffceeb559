"""Analysis stage: a run directory's request-log shards → summary.json, CSVs, charts, report.html.

    summary = analyze_run("reports/demo")                 # dict, schema llmsuite.summary/2
    summary = analyze_run("reports/demo", load_slo("multi-tenant"))   # + goodput and a verdict
    summary, files = analyze_and_write("reports/demo")    # also writes every output file
    rich.print(render_summary_table(summary))             # terminal tables

Every number comes from the per-request records; what cannot be measured is null with a ``why``.
"""

from suite.analyze.load import LoadedRun, load_run
from suite.analyze.pipeline import analyze_and_write, analyze_run, write_reports
from suite.analyze.report import render_html
from suite.analyze.slo import SloSpec, evaluate_slo, load_slo
from suite.analyze.summary import SUMMARY_SCHEMA, summarize
from suite.analyze.tables import render_summary_table

__all__ = [
    "SUMMARY_SCHEMA",
    "LoadedRun",
    "SloSpec",
    "analyze_and_write",
    "analyze_run",
    "evaluate_slo",
    "load_run",
    "load_slo",
    "render_html",
    "render_summary_table",
    "summarize",
    "write_reports",
]
