"""A semantic sweep's chart, answers and terminal table (rendered from sweep.json only).

The chart has two panels against the threshold: the correctness curve (precision of semantic hits
and the false-hit ratio with their 95 % Wilson intervals, recall, the ``--min-precision`` line and
the recommended threshold) and what it buys (the hit ratio with its interval, false hits as counts).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from rich.table import Table

from suite.analyze.outputs.fmt import MISSING, number, percent
from suite.analyze.outputs.savefig import closing, plt, save_figure

WIDTH_IN, DPI = 14, 100
MAIN = ("threshold", "hit_ratio", "exact_hits", "paraphrase_hits", "false_hits", "false_near_miss",
        "false_hit_ratio", "precision", "recall", "missed_paraphrase")


def _series(steps: list[dict[str, Any]], key: str) -> tuple[list[float], list[list[float]]]:
    values, below, above = [], [], []
    for s in steps:
        v, ci = s[key].get("value"), s[key].get("ci")
        values.append(math.nan if v is None else v)
        below.append(0.0 if v is None or not ci else max(0.0, v - ci[0]))
        above.append(0.0 if v is None or not ci else max(0.0, ci[1] - v))
    return values, [below, above]


def semantic_figure(result: dict[str, Any]) -> Figure:
    """The two panels, open (``plot_semantic`` saves and closes it)."""
    steps = result["steps"]
    xs = [s["threshold"] for s in steps]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(WIDTH_IN, 4.6), sharex=True)
    for key, label, style in (("precision", "precision of semantic hits (95% CI)", "o-"),
                              ("false_hit_ratio", "false hits / judged hits (95% CI)", "s--"),
                              ("recall", "recall of semantic hits (95% CI)", "^:")):
        values, err = _series(steps, key)
        if any(math.isfinite(v) for v in values):
            ax1.errorbar(xs, values, yerr=err, fmt=style, capsize=3, label=label)
    point = result["operating_point"]
    ax1.axhline(point["min_precision"], color="grey", linewidth=0.8,
                label=f"min precision {point['min_precision']:g}")
    for ax in (ax1, ax2):
        if point.get("threshold") is not None:
            ax.axvline(point["threshold"], color="green", linestyle=":",
                       label=f"recommended {point['threshold']:g}")
    ax1.set(xlabel="similarity threshold", ylabel="ratio", title="Correctness of hits", ylim=(-0.02, 1.02))
    hits, err = _series(steps, "hit_ratio")
    ax2.errorbar(xs, hits, yerr=err, fmt="o-", capsize=3, label="hit ratio (95% CI)")
    ax2.set(xlabel="similarity threshold", ylabel="hit ratio", title="What each threshold buys", ylim=(0, 1))
    twin = ax2.twinx()
    twin.bar(xs, [s.get("false_hits") or 0 for s in steps], width=0.006, color="#c0392b", alpha=0.6,
             label="false hits (count, right axis)")
    twin.set_ylabel("false hits")
    ax2.set_zorder(twin.get_zorder() + 1)  # the hit-ratio line over the bars, not under them
    ax2.patch.set_visible(False)
    for ax, more in ((ax1, ()), (ax2, (twin,))):
        handles, labels = ax.get_legend_handles_labels()
        for m in more:
            h, lab = m.get_legend_handles_labels()
            handles, labels = handles + h, labels + lab
        ax.legend(handles, labels, fontsize="small", loc="best")
    return fig


def plot_semantic(result: dict[str, Any], path: Path) -> Path:
    fig = semantic_figure(result)
    with closing(fig):
        return save_figure(fig, path, DPI)


def _pct(block: dict[str, Any]) -> str:
    v, ci = block.get("value"), block.get("ci")
    if v is None:
        return MISSING
    return percent(v) + ("" if not ci else f" ({ci[0] * 100:.1f}–{ci[1] * 100:.1f} %)")


def operating_sentence(result: dict[str, Any]) -> str:
    point = result["operating_point"]
    if point.get("threshold") is not None:
        text = (f"run at threshold {point['threshold']:g}: precision {percent(point['precision'])} "
                f"(95 % lower bound {percent(point['precision_lower'])} ≥ {point['min_precision']:g}) "
                f"buys a hit ratio of {percent(point['hit_ratio'])}")
    else:
        text = f"no recommended threshold: {point['why']}"
    by_point = point.get("by_point_estimate")
    if by_point and by_point["threshold"] != point.get("threshold"):
        text += (f"; by point estimate alone, {by_point['threshold']:g} (precision "
                 f"{percent(by_point['precision'])}, hit ratio {percent(by_point['hit_ratio'])}) — "
                 f"{by_point['note']}")
    return text


def semantic_answers(result: dict[str, Any]) -> list[str]:
    """The operating point first, then one sentence per threshold."""
    out = [operating_sentence(result)]
    for s in result["steps"]:
        judged = s.get("false_hits") is not None
        out.append(f"threshold {s['threshold']:g}: hit ratio {_pct(s['hit_ratio'])}"
                   + (f", {s['false_hits']} false hits ({s['false_near_miss']} on near misses), precision "
                      f"{_pct(s['precision'])}" if judged else
                      f"; hits not judged ({s['precision'].get('why') or 'no served key'})"))
    return out


def semantic_sweep_table(result: dict[str, Any]) -> Table:
    table = Table(title="semantic sweep", title_justify="left")
    for name in ("threshold", "hit ratio (CI)", "exact", "paraphrase", "false (near miss)", "precision (CI)",
                 "recall", "missed paraphrases", "tokens saved net"):
        table.add_column(name, justify="right")
    rec = result["operating_point"].get("threshold")
    for s in result["steps"]:
        mark = " ◀" if s["threshold"] == rec else ""
        false = MISSING if s.get("false_hits") is None else f"{s['false_hits']} ({s['false_near_miss']})"
        table.add_row(f"{s['threshold']:g}{mark}", _pct(s["hit_ratio"]), number(s.get("exact_hits"), 0),
                      number(s.get("paraphrase_hits"), 0), false, _pct(s["precision"]),
                      percent(s["recall"].get("value")), number(s.get("missed_paraphrase"), 0),
                      number(s.get("tokens_saved_net"), 0))
    return table
