"""Comparisons of runs (``llmsuite compare``): per model and metric, B − A and B / A with bootstrap
CIs and a significance flag; paired per-request deltas when the runs replayed the same corpus.

    result = compare_runs(["reports/a", "reports/b"])      # dict, schema llmsuite.compare/1
    files = write_all(Path("reports/cmp"), result)           # compare.json/.csv/.html + chart

Builds on the analyze stage (its loader and bootstrap); every number comes from per-request records.
"""

from suite.compare.build import COMPARE_SCHEMA, compare_runs, compare_samples, slo_section
from suite.compare.deltas import Boot
from suite.compare.files import write_all

__all__ = ["COMPARE_SCHEMA", "Boot", "compare_runs", "compare_samples", "slo_section", "write_all"]
