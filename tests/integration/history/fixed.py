"""history.html from fixed inputs, for the browser layout tests (tests/integration/pages): the
golden recorded runs' summaries (tests/golden/expected), each recorded run (run-a, run-b: two
targets, so two groups) followed by a later run — the same summary re-analyzed with an SLO, given a
run id and a start one day later — and the later run-b judged by ``llmsuite check`` as regressed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.unit.test_golden import EXPECTED, Work, copy_runs, invoke

DAY = 86_400.0
# (recorded run, expected summary folder, run id, days after the recording, check.json or None)
RUNS = (
    ("run-a", "analyze-run-a", "run-a", 0, None),
    ("run-a", "analyze-run-a-slo-multi-tenant", "run-a-next", 1, {"baseline": "run-a", "regressed": [],
                                                                   "exit_code": 0}),
    ("run-b", "analyze-run-b", "run-b", 0, None),
    ("run-b", "analyze-run-b-slo-high-frequency", "run-b-next", 1,
     {"baseline": "run-b", "exit_code": 9,
      "regressed": [{"metric": "e2e.p50", "label": "E2E p50", "unit": "s", "a": 0.5, "b": 0.71, "delta": 0.21,
                     "ci": [0.12, 0.3], "relative": 0.42, "relative_ci": [0.24, 0.6],
                     "status": "regressed"}]}),
)


def history_page(root: Path) -> Work:
    runs = copy_runs(root)
    reports = root / "reports"
    for recorded, expected, run_id, days, check in RUNS:
        folder = reports / run_id
        folder.mkdir(parents=True)
        shutil.copy(EXPECTED / expected / "summary.json", folder / "summary.json")
        meta = json.loads((runs / recorded / "run.json").read_text(encoding="utf-8"))
        meta.update(run_id=run_id, started=meta["started"] + days * DAY)
        (folder / "run.json").write_text(json.dumps(meta), encoding="utf-8")
        if check is not None:
            (folder / "check.json").write_text(json.dumps(check), encoding="utf-8")
    out = root / "history"
    invoke(["history", str(reports), "-o", str(out)])
    return Work(root, out, runs)
