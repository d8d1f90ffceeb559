"""``llmsuite check``: a preset run judged against a baseline run (issue 18).

    outcome = run_check(CheckPlan(preset="smoke", target=target, boot=Boot(), corpus=Path("c.jsonl")))
    outcome.exit_code        # 0, 9 (EXIT_REGRESSION) on a significant regression, or the run's codes
    outcome.record           # check.json, also written in the run folder

Modules: ``flow`` (run → analyze → baseline → compare → verdict → check.json; exit codes),
``store`` (baselines saved under ``<store>/<preset>/<run>/`` and found again by preset, target and
corpus), ``verdict`` (pure: a comparison → which primary metric regressed, with the CI, above a
minimum effect), ``table`` (the terminal table, from check.json alone).
"""

from suite.check.flow import CHECK_JSON, CHECK_SCHEMA, CheckOutcome, CheckPlan, run_check
from suite.check.store import Identity, find_latest, identity_of, save_baseline
from suite.check.verdict import Thresholds, Verdict, judge

__all__ = ["CHECK_JSON", "CHECK_SCHEMA", "CheckOutcome", "CheckPlan", "Identity", "Thresholds", "Verdict",
           "find_latest", "identity_of", "judge", "run_check", "save_baseline"]
