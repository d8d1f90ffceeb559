"""Write a sweep: sweep.json, sweep.csv (one row per step), sweep.png (the curves) and sweep.html
(``suite.sweep.html``).

Cache sweeps plot, against the corpus's repetition ratio: the observed and theoretical hit ratios;
the measured end-to-end gain beside the bounds ``1/(1−h)``; the per-hit speedup (log scale). Load
sweeps plot p50/p95 latency and throughput against the load level, the SLO knee as a red line.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from suite.analyze.outputs.savefig import closing, plt, save_figure
from suite.compare.outputs.files import write_json
from suite.records import csv_cell
from suite.sweep.html import render_html

SWEEP_JSON, SWEEP_CSV, SWEEP_PNG, SWEEP_HTML = "sweep.json", "sweep.csv", "sweep.png", "sweep.html"
DPI = 100
WIDTH_IN = 14  # inches: at DPI, 1,400 px, the width the charts are meant to be read at


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A step as flat CSV cells: ``{"value", "ci"}`` blocks become value/lo/hi, the SLO its verdict."""
    out: dict[str, Any] = {}
    for key, v in row.items():
        if key == "slo":
            out["slo_passed"] = None if v is None else v["passed"]
        elif isinstance(v, dict) and "value" in v:
            ci = v.get("ci") or [None, None]
            out.update({key: v["value"], f"{key}_lo": ci[0], f"{key}_hi": ci[1]})
        else:
            out[key] = v
    return out


def write_csv(path: Path, result: dict[str, Any]) -> Path:
    rows = [flat(r) for r in result["steps"]]
    header = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([csv_cell(h) for h in header])
        writer.writerows([["" if r.get(k) is None else csv_cell(r[k]) for k in header] for r in rows])
    return path


def _series(steps: list[dict[str, Any]], key: str) -> tuple[list[float], list[float], list[list[float]]]:
    """x, value and [below, above] error lengths of a ``{"value", "ci"}`` metric (NaN when missing)."""
    nan = float("nan")
    xs = [s["repeat_ratio"] for s in steps]
    vs = [nan if s[key]["value"] is None else s[key]["value"] for s in steps]
    errs = [[0.0, 0.0] if s[key].get("ci") is None else [v - s[key]["ci"][0], s[key]["ci"][1] - v]
            for s, v in zip(steps, vs, strict=True)]
    return xs, vs, [list(e) for e in zip(*errs, strict=True)] if errs else [[], []]


def _nan(v: float | None) -> float:
    return float("nan") if v is None else v


def _legend(ax: Axes, *more: Axes) -> None:
    """One legend per panel holding every labelled series, the twin axis's too: matplotlib's own
    ``ax.legend()`` only sees ``ax``'s artists, which is how a twin-axis line lost its entry."""
    handles: list[Any] = []
    labels: list[str] = []
    for a in (ax, *more):
        h, lab = a.get_legend_handles_labels()
        handles += h
        labels += lab
    if handles:
        ax.legend(handles, labels, fontsize="small", loc="best")


def _log_ticks(lo: float, hi: float) -> tuple[list[float], tuple[float, float]]:
    """Labelled ticks and y limits covering [lo, hi] on a 1-2-5 ladder, widened a step at a time until
    at least three ticks are labelled (matplotlib's default labels decades only, so a 30×–80× span
    showed two); past ten ticks, only the decades keep a label."""
    decades = range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 2)
    ladder = [(m, m * 10.0 ** e) for e in decades for m in (1, 2, 5)]
    start = max(i for i, (_, t) in enumerate(ladder) if t <= lo)
    stop = min(i for i, (_, t) in enumerate(ladder) if t >= hi)
    while stop - start < 2:
        start, stop = (start - 1, stop) if (stop - start) % 2 else (start, stop + 1)
    rungs = ladder[start:stop + 1]
    ticks = [t for _, t in rungs] if len(rungs) <= 10 else [t for m, t in rungs if m == 1]
    return ticks, (rungs[0][1], rungs[-1][1])


