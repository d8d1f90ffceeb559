"""The sweep charts' honesty, read from matplotlib's objects (no pixels): every series has a legend
entry, the per-hit speedup log axis has readable ticks, the figure is 1,400 px wide."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from suite.analyze.outputs.savefig import plt
from suite.sweep.files import DPI, _log_ticks, cache_figure, load_figure
from suite.sweep.rows import knee, latency_cells
from tests.unit.compare.fakes import samples
from tests.unit.sweep.steps import rows_for, verdict


def _cache_result(hits: list[int]) -> dict[str, Any]:
    rows, baseline = rows_for(hits)
    return {"kind": "cache", "target": "t", "seeds": "s", "baseline": baseline,
            "steps": [{**r, "slo": None} for r in rows]}


def _load_result() -> dict[str, Any]:
    steps = [{"users": u, **latency_cells(samples(f"u{u}", np.full(10, u / 10))), "slo": verdict(u < 10)}
             for u in (1, 5, 10)]
    return {"kind": "load", "level_key": "users", "target": "t", "seeds": "s",
            "knee": knee(steps, "users"), "steps": steps}


@pytest.fixture
def figures() -> Iterator[list[Figure]]:
    made: list[Figure] = []
    yield made
    for fig in made:
        plt.close(fig)


def _series_labels(ax: Axes) -> list[str]:
    """Labels of the lines and errorbars drawn on ``ax`` (an errorbar's data line and caps are counted
    once, through its container)."""
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    in_bars = {id(c.lines[0]) for c in bars} | {id(cap) for c in bars for cap in c.lines[1]}
    labels = [c.get_label() for c in ax.containers if isinstance(c, ErrorbarContainer)]
    labels += [ln.get_label() for ln in ax.get_lines() if id(ln) not in in_bars]
    return labels


def _legend_texts(fig: Figure) -> list[set[str]]:
    """The entries of each legend in ``fig``."""
    return [{t.get_text() for t in ax.get_legend().get_texts()} for ax in fig.axes if ax.get_legend()]


def _assert_every_series_in_a_legend(fig: Figure) -> None:
    legends = _legend_texts(fig)
    for ax in fig.axes:
        labels = _series_labels(ax)
        assert labels, f"axes {ax.get_title()!r} draws nothing"
        for label in labels:
            assert not label.startswith("_"), f"unlabelled series on {ax.get_title()!r}"
            assert any(label in entries for entries in legends), f"{label!r} has no legend entry"
    for ax in fig.axes:
        if len(_series_labels(ax)) > 1 and ax.get_title():
            assert ax.get_legend() is not None, f"{ax.get_title()!r} has several series and no legend"


def test_cache_chart_every_series_has_a_legend_entry(figures: list[Figure]) -> None:
    fig = cache_figure(_cache_result([25, 50, 75]))
    figures.append(fig)
    _assert_every_series_in_a_legend(fig)
    assert all(ax.get_legend() is not None for ax in fig.axes)


def test_load_chart_twin_axis_line_has_a_legend_entry(figures: list[Figure]) -> None:
    fig = load_figure(_load_result())
    figures.append(fig)
    _assert_every_series_in_a_legend(fig)
    throughput = next(ax for ax in fig.axes if ax.get_title() == "Throughput vs load")
    entries = {t.get_text() for t in throughput.get_legend().get_texts()}
    assert {"requests/s (left axis)", "output tokens/s (right axis)", "SLO knee (users 10)"} <= entries


def test_speedup_log_axis_has_three_readable_ticks(figures: list[Figure]) -> None:
    fig = cache_figure(_cache_result([25, 50, 75]))
    figures.append(fig)
    fig.canvas.draw()
    ax = next(a for a in fig.axes if a.get_title() == "Per-hit speedup")
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    shown = [t.get_text() for t, v in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)
             if lo <= v <= hi and t.get_text()]
    assert len(shown) >= 3, shown
    assert all(s.endswith("×") for s in shown), shown


def test_figures_are_1400_px_wide(figures: list[Figure]) -> None:
    figures += [cache_figure(_cache_result([25, 75])), load_figure(_load_result())]
    assert [round(f.get_figwidth() * DPI) for f in figures] == [1400, 1400]


def test_no_speedup_measured_is_said_not_drawn_as_a_log_axis(figures: list[Figure]) -> None:
    fig = cache_figure(_cache_result([0, 0]))
    figures.append(fig)
    ax = next(a for a in fig.axes if a.get_title() == "Per-hit speedup")
    assert ax.get_yscale() == "linear"
    assert any("no per-hit speedup measured" in t.get_text() for t in ax.texts)


@pytest.mark.parametrize(("lo", "hi", "ticks"), [
    (30, 80, [20, 50, 100]),     # within one decade: the default locator labelled 2 ticks
    (45, 45, [10, 20, 50]),      # a single value still gets three labelled ticks
    (12, 95, [10, 20, 50, 100]),
    (0.8, 5000, [1, 10, 100, 1000]),  # many decades: decades only
])
def test_log_ticks(lo: float, hi: float, ticks: list[float]) -> None:
    got, (bottom, top) = _log_ticks(lo, hi)
    assert got == pytest.approx(ticks)
    assert bottom <= lo and top >= hi
