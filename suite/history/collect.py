"""Find the runs under a reports folder and read what each left: summary.json (required), run.json
and the corpus manifest (identity), check.json (``llmsuite check``'s verdict, when present).

What is not a run of the trend is skipped with its reason, never silently: a folder whose summary
cannot be read, a step of a sweep or swap (its load or model differs on purpose; the parent's
sweep.json / compare.json is its own report), a copy of a run already seen (a saved baseline).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from suite.history.figures import check_verdict, corpus_identity, figures, load_shape, slo_verdict, target_of
from suite.records import manifest_path

SUMMARY, RUN_META, CHECK = "summary.json", "run.json", "check.json"
SET_FILES = ("sweep.json", "compare.json")  # a folder of runs made to differ: not a trend


def _read(path: Path) -> tuple[Any, str | None]:
    try:
        return orjson.loads(path.read_bytes()), None
    except FileNotFoundError:
        return None, f"no {path.name}"
    except (OSError, orjson.JSONDecodeError) as exc:
        return None, f"{path.name} unreadable: {exc}"


def _manifest(run_dir: Path, meta: Mapping[str, Any]) -> Mapping[str, Any] | None:
    corpus = meta.get("corpus")
    if not corpus:
        return None
    for path in (manifest_path(Path(str(corpus))), manifest_path(run_dir / Path(str(corpus)).name)):
        if path.is_file():
            obj, _ = _read(path)
            return obj if isinstance(obj, Mapping) else None
    return None


def _started(meta: Mapping[str, Any], summary: Mapping[str, Any]) -> tuple[float | None, str]:
    if isinstance(meta.get("started"), int | float):
        return float(meta["started"]), "run.json started"
    start = ((summary.get("run") or {}).get("window") or {}).get("start")
    if isinstance(start, int | float):
        return float(start), "first request sent (summary.json run.window.start)"
    return None, "neither run.json started nor a measured window: ordered last"


def read_run(run_dir: Path, root: Path) -> tuple[dict[str, Any] | None, str | None]:
    """One run's history entry, or (None, why it is not one)."""
    summary, why = _read(run_dir / SUMMARY)
    if not isinstance(summary, Mapping) or not str(summary.get("schema", "")).startswith("llmsuite.summary/"):
        return None, why or "summary.json is not an llmsuite summary (no schema llmsuite.summary/…)"
    meta, meta_why = _read(run_dir / RUN_META)
    if not isinstance(meta, Mapping):
        inner = (summary.get("run") or {}).get("meta")
        meta = inner if isinstance(inner, Mapping) and "why" not in inner else {}
        meta_why = meta_why if not meta else None
    identity, identity_source = corpus_identity(meta, _manifest(run_dir, meta))
    check, check_why = _read(run_dir / CHECK)
    if check is not None and not isinstance(check, Mapping):
        check, check_why = None, f"{CHECK} is not an object"
    started, started_source = _started(meta, summary)
    run = summary.get("run") or {}
    partial = (run.get("partial") or {}).get("reason") or (run.get("aborted") or {}).get("reason")
    return {
        "run_dir": run_dir.relative_to(root).as_posix() or ".",
        "run_id": meta.get("run_id") or run_dir.name,
        "started": started, "started_source": started_source,
        "target": target_of(meta, summary),
        "corpus": Path(str(meta["corpus"])).name if meta.get("corpus") else None,
        "corpus_identity": identity, "corpus_identity_source": identity_source,
        "load": load_shape(meta),
        "sent": (summary.get("totals") or {}).get("sent"),
        "figures": figures(summary),
        "slo": slo_verdict(summary),
        "check": check_verdict(check, None if check_why == f"no {CHECK}" else check_why),
        "partial": partial,
        **({"meta_why": meta_why} if meta_why else {}),
    }, None


def _dedupe(runs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """One entry per run: a copy (same run id, start and corpus, e.g. promoted to a baseline folder)
    keeps the folder outside ``baselines``, else the first by path."""
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    skipped = []
    for run in sorted(runs, key=lambda r: ("baselines" in Path(r["run_dir"]).parts, r["run_dir"])):
        key = (run["run_id"], run["started"], run["corpus_identity"], run["target"])
        if key in seen:
            skipped.append({"path": run["run_dir"], "why": f"a copy of {seen[key]['run_dir']} (same run id, "
                            "start and corpus; e.g. a saved baseline): counted once"})
        else:
            seen[key] = run
    return list(seen.values()), skipped


def collect(root: Path, exclude: Path | None = None) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Every run folder under ``root`` (``root`` itself too), and the folders skipped with why.
    ``exclude``: the history's own output folder."""
    runs: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    sets: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames.sort()
        if exclude is not None and here.resolve() == exclude.resolve():
            dirnames.clear()
            continue
        if any(name in filenames for name in SET_FILES) and SUMMARY not in filenames:
            sets.append(here)
        if SUMMARY not in filenames:
            continue
        rel = here.relative_to(root).as_posix() or "."
        owner = next((s for s in sets if s != here and s in here.parents), None)
        if owner is not None:
            made_by = next(n for n in SET_FILES if (owner / n).is_file())
            skipped.append({"path": rel, "why": f"a step of {owner.relative_to(root).as_posix() or '.'} "
                            f"({made_by}): its steps differ on purpose; that folder is its own report"})
            continue
        run, why = read_run(here, root)
        if run is None:
            skipped.append({"path": rel, "why": why or "not a run"})
        else:
            runs.append(run)
    runs, copies = _dedupe(runs)
    return runs, skipped + copies