def _speedup_axis(ax: Axes, values: list[float], err: list[list[float]]) -> None:
    """Log y axis with ticks reading "10×, 20×, 50×"; with nothing measured, says so on the panel
    instead of drawing an empty log scale."""
    lows: list[float] = []
    highs: list[float] = []
    for v, below, above in zip(values, *err, strict=True):
        if math.isfinite(v) and v > 0:  # a CI end that is missing or not positive falls back to v
            lows.append(v - below if math.isfinite(below) and v - below > 0 else v)
            highs.append(v + above if math.isfinite(above) else v)
    if not lows:
        ax.text(0.5, 0.5, "no per-hit speedup measured\n(no hits, or no misses, at any step)",
                ha="center", va="center", transform=ax.transAxes)
        return
    ticks, limits = _log_ticks(min(lows), max(highs))
    ax.set_yscale("log")
    ax.set_ylim(*limits)
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}×"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def cache_figure(result: dict[str, Any]) -> Figure:
    """The cache sweep's three panels, open (``plot_cache`` saves and closes it; tests inspect it)."""
    steps = result["steps"]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(WIDTH_IN, 4.6), sharex=True)
    xs, hs, herr = _series(steps, "hit_ratio")
    ax1.errorbar(xs, hs, yerr=herr, marker="o", capsize=3, label="observed hit ratio (95% CI)")
    ax1.plot(xs, [_nan(s["theoretical_hit_ratio"]) for s in steps], "k--", label="theoretical (manifest)")
    coalesced = [h + _nan((s.get("coalescing_would_add") or {}).get("value")) / 100
                 for h, s in zip(hs, steps, strict=True)]
    if any(math.isfinite(c) for c in coalesced):
        ax1.plot(xs, coalesced, "g:", marker=".", label="observed + in-flight repeats (coalescing)")
    ax1.set(xlabel="repetition ratio requested", ylabel="hit ratio", title="Hit ratio", ylim=(0, 1))
    _, gs, gerr = _series(steps, "e2e_gain")
    ax2.errorbar(xs, gs, yerr=gerr, marker="o", capsize=3, label="measured, mean E2E vs baseline (95% CI)")
    ax2.plot(xs, [_nan(s["gain_bound_observed"]) for s in steps], "r:", label="bound 1/(1−h), observed h")
    ax2.plot(xs, [_nan(s["gain_bound_theoretical"]) for s in steps], "k--", label="bound, theoretical h")
    ax2.set(xlabel="repetition ratio requested", ylabel="× faster end to end", title="End-to-end gain")
    _, ss, serr = _series(steps, "per_hit_speedup")
    ax3.errorbar(xs, ss, yerr=serr, marker="o", capsize=3, label="median miss E2E / median hit E2E (95% CI)")
    _speedup_axis(ax3, ss, serr)
    ax3.set(xlabel="repetition ratio requested", ylabel="× faster per hit (log scale)",
            title="Per-hit speedup")
    for ax in (ax1, ax2, ax3):
        _legend(ax)
    return fig


def plot_cache(result: dict[str, Any], path: Path) -> Path:
    fig = cache_figure(result)
    with closing(fig):
        return save_figure(fig, path, DPI)


def load_figure(result: dict[str, Any]) -> Figure:
    """The load sweep's two panels, open (``plot_load`` saves and closes it; tests inspect it)."""
    steps, key = result["steps"], result["level_key"]
    xs = [s[key] for s in steps]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(WIDTH_IN, 4.6))
    unmeasured = []  # a series no step measured gets no legend entry, only a note (no line to match)
    for metric, style in (("e2e", "-"), ("ttft", "--")):
        for q in ("p50", "p95"):
            ys = [_nan(s[f"{metric}_{q}"]) for s in steps]
            if all(math.isnan(y) for y in ys):
                unmeasured.append(f"{metric.upper()} {q}")
                continue
            ax1.plot(xs, ys, style, marker="o", label=f"{metric.upper()} {q}")
    if unmeasured:
        ax1.annotate(f"not measured at any level: {', '.join(unmeasured)}", (0.01, 0.01),
                     xycoords="axes fraction", fontsize=8, color="#8a5a00")
    if any(s.get("e2e_from_scheduled_p95") is not None for s in steps):
        ax1.plot(xs, [_nan(s.get("e2e_from_scheduled_p95")) for s in steps], ":", marker="^",
                 label="E2E p95 from scheduled send")
    ax2.plot(xs, [_nan(s["requests_per_s"]) for s in steps], marker="o", label="requests/s (left axis)")
    ax2b = ax2.twinx()
    ax2b.plot(xs, [_nan(s["output_tokens_per_s"]) for s in steps], "g--", marker="s",
              label="output tokens/s (right axis)")
    knee = result["knee"]["level"]
    for ax in (ax1, ax2):
        if knee is not None:
            ax.axvline(knee, color="red", linestyle=":", label=f"SLO knee ({key} {knee:g})")
        ax.set_xlabel("users" if key == "users" else "offered rate (requests/s)")
    ax1.set(ylabel="seconds", title="Latency vs load")
    ax2.set(ylabel="requests/s", title="Throughput vs load")
    ax2b.set_ylabel("output tokens/s")
    _legend(ax1)
    _legend(ax2, ax2b)
    return fig


def plot_load(result: dict[str, Any], path: Path) -> Path:
    fig = load_figure(result)
    with closing(fig):
        return save_figure(fig, path, DPI)


def write_sweep(out_dir: Path, result: dict[str, Any]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    from suite.sweep.semanticfiles import plot_semantic

    plot = {"cache": plot_cache, "semantic": plot_semantic}.get(result["kind"], plot_load)
    png = plot(result, out_dir / SWEEP_PNG)
    html_path = out_dir / SWEEP_HTML
    html_path.write_text(render_html(result, png.read_bytes()), encoding="utf-8")
    return [write_json(out_dir / SWEEP_JSON, result), write_csv(out_dir / SWEEP_CSV, result), png, html_path]
