"""The baseline store: runs promoted by ``llmsuite check --save-baseline``, found again by identity.

Layout: ``<store>/<preset>/<run_id>/`` holds a copy of the run's request log shards, ``run.json`` and
``summary.json`` (what a comparison reads, not the charts or the page) and ``baseline.json``: which
preset, target and corpus it measured and when it was saved. A copy rather than a pointer because
the reports folder is pruned and re-created (CI artifacts) while the baselines folder is the one
that is kept; a later run never changes a saved baseline.

``--baseline latest`` is the newest baseline saved for the same (preset, target URL, corpus sha256):
a run of another corpus or target is never its baseline (a different experiment, not a regression).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from suite.errors import AnalysisError, SpecError
from suite.logcolumns import mirror_path

BASELINE_FILE = "baseline.json"
BASELINE_SCHEMA = "llmsuite.baseline/1"
COPIED = ("run.json", "summary.json")
SHARDS = "requests*.jsonl"


@dataclass(frozen=True)
class Identity:
    """What makes two runs comparable as baseline and check: same load shape, target and corpus."""

    preset: str
    target: str | None
    corpus_sha256: str | None

    def problem(self) -> str | None:
        """Why no baseline can be matched to this identity, or None."""
        named = (("target URL", self.target), ("corpus sha256", self.corpus_sha256))
        missing = [n for n, v in named if not v]
        return f"run.json has no {' and no '.join(missing)}" if missing else None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def target_url(meta: dict[str, Any]) -> str | None:
    """The target's base URL as run.json keeps it (``extra.target.url``, else ``target``)."""
    target = (meta.get("extra") or {}).get("target")
    url = target.get("url") if isinstance(target, dict) else meta.get("target")
    return str(url).rstrip("/") if url else None


def identity_of(run_dir: Path, preset: str) -> Identity:
    """A run folder's identity, from its run.json."""
    meta = _read_json(Path(run_dir) / "run.json")
    if meta is None:
        raise AnalysisError(f"{run_dir}: no readable run.json; a baseline is a run folder written by "
                            "`llmsuite run` or `llmsuite check`.")
    sha = meta.get("corpus_sha256")
    return Identity(preset, target_url(meta), str(sha) if sha else None)


def save_baseline(run_dir: Path, store: Path, identity: Identity, now: datetime | None = None) -> Path:
    """Copy the run into ``<store>/<preset>/<run folder name>/`` with its baseline.json; returns it."""
    run_dir = Path(run_dir)
    shards = sorted(p for p in run_dir.glob(SHARDS) if p.is_file())
    if not shards:
        raise AnalysisError(f"{run_dir}: no request log (requests*.jsonl) to save as a baseline.")
    dest = Path(store) / identity.preset / run_dir.name
    if dest.exists():
        raise SpecError(f"--save-baseline: {dest} already exists; a saved baseline is never overwritten "
                        "(give the run another --run-id, or remove that folder).")
    tmp = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    mirrors = [m for m in (mirror_path(p) for p in shards) if m.is_file()]  # columnar copies, if written
    for path in [*shards, *mirrors, *(run_dir / name for name in COPIED)]:
        if path.is_file():
            shutil.copy2(path, tmp / path.name)
    saved = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    record = {"schema": BASELINE_SCHEMA, **asdict(identity), "run_id": run_dir.name,
              "source": str(run_dir), "saved_at": saved.isoformat(timespec="microseconds")}
    (tmp / BASELINE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tmp.rename(dest)  # whole or absent: `latest` never finds a half-copied baseline
    return dest


def saved_baselines(store: Path, preset: str) -> list[tuple[dict[str, Any], Path]]:
    """Every baseline saved for a preset, newest first: (its baseline.json, its folder)."""
    found = []
    for marker in sorted((Path(store) / preset).glob(f"*/{BASELINE_FILE}")):
        record = _read_json(marker)
        if record is not None and record.get("schema") == BASELINE_SCHEMA:
            found.append((record, marker.parent))
    return sorted(found, key=lambda item: (str(item[0].get("saved_at", "")), item[1].name), reverse=True)


def find_latest(store: Path, identity: Identity) -> tuple[Path | None, str]:
    """The newest baseline of the same identity, and a sentence saying what was found (or why not)."""
    problem = identity.problem()
    if problem:
        return None, f"cannot match a baseline: {problem}"
    every = saved_baselines(store, identity.preset)
    for record, folder in every:
        if record.get("target") == identity.target and record.get("corpus_sha256") == identity.corpus_sha256:
            return folder, f"latest baseline for preset {identity.preset}, this target and corpus " \
                           f"(saved {record.get('saved_at')})"
    where = Path(store) / identity.preset
    if not every:
        return None, f"no baseline yet: nothing saved under {where}"
    return None, (f"no baseline yet for this target ({identity.target}) and corpus (sha256 "
                  f"{str(identity.corpus_sha256)[:12]}…): the {len(every)} under {where} measured "
                  "another target or corpus")
