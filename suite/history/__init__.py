"""``llmsuite history``: the trend of a target's key figures across scheduled runs (issue #18).

``build_history(reports_dir)`` walks the folder for runs (``collect``), reads each run's key figures,
SLO verdict and ``llmsuite check`` verdict from the files the run left (``figures``), and groups
them by target, corpus and load (``group``): nothing is recomputed from the logs and nothing is
averaged across groups. ``write_history`` writes history.json and history.html (``page``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import suite
from suite.errors import AnalysisError
from suite.history.collect import collect
from suite.history.figures import METRICS
from suite.history.group import group_runs

SCHEMA = "llmsuite.history/1"
HISTORY_JSON, HISTORY_HTML = "history.json", "history.html"

__all__ = ["HISTORY_HTML", "HISTORY_JSON", "SCHEMA", "build_history", "write_history"]


def build_history(reports_dir: Path, exclude: Path | None = None) -> dict[str, Any]:
    """history.json's content for every run under ``reports_dir`` (``exclude``: the output folder)."""
    root = Path(reports_dir)
    if not root.is_dir():
        raise AnalysisError(f"{root}: not a folder. Pass the folder your runs are written to, e.g. reports/.")
    runs, skipped = collect(root, exclude)
    if not runs:
        hint = f"; skipped: {skipped[0]['path']}: {skipped[0]['why']}" if skipped else ""
        raise AnalysisError(f"{root}: no run folder with a readable summary.json under it{hint}. Runs are "
                            "written by llmsuite run / check (or analyzed by llmsuite analyze).")
    return {
        "schema": SCHEMA,
        "generator": {"name": "suite.history", "version": suite.__version__},
        "reports_dir": str(root),
        "metrics": [{"key": m.key, "label": m.label, "unit": m.unit, "better": m.better,
                     "path": ".".join(m.path)} for m in METRICS],
        "runs_n": len(runs),
        "groups": group_runs(runs),
        "skipped": skipped,
    }


def write_history(out_dir: Path, history: dict[str, Any]) -> list[Path]:
    from suite.compare.outputs.files import write_json
    from suite.history.page import render_history

    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / HISTORY_HTML
    html_path.write_text(render_history(history), encoding="utf-8")
    return [write_json(out_dir / HISTORY_JSON, history), html_path]
