"""LLM Traffic Suite: synthesize LLM traffic, replay it with Locust, analyze latency and cache gains.

Module map (docs/design.md has the pipeline, the file contracts and the import rules):

- stages: ``synth/`` (spec → corpus), ``driver/`` (corpus → request log, with Locust),
  ``analyze/`` (request log → summary.json, report), ``compare/`` (analyses → A/B)
- top: ``cli/`` (``llmsuite``), ``api`` (the same as a library), ``sweep/`` (steps of synth → run →
  analyze), ``devtools/`` (checks on the tree)
- contracts: ``records`` (the file shapes), ``tokens`` (offline tiktoken), ``models`` (model
  catalog), ``errors`` (the exception tree), ``services`` (private redis-server / mock processes),
  ``runtime`` (process-wide tuning), ``monitor`` (the target's /metrics during a run)
"""

__version__ = "0.1.0"
