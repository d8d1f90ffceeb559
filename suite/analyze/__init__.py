"""Analysis stage: a run directory's request-log shards → summary.json, CSVs, charts, report.html.

    summary = analyze_run("reports/demo")                 # dict, schema llmsuite.summary/2
    summary = analyze_run("reports/demo", load_slo("multi-tenant"))   # + goodput and a verdict
    summary, files = analyze_and_write("reports/demo")    # also writes every output file
    rich.print(render_summary_table(summary))             # terminal tables

Every number comes from the per-request records; what cannot be measured is null with a ``why``.

Modules, in data order: ``read/`` (``logread``: JSONL shards → Arrow table and flat gap array,
``load``: a run folder → ``LoadedRun``, ``targetmetrics``: the target's scraped /metrics series);
``summarize/`` (``summary`` assembles summary.json from ``groups`` (latency, throughput, compat,
open loop), ``cache``, ``accounting`` (tokens, cost), ``timeline``, ``slo`` (profiles, goodput,
verdicts), ``slowest``, ``headlines`` and ``definitions``, on top of ``metrics`` (value / distribution
blocks), ``stats`` and ``bootstrap`` (pure numpy)); ``outputs/`` (``rows`` + ``facts``: column
layouts shared by every renderer, ``fmt``, ``tables`` (terminal), ``report`` (HTML), ``charts`` +
``charts_time``, ``savefig`` (the one PNG writer), ``requests_csv``); ``schema`` (TypedDicts of
summary.json's blocks); ``pipeline`` (load → summarize → write).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from suite.analyze.outputs.report import render_html
    from suite.analyze.outputs.tables import render_summary_table
    from suite.analyze.pipeline import analyze_and_write, analyze_run, write_reports
    from suite.analyze.read.load import LoadedRun, load_run
    from suite.analyze.summarize.slo import SloSpec, evaluate_slo, load_slo
    from suite.analyze.summarize.summary import SUMMARY_SCHEMA, summarize

# imported on first use: ``import suite.analyze.read.load`` (compare, the benches) then does not
# load the report and table renderers (rich and the HTML writer: ~0.08 s of a ~0.4 s import)
_HOME = {
    "render_html": "suite.analyze.outputs.report",
    "render_summary_table": "suite.analyze.outputs.tables",
    **dict.fromkeys(("analyze_and_write", "analyze_run", "write_reports"), "suite.analyze.pipeline"),
    **dict.fromkeys(("LoadedRun", "load_run"), "suite.analyze.read.load"),
    **dict.fromkeys(("SloSpec", "evaluate_slo", "load_slo"), "suite.analyze.summarize.slo"),
    **dict.fromkeys(("SUMMARY_SCHEMA", "summarize"), "suite.analyze.summarize.summary"),
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'suite.analyze' has no attribute {name!r}")


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
