"""The target's own /metrics series, scraped during the run by ``suite.monitor``: read, summarized,
and the selected ones (cache hits, in-flight, process CPU and RSS) prepared for a chart.

A failed scrape is a gap: its time is kept with NaN values so the chart line breaks there. Counters
become rates between consecutive successful scrapes; nothing is interpolated across a gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from suite.analyze.schema import TargetMetrics, Why
from suite.errors import AnalysisError

MONITOR_FILE = "target_metrics.jsonl"
# (label, pattern on the series key, kind): "rate" turns a counter into per-second, "gauge" plots as is
SELECTED: tuple[tuple[str, str, str], ...] = (
    ("cache hits /s", r"^[a-z_]*cache_hits(_total)?$", "rate"),
    ("cache misses /s", r"^[a-z_]*cache_misses(_total)?$", "rate"),
    ("in-flight requests", r"^[a-z_]*in_flight[a-z_]*$", "gauge"),
    ("process CPU (cores)", r"^process_cpu_seconds_total$", "rate"),
    ("process RSS (MB)", r"^process_resident_memory_bytes$", "mb"),
)


@dataclass
class TargetSeries:
    t: np.ndarray  # seconds since the first scrape
    ok: np.ndarray
    values: dict[str, np.ndarray]  # label -> per-scrape value (NaN where not measured)
    start: float


def read_samples(path: Path) -> list[dict[str, Any]]:
    out = []
    for lineno, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise AnalysisError(f"{path}:{lineno}: not valid JSON ({exc}). Fix or delete the line (the "
                                "request log does not depend on it).") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("t"), int | float):
            raise AnalysisError(f"{path}:{lineno}: expected a scrape line "
                                '{"t": epoch, "ok": true|false, "error": ..., "values": {...}}.')
        out.append(obj)
    return out


def _series(samples: list[dict[str, Any]], pattern: str) -> tuple[str | None, np.ndarray]:
    """Sum of the series whose key (without labels) matches; NaN on failed scrapes."""
    rx = re.compile(pattern)
    keys = sorted({k for s in samples for k in s.get("values", {}) if rx.match(k.split("{", 1)[0])})
    if not keys:
        return None, np.full(len(samples), np.nan)
    vals = [sum(s["values"][k] for k in keys if k in s["values"]) if s.get("ok") else np.nan
            for s in samples]
    return keys[0].split("{", 1)[0], np.asarray(vals, dtype=np.float64)


def _transform(t: np.ndarray, v: np.ndarray, kind: str) -> np.ndarray:
    if kind == "mb":
        return v / 1e6
    if kind == "gauge":
        return v
    out = np.full(v.size, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[1:] = np.diff(v) / np.diff(t)  # NaN on either side of a gap stays NaN
    return out


def load_series(run_dir: Path) -> TargetSeries | None:
    path = Path(run_dir) / MONITOR_FILE
    if not path.exists():
        return None
    samples = sorted(read_samples(path), key=lambda s: s["t"])
    if not samples:
        return None
    t_abs = np.array([s["t"] for s in samples], dtype=np.float64)
    t = t_abs - t_abs[0]
    values = {}
    for label, pattern, kind in SELECTED:
        name, raw = _series(samples, pattern)
        if name is not None:
            values[label] = _transform(t, raw, kind)
    return TargetSeries(t, np.array([bool(s.get("ok")) for s in samples]), values, float(t_abs[0]))


def target_section(series: TargetSeries | None) -> TargetMetrics | Why:
    """Counts of scrapes and failures, and min/max/last of each selected series (or why not)."""
    if series is None:
        return {"why": f"no {MONITOR_FILE} (run with --monitor-interval, against a target with /metrics)"}
    out: TargetMetrics = {"scrapes": int(series.t.size), "failed": int((~series.ok).sum()),
                           "span_s": float(series.t[-1]), "series": {}}
    for label, _, _ in SELECTED:
        v = series.values.get(label)
        finite = v[np.isfinite(v)] if v is not None else np.empty(0)
        if finite.size == 0:
            why = "not exposed by the target" if v is None else "no successful scrape carried it"
            out["series"][label] = {"why": why}
        else:
            out["series"][label] = {"min": float(finite.min()), "max": float(finite.max()),
                                    "last": float(finite[-1]), "points": int(finite.size)}
    return out
