"""One trend chart per group: four panels over the group's runs, oldest to newest — latency
(TTFT/E2E p50/p95), error and hit ratios, the per-hit speedup with its CI, output tokens/s — with
runs that ``llmsuite check`` marked as regressed shaded and SLO failures drawn as lines.

Runs are evenly spaced (scheduled runs are rarely evenly timed, and a gap of a week should not
squeeze the days around it); the ticks say when each run started. Sized like the sweep charts:
14 inches at 100 dpi, the 1,400 px the pages are read at. A series no run measured gets no line
and no legend entry, only a note on its panel (no empty line to match against the legend).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from suite.analyze.outputs.savefig import closing, plt

DPI = 100
WIDTH_IN = 14
MAX_TICKS = 8
REGRESSED = "run marked regressed by llmsuite check"


def _series(runs: Sequence[dict[str, Any]], key: str) -> list[float]:
    return [math.nan if r["figures"][key]["value"] is None else r["figures"][key]["value"] for r in runs]


def _tick(r: dict[str, Any]) -> str:
    return "?" if r["started"] is None else time.strftime("%m-%d\n%H:%M", time.gmtime(r["started"]))


def _legend(ax: Axes) -> None:
    """Below the panel, not over it: with a run or two, no corner of the plot is free of points."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.25),
                  ncol=2 if len(handles) > 2 else 1, frameon=False)


def _plot(ax: Axes, xs: list[int], runs: Sequence[dict[str, Any]], lines: Sequence[tuple[str, str, str]],
          scale: float = 1.0) -> None:
    """Each (key, label, style) as a line with markers; unmeasured ones named in a note instead."""
    unmeasured = []
    for key, label, style in lines:
        ys = [v * scale for v in _series(runs, key)]
        if all(math.isnan(y) for y in ys):
            unmeasured.append(label)
            continue
        ax.plot(xs, ys, style, marker="o", label=label)
    if unmeasured:
        ax.annotate(f"not measured in any run: {', '.join(unmeasured)}", (0.01, 0.01),
                    xycoords="axes fraction", fontsize=8, color="#8a5a00")


def _log_when_spread(ax: Axes, spread: float = 20.0) -> None:
    """A log axis when the latencies span more than ``spread``× (a run of cache hits beside a run
    of misses), so the fast runs are not a flat line at 0."""
    ys = [y for line in ax.get_lines() for y in line.get_ydata() if math.isfinite(y) and y > 0]
    if ys and max(ys) / min(ys) > spread:
        ax.set_yscale("log")
        ax.set_ylabel("seconds (log scale)")


def _speedup(ax: Axes, xs: list[int], runs: Sequence[dict[str, Any]]) -> None:
    vs = _series(runs, "per_hit_speedup")
    if all(math.isnan(v) for v in vs):
        ax.text(0.5, 0.5, "no per-hit speedup measured\n(no hits, or no misses, in any run)", ha="center",
                va="center", transform=ax.transAxes, fontsize=9)
        return
    cis = [r["figures"]["per_hit_speedup"].get("ci") for r in runs]
    below = [0.0 if c is None or math.isnan(v) else v - c[0] for v, c in zip(vs, cis, strict=True)]
    above = [0.0 if c is None or math.isnan(v) else c[1] - v for v, c in zip(vs, cis, strict=True)]
    ax.errorbar(xs, vs, yerr=[below, above], marker="o", capsize=3,
                label="miss / hit E2E p50 (95% CI)")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}×"))


def _marks(fig: Figure, axes: Sequence[Axes], xs: list[int], runs: Sequence[dict[str, Any]]) -> bool:
    """Regressed runs shaded red, SLO failures as orange dashed lines, on every panel; one legend for
    them under the figure (the same marks on four panels need one key, not four). Whether any."""
    marks: dict[str, Any] = {}
    for ax in axes:
        for x, r in zip(xs, runs, strict=True):
            if r["check"].get("regression"):
                marks[REGRESSED] = ax.axvspan(x - 0.4, x + 0.4, color="#b00020", alpha=0.13)
            if r["slo"].get("passed") is False:
                marks["run failed its SLO"] = ax.axvline(x, color="#e67e22", linestyle="--", linewidth=1.2)
    if marks:
        fig.legend(list(marks.values()), list(marks), loc="lower center", ncol=len(marks), fontsize="small",
                   frameon=False)
    return bool(marks)


def trend_figure(group: dict[str, Any]) -> Figure:
    """The group's chart, open (``trend_png`` renders and closes it; tests inspect it)."""
    runs = group["runs"]
    xs = list(range(1, len(runs) + 1))
    fig, axes = plt.subplots(1, 4, figsize=(WIDTH_IN, 5.0), sharex=True)
    lat, ratios, speed, tput = axes
    _plot(lat, xs, runs, (("ttft_p50", "TTFT p50", "-"), ("ttft_p95", "TTFT p95", "--"),
                          ("e2e_p50", "E2E p50", "-"), ("e2e_p95", "E2E p95", "--")))
    lat.set(ylabel="seconds", title="Latency")
    _log_when_spread(lat)
    _plot(ratios, xs, runs, (("error_ratio", "error ratio", "-"), ("hit_ratio", "hit ratio", "--")),
          scale=100)
    ratios.set(ylabel="% of requests", title="Errors and cache hits", ylim=(-3, 103))
    _speedup(speed, xs, runs)
    speed.set(ylabel="× faster per hit", title="Per-hit speedup")
    _plot(tput, xs, runs, (("output_tokens_per_s", "output tokens/s", "-"),))
    tput.set(ylabel="tokens/s", title="Output throughput")
    marked = _marks(fig, axes, xs, runs)
    step = max(1, math.ceil(len(runs) / MAX_TICKS))
    shown = xs[::step] if xs[-1] in xs[::step] else [*xs[::step], xs[-1]]
    for ax in axes:
        ax.set_xticks(shown, [_tick(runs[x - 1]) for x in shown], fontsize=8)
        ax.set_xlim(0.5, len(runs) + 0.5)
        ax.set_xlabel("run start (UTC), oldest → newest")
        ax.grid(alpha=0.3)
        _legend(ax)
    fig.tight_layout(rect=(0, 0.05 if marked else 0, 1, 1))
    return fig


def trend_png(group: dict[str, Any]) -> bytes:
    import io

    fig = trend_figure(group)
    with closing(fig):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
