"""Sweeps and the model swap: compositions of synth → run → analyze → compare, one step at a time.

    result = sweep_cache(StepPlan(out=Path("reports/sweep")), ratios=[0, 0.5, 0.9])   # run.py
    files = write_sweep(Path("reports/sweep"), result)                                 # files.py

Modules: ``run`` (``sweep_cache``, ``sweep_load``; drives ``suite.api``), ``swap`` (the model swap as
an experiment: probe, warm-up, order; over ``swap_order``, pure, and ``swap_runs``), ``rows`` (one
row per step from its samples, manifest and summary; gains, bounds, the SLO knee: pure), ``files``
(sweep.json / .csv / .png / .html), ``table`` (terminal), ``model_override`` (the model-swap copy of
a corpus), ``salt`` (the salted copy of a corpus: fresh traffic), ``fresh`` (the salt and the
never-seen-request probe of a sweep against a real target), ``schema`` (TypedDicts of sweep.json).

This package sits above the stages (``run`` imports ``suite.api``): the stages never import it.
Nothing is imported here, so reading ``rows`` or ``files`` does not load the API or the driver.
"""

# the default --duration of sweeps and swaps: a safety cap, not a length — a step runs its corpus
# out, and a step or swap segment the cap stops is named with its unsent requests (rows, swap)
STEP_CAP_S = 600.0
