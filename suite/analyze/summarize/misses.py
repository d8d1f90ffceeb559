"""Why repeats missed: every successful miss whose key was sent earlier in the run, explained from the
records' own ``key``, ``t_start``, ``e2e`` and ``ok``.

Why: an observed hit ratio below the corpus's theoretical one reads as "the cache is weak", yet most
such gaps come from timing, not from the cache: a repeat sent while its first copy is still being
answered cannot hit a cache that stores on completion (only request coalescing would catch it). The
classes, in order of precedence:

* ``after_finish`` — an earlier copy had already finished successfully when this one was sent: the
  entry should have been there (eviction, TTL, or the target keys requests differently);
  ``expired`` is split out of it when the cache's TTL is known and the last store (the end of the
  latest earlier successful miss) is older than the TTL;
* ``in_flight`` — an earlier copy succeeded, but none had finished when this one was sent;
* ``first_copy_failed`` — every earlier copy failed: nothing was there to cache.

A copy finishes at ``t_start + e2e``; a copy without a recorded ``e2e`` never counts as finished.
Earlier means sent before (``t_start``; ties keep the log's order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from suite.analyze.summarize.metrics import column, equals, value
from suite.analyze.summarize.stats import ratio

FIRST_SEEN, IN_FLIGHT, FIRST_COPY_FAILED, AFTER_FINISH, EXPIRED = range(5)
CLASSES = {"in_flight": IN_FLIGHT, "first_copy_failed": FIRST_COPY_FAILED,
           "after_finish": AFTER_FINISH, "expired": EXPIRED}
NO_KEY = ("no record carries the corpus request's key (logs written before the driver recorded it), "
          "so repeat misses cannot be explained")
NO_SIGNAL = "no successful request carried a cache signal, so there are no misses to explain"
NO_TTL = ("the target's cache TTL is unknown (pass analyze --cache-ttl SECONDS, or record "
          "extra.cache_ttl_s in run.json); expired repeats stay inside after_finish")
NO_REPEAT_MISS = "no successful miss repeated a key sent earlier in this run"


def key_codes(frame: pd.DataFrame) -> np.ndarray | None:
    """Integer key per row (-1: none recorded), or None when the log has no ``key`` at all."""
    if "key" not in frame.columns:
        return None
    col = frame["key"]
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy().astype(np.int64)
    else:
        codes = pd.factorize(col, use_na_sentinel=True)[0].astype(np.int64)
    return codes if (codes >= 0).any() else None


def _grouped(codes: np.ndarray, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Keyed rows sorted by (key, send time): the order, each row's group and position in it, how
    many earlier copies succeeded, and the earliest finish of an earlier successful copy."""
    t = column(frame, "t_start")
    keyed = np.flatnonzero(codes >= 0)
    # send order (stable: ties keep the log's order), then by key, stably: (key, send time) order.
    # Temporaries are dropped as soon as they are used: at 10M records each is 40-80 MB.
    by_time = keyed[np.argsort(t[keyed], kind="stable")]
    del keyed
    order = by_time[np.argsort(codes[by_time], kind="stable")]
    del by_time
    ok = frame["ok"].to_numpy()[order]
    end = t[order]
    end += column(frame, "e2e")[order]
    sorted_codes = codes[order]
    first = np.ones(order.size, dtype=bool)
    np.not_equal(sorted_codes[1:], sorted_codes[:-1], out=first[1:])
    del sorted_codes
    group = np.cumsum(first)
    group -= 1
    start = np.flatnonzero(first)[group]
    position = np.arange(order.size)
    position -= start
    ok_sum = np.concatenate([[0], np.cumsum(ok)])
    ok_before = ok_sum[:-1] - ok_sum[start]
    del ok_sum, start
    earliest = pd.Series(np.where(ok & np.isfinite(end), end, np.inf)).groupby(group).cummin().to_numpy()
    before_min = np.full(order.size, np.inf)
    before_min[1:] = earliest[:-1]
    del earliest
    before_min[first] = np.inf
    return {"order": order, "group": group, "position": position, "end": end, "ok": ok,
            "ok_before": ok_before, "before_min_end": before_min}


