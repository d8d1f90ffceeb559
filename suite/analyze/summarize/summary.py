"""``summarize(run, slo=None) -> dict``: the machine interface of a run (summary.json), from
per-request rows.

Every number is computed here from the request records; reports and terminal tables only render
this dict. Layout (schema ``llmsuite.summary/2``, documented in README "summary.json"): schema,
generator, run, totals, overall, models, cache, tokens, timeline, goodput, prefix_cache, slo,
target_metrics, headlines, missing, definitions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from functools import partial
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa

import suite
from suite.analyze.read.gaps import Gaps
from suite.analyze.read.load import LoadedRun
from suite.analyze.schema import (
    Dist,
    ErrorRow,
    Goodput,
    GroupBlock,
    PrefixCache,
    RunSection,
    Summary,
    Totals,
    Why,
)
from suite.analyze.summarize.accounting import accounting_section
from suite.analyze.summarize.cache import blind_run, cache_section, model_block
from suite.analyze.summarize.cachesignal import cache_detection
from suite.analyze.summarize.coverage import run_coverage
from suite.analyze.summarize.definitions import DEFINITIONS
from suite.analyze.summarize.groups import add_derived, group_block, pooled_itl_blocks
from suite.analyze.summarize.headlines import headlines
from suite.analyze.summarize.metrics import collect_missing, column, flags
from suite.analyze.summarize.misses import repeat_misses, ttl_value
from suite.analyze.summarize.prefix import prefix_section
from suite.analyze.summarize.slo import SloSpec, evaluate_slo, good_mask, goodput_block
from suite.analyze.summarize.stats import window
from suite.analyze.summarize.timeline import timeline_columns, timeline_of
from suite.analyze.summarize.unmeasured import RunShape, classify
from suite.models import PriceTable, price_table_or_why
from suite.runtime import give_back, kept_heap, small_pages

SUMMARY_SCHEMA = "llmsuite.summary/2"
# columns no per-model section reads (they are read on the whole run only); slicing each model's rows
# copies every other column, so these stay out of the slices
UNSLICED = ("id", "response_id", "error_message", "target", "worker", "user", "model", "t_start",
            "scheduled", "completion_tokens_tiktoken", "cached_tokens", "status", "chunks", "tokens_source",
            "warmup", "gaps", "key")
NO_SLO = "no SLO given (analyze with --slo PROFILE|FILE)"


def _version(module: Any) -> str:
    """The library's own ``__version__`` (what its wheel's metadata says, without reading it)."""
    return str(getattr(module, "__version__", "unknown"))


def errors_table(frame: pd.DataFrame) -> list[ErrorRow]:
    """Failed requests grouped by error kind, most frequent first, with one example message."""
    failed = frame.loc[~frame["ok"].to_numpy(), ["error_kind", "error_message", "status"]]
    kinds = failed["error_kind"].astype(object).fillna("(no error recorded)")
    rows: list[ErrorRow] = []
    for kind, group in failed.groupby(kinds, sort=False):
        messages = group["error_message"].dropna()
        statuses = sorted({int(s) for s in group["status"].dropna()})
        rows.append({"kind": str(kind), "count": len(group), "share": len(group) / len(failed),
                     "statuses": statuses, "example": str(messages.iloc[0]) if len(messages) else None})
    return sorted(rows, key=lambda row: (-row["count"], row["kind"]))


def totals_section(frame: pd.DataFrame) -> Totals:
    ok = int(frame["ok"].sum())
    counts = frame["status"].value_counts(dropna=False)
    statuses = {("none" if np.isnan(s) else str(int(s))): int(n) for s, n in counts.items()}
    return {
        "sent": len(frame), "ok": ok, "failed": len(frame) - ok,
        "error_ratio": (len(frame) - ok) / len(frame),
        "errors": errors_table(frame),
        "status_counts": dict(sorted(statuses.items())),
    }


def run_section(run: LoadedRun, start: float, end: float) -> RunSection:
    """What was run: from run.json when present, plus what the records themselves show."""
    frame = run.requests
    seen = {
        "run_dir": str(run.run_dir), "records": len(frame) + run.warmup_excluded,
        "files": [str(p) for p in run.files], "warmup_excluded": run.warmup_excluded,
        "targets": sorted(str(t) for t in frame["target"].dropna().unique()),
        "workers": int(frame["worker"].nunique()), "users_seen": int(frame["user"].nunique()),
        "open_loop": bool(np.isfinite(column(frame, "scheduled")).any()),
        "window": {"start": start, "end": end, "seconds": end - start},
        # only when a columnar mirror was read or passed over: a plain JSONL run keeps its bytes
        **({"log_source": run.log_source} if run.log_source else {}),
    }
    if run.meta is None:
        return cast("RunSection", {**seen, "meta": {"why": run.meta_why},
                                    "coverage": run_coverage(None, run.meta_why)})
    extra = run.meta.extra or {}
    aborted, partial = extra.get("aborted"), extra.get("partial")
    meta = run.meta.to_dict()
    # present only when run.json says so: a complete run's summary keeps its exact bytes
    section = {**seen, "meta": meta, **({"aborted": aborted} if aborted else {}),
               **({"partial": partial} if partial else {}), "coverage": run_coverage(meta)}
    return cast("RunSection", section)


def split_models(frame: pd.DataFrame,
                 models: dict[str, np.ndarray] | None = None) -> dict[str, pd.DataFrame]:
    """Each model's rows (``models``: ``model_rows``, made here when not given), sliced once and
    shared by every section. Slices are copies, so only the columns the sections read are sliced
    (ids and messages stay in the whole-run frame), and a float column with no value at all (a
    closed-loop run's schedule columns) is not copied either: each slice gets a view of one
    all-NaN array instead (240 MB less at 10M records)."""
    used = frame.drop(columns=[c for c in UNSLICED if c in frame.columns])
    empty = [c for c in used.columns if used[c].dtype == np.float64 and np.isnan(column(used, c)).all()]
    sliced = used.drop(columns=empty)
    rows_of = model_rows(frame) if models is None else models
    parts = [(m, sliced.iloc[rows]) for m, rows in rows_of.items()]
    if not empty:
        return dict(sorted((str(m), g) for m, g in parts))
    nan = np.full(len(frame), np.nan)
    nan.flags.writeable = False
    return dict(sorted((str(m), pd.concat([g, pd.DataFrame(dict.fromkeys(empty, nan[:len(g)]), index=g.index,
                                                          copy=False)], axis=1)[list(used.columns)])
                       for m, g in parts))


def model_rows(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each model's row positions, in ``split_models``'s order (by name), without slicing a column."""
    col = frame["model"]
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes, names = col.cat.codes.to_numpy(), col.cat.categories
    else:
        codes, names = pd.factorize(col)
    shifted = codes.astype(np.int64) + 1  # a row without a model (-1) in no group, as in groupby
    order = np.argsort(shifted, kind="stable")
    bounds = np.cumsum(np.bincount(shifted, minlength=len(names) + 1))
    return dict(sorted((str(names[i]), order[bounds[i]:bounds[i + 1]]) for i in range(len(names))
                       if bounds[i + 1] > bounds[i]))


def shared(tasks: list[tuple[str, Callable[[], Any], Callable[[], bool] | None]],
           pool: Executor) -> dict[str, Any]:
    """Each task's result by name, made by this thread and one of ``pool``'s, each taking the next
    task when free: the first in the list whose ``ready`` (None: always) says it can start now,
    else the first left (then it waits for what it needs). A task's error is raised here."""
    left = list(tasks)
    lock = threading.Lock()
    done: dict[str, Any] = {}

    def take() -> tuple[str, Callable[[], Any]] | None:
        with lock:
            if not left:
                return None
            pick = next((i for i, (_, _, ready) in enumerate(left) if ready is None or ready()), 0)
            name, task, _ = left.pop(pick)
            return name, task

    def drain() -> None:
        while (got := take()) is not None:
            done[got[0]] = got[1]()

    helper = pool.submit(drain)
    try:
        drain()
    finally:
        helper.result()
    return done


def _picked(ok: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The rows at positions ``rows`` that succeeded, as a mask over all rows."""
    out = np.zeros(ok.size, dtype=bool)
    out[rows] = ok[rows]
    return out


def _group_blocks(frame: pd.DataFrame, parts: dict[str, pd.DataFrame], gaps: Gaps, seconds: float,
                  itl: Future[tuple[Dist, dict[str, Dist]]]) -> tuple[GroupBlock, dict[str, GroupBlock]]:
    """The whole run's group block and each model's, with the pooled ITL ``itl`` made."""
    itl_all, itl_models = itl.result()
    n_rows = len(frame)
    return (group_block(frame, gaps, n_rows, seconds, itl_all),
            {m: group_block(g, gaps, n_rows, seconds, itl_models[m]) for m, g in parts.items()})


def goodput_section(frame: pd.DataFrame, parts: dict[str, pd.DataFrame], slo: SloSpec | None,
                    seconds: float) -> Goodput | Why:
    """Requests/s meeting the SLO's per-request limits, overall and per model."""
    if slo is None:
        return {"why": NO_SLO}
    values = {name: column(frame, name) for name in slo.request_limits}
    good = good_mask(frame["ok"].to_numpy(), values, slo.request_limits)
    block = cast("Goodput", goodput_block(slo, good, seconds))
    block["models"] = {m: goodput_block(slo, good[g.index.to_numpy()], seconds) for m, g in parts.items()}
    return block


def summarize(run: LoadedRun, slo: SloSpec | None = None,
              prices: PriceTable | None = None, cache_ttl_s: float | None = None) -> Summary:
    """The summary dict of a loaded run (see module docstring for its layout); ``cache_ttl_s``, the
    target cache's TTL when known, splits expired repeats out (else run.json extra.cache_ttl_s)."""
    # many short-lived 8-128 MB arrays: see suite.runtime.small_pages and kept_heap
    with kept_heap(), small_pages():
        return _summarize(run, slo, prices, cache_ttl_s)


def _summarize(run: LoadedRun, slo: SloSpec | None, prices: PriceTable | None,
               cache_ttl_s: float | None = None) -> Summary:
    models, ok = model_rows(run.requests), run.requests["ok"].to_numpy()
    # pooled ITL (millions of gaps, numpy only, on arrays taken here) runs on the second core from
    # the start while this thread does the rest; the numbers do not depend on the interleaving.
    # The largest transients come first, one at a time, before the per-model slices (~0.75 GB at
    # 10M records) exist: the timeline's (~0.55 GB), then the repeat-miss classification's sort of
    # every keyed row (~0.85 GB); what they leave free is handed back before the slices are made
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmsuite-summary") as pool:
        itl = pool.submit(pooled_itl_blocks, run.gaps, ok,
                          {m: _picked(ok, rows) for m, rows in models.items()})
        frame = run.requests = add_derived(run.requests, run.gaps)  # the writers read them too
        start, end = window(column(frame, "t_start"), column(frame, "e2e"))
        seconds = end - start
        table, table_why = (prices, None) if prices is not None else price_table_or_why()
        timeline = timeline_of(*timeline_columns(frame), start, end)
        ttl = ttl_value(run.meta.extra if run.meta else None, cache_ttl_s)
        explained = repeat_misses(frame, models, ttl)
        give_back()  # suite.runtime
        parts = split_models(frame, models)
        # what is left only reads the frame and the slices: both threads take the next task when
        # free (the second core once the gaps are pooled), the longest first, the cache section's
        # models apart so that no one task holds the other thread idle at the end; the groups'
        # blocks need the pooled ITL, so they wait their turn until it is made. The numbers are
        # the same whichever thread makes them
        blind = blind_run(frame)
        sections = shared([
            ("cache", lambda: cache_section(frame, parts, start, end, run.manifest, run.manifest_why,
                                            explained[0]), None),
            ("groups", lambda: _group_blocks(frame, parts, run.gaps, seconds, itl), itl.done),
            *((f"cache {m}", partial(model_block, g, blind, explained[1][m]), None)
              for m, g in parts.items()),
            ("tokens", lambda: accounting_section(frame, parts, table, table_why), None),
            ("detection", lambda: cache_detection(run, frame), None),  # which signal said hit
            ("totals", lambda: totals_section(frame), None),
            ("run", lambda: run_section(run, start, end), None),
            ("goodput", lambda: goodput_section(frame, parts, slo, seconds), None),
        ], pool)
    sections["timeline"] = timeline
    sections["cache"]["models"] = {m: sections.pop(f"cache {m}") for m in parts}
    overall, per_model = sections.pop("groups")
    sections["cache"]["detection"] = sections.pop("detection")
    summary = cast("Summary", {
        "schema": SUMMARY_SCHEMA,
        "generator": {"name": "suite.analyze", "version": suite.__version__, "numpy": _version(np),
                      "pandas": _version(pd), "pyarrow": _version(pa)},
        "run": sections["run"],
        "totals": sections["totals"],
        "overall": overall,
        "models": per_model,
        **{k: sections[k] for k in ("cache", "tokens", "timeline", "goodput")},
    })
    summary["prefix_cache"] = cast("PrefixCache | Why", prefix_section(  # why alone when unmeasured
        frame, table, table_why, run.manifest, run.manifest_why))
    summary["slo"] = evaluate_slo(summary, slo) if slo is not None else {"why": NO_SLO}
    summary["headlines"] = headlines(summary)
    scanned = ("run", "overall", "models", "cache", "tokens")
    found = collect_missing({k: cast("Mapping[str, Any]", summary)[k] for k in scanned})
    summary["missing"] = classify(found, RunShape(streamed=bool(flags(frame, "stream").any())))
    summary["definitions"] = dict(DEFINITIONS)
    return summary

