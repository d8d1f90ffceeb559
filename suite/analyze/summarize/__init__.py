"""From a loaded run to the summary dict (summary.json); pure but for ``slo.load_slo`` (reads a YAML
file) and ``slowest`` (reads prompts from the corpus).

``summary`` assembles the blocks: ``groups`` (per model and overall: latency, throughput, compat
views, open loop), ``cache``, ``accounting`` (tokens and cost), ``timeline``, ``slo`` (profiles,
goodput, verdicts), ``slowest``, ``headlines`` (sentences) and ``definitions`` (formulas). Under
them: ``metrics`` (value and distribution blocks, the ``why`` rule), ``stats`` (percentiles) and
``bootstrap`` (seeded CIs), which ``suite.compare`` and ``suite.sweep`` reuse.
"""