def _last_store(g: dict[str, np.ndarray], stores: np.ndarray, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
    """For each of ``rows`` (positions in the sorted order), the end of the latest copy among
    ``stores`` (same key) that had finished by its send time; NaN when none had."""
    pos = np.flatnonzero(stores & np.isfinite(g["end"]))
    gid = np.concatenate([g["group"][pos], g["group"][rows]])
    when = np.concatenate([g["end"][pos], t[rows]])
    # on equal times a store counts as finished only when it was sent before the row (log order)
    tie = np.concatenate([g["position"][pos], g["position"][rows] - 0.5])
    sort = np.lexsort((tie, when, gid))
    stored = np.concatenate([g["end"][pos], np.full(rows.size, np.nan)])[sort]
    filled = np.empty(sort.size)
    filled[sort] = pd.Series(stored).groupby(gid[sort]).ffill().to_numpy()
    return filled[pos.size:]


def classify(frame: pd.DataFrame, ttl: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per row: its miss class (-1 for rows that are not successful keyed misses, ``FIRST_SEEN`` for
    a compulsory miss), whether its key was sent earlier, and whether it has a key; None when no row
    has a key."""
    codes = key_codes(frame)
    if codes is None:
        return None
    g = _grouped(codes, frame)
    order, n = g["order"], len(frame)
    t = column(frame, "t_start")[order]
    hit = equals(frame, "cache", "hit")[order]
    miss = g["ok"] & equals(frame, "cache", "miss")[order]
    finished = g["before_min_end"] <= t
    cls = np.select([g["position"] == 0, finished, g["ok_before"] > 0],
                    [FIRST_SEEN, AFTER_FINISH, IN_FLIGHT], FIRST_COPY_FAILED)
    if ttl is not None:  # the last store: the latest earlier successful non-hit (hits do not store)
        late = np.flatnonzero(miss & (cls == AFTER_FINISH))
        stored_at = _last_store(g, g["ok"] & ~hit, late, t)
        cls[late[t[late] - stored_at > ttl]] = EXPIRED  # NaN (only hits stored) compares False
    classes = np.full(n, -1, dtype=np.int8)
    classes[order[miss]] = cls[miss]
    seen = np.zeros(n, dtype=bool)
    seen[order] = g["position"] > 0
    return classes, seen, codes >= 0


def _share(count: int, total: int) -> dict[str, Any]:
    share = ratio(count, total)
    return {"count": count, "share": share} if share is not None else \
        {"count": count, "share": None, "why": NO_REPEAT_MISS}


def _points(count: int, total: int, why: str) -> dict[str, Any]:
    got = ratio(count * 100, total)
    return {**value(got, why), "unit": "percentage points"}


def explain(classes: np.ndarray, seen: np.ndarray, has_key: np.ndarray, hit: np.ndarray,
            miss: np.ndarray, ttl: dict[str, Any]) -> dict[str, Any]:
    """The explanation block over one group's rows (masks aligned with ``classes``): counts and
    shares of each class, and the gap between the in-run theoretical and the observed hit ratio."""
    signal = hit | miss
    keyed = signal & has_key
    repeats = int((classes > FIRST_SEEN).sum())
    counts = {name: int((classes == code).sum()) for name, code in CLASSES.items()}
    block: dict[str, Any] = {
        "misses": int(miss.sum()), "first_seen_misses": int((classes == FIRST_SEEN).sum()),
        "repeat_misses": repeats, "without_key": int((miss & (classes < 0)).sum()),
        **{name: _share(counts[name], repeats)
           for name in ("in_flight", "first_copy_failed", "after_finish")},
        "expired": _share(counts["expired"], repeats) if ttl["value"] is not None else
        {"count": None, "share": None, "why": ttl["why"]},
        "ttl_s": ttl,
    }
    total = int(signal.sum())
    block["coalescing_would_add"] = _points(counts["in_flight"], total, NO_SIGNAL)
    block["gap"] = gap(keyed, seen, hit, counts, repeats)
    if ttl["value"] is None:
        block["gap"]["expired_points"] = {"value": None, "why": ttl["why"]}
    return block


def gap(keyed: np.ndarray, seen: np.ndarray, hit: np.ndarray, counts: dict[str, int],
        repeats: int) -> dict[str, Any]:
    """Theoretical (a key sent earlier in this run) minus observed hit ratio, in points, and the
    points each class of repeat miss takes; hits on first-seen keys (a cache warm from before the
    run) add back. Over the successful requests with a signal whose key is known."""
    n = int(keyed.sum())
    why = "no successful request with a cache signal carries a key"
    theory, observed = ratio(int((keyed & seen).sum()), n), ratio(int((keyed & hit).sum()), n)
    warm = int((keyed & hit & ~seen).sum())
    out: dict[str, Any] = {
        "requests": n,
        "theoretical_in_run": value(theory, why),
        "observed": value(observed, why),
        "points": _points(int((keyed & seen).sum()) - int((keyed & hit).sum()), n, why),
        **{f"{name}_points": _points(count, n, why) for name, count in counts.items()},
        "first_seen_hits": warm,
    }
    if repeats == 0:
        out["note"] = NO_REPEAT_MISS
    return out


def ttl_value(extra: dict[str, Any] | None, given: float | None) -> dict[str, Any]:
    """The cache TTL: the analyze option wins over run.json's ``extra.cache_ttl_s``; else unknown."""
    if given is not None:
        return {"value": float(given), "unit": "s", "source": "analyze option cache_ttl_s"}
    recorded = (extra or {}).get("cache_ttl_s")
    if isinstance(recorded, int | float) and not isinstance(recorded, bool):
        return {"value": float(recorded), "unit": "s", "source": "run.json extra.cache_ttl_s"}
    return {"value": None, "why": NO_TTL}


def repeat_misses(frame: pd.DataFrame, models: Mapping[str, np.ndarray], ttl: dict[str, Any],
                  ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The whole run's explanation block and one per model (``models``: each model's row
    positions, ``model_rows``); ``{"why"}`` when it cannot be made."""
    ok = frame["ok"].to_numpy()
    hit, miss = ok & equals(frame, "cache", "hit"), ok & equals(frame, "cache", "miss")
    if not (hit | miss).any():
        return {"why": NO_SIGNAL}, {m: {"why": NO_SIGNAL} for m in models}
    got = classify(frame, ttl["value"])
    if got is None:
        return {"why": NO_KEY}, {m: {"why": NO_KEY} for m in models}
    explained = {name: explain(*(a[rows] for a in (*got, hit, miss)), ttl) for name, rows in models.items()}
    return explain(*got, hit, miss, ttl), explained
