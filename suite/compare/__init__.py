"""Comparisons of runs (``llmsuite compare``): per model and metric, B − A and B / A with bootstrap
CIs and a significance flag; paired per-request deltas when the runs replayed the same corpus.

    result = compare_runs(["reports/a", "reports/b"])      # dict, schema llmsuite.compare/1
    result = compare_samples([concat(a_blocks, "A"), concat(b_blocks, "B")], boot,
                             population="miss", primary="e2e.p50")   # a swap measured in ABBA blocks
    files = write_all(Path("reports/cmp"), result)           # compare.json/.csv/.html + chart

Builds on the analyze stage (its loader and bootstrap); every number comes from per-request records.

Modules: ``read/samples`` (a run folder → ``RunSamples``, per-request arrays; corpus identity;
``concat`` of a model's segments); ``summarize/`` (``build``: compare.json, ``deltas``: unpaired rows
with bootstrap CIs, ``paired``: per-request deltas joined by id, ``population``: all requests or cache
misses, ``significance``: p-values, the primary metric and Holm's correction, ``headline``:
sentences); ``outputs/`` (``files``: compare.json / .csv and the chart + page, ``html``, ``chart``,
``table`` (terminal), ``cells``: one cell's text); ``schema`` (TypedDicts of compare.json).
"""

from suite.compare.outputs.files import write_all
from suite.compare.read.samples import RunSamples, concat, load_samples
from suite.compare.summarize.build import COMPARE_SCHEMA, compare_runs, compare_samples, slo_section
from suite.compare.summarize.deltas import Boot

__all__ = ["COMPARE_SCHEMA", "Boot", "RunSamples", "compare_runs", "compare_samples", "concat",
           "load_samples", "slo_section", "write_all"]
