"""The one place a chart becomes a PNG: matplotlib's headless backend, then ``save_figure``.

Every chart writer (a run's charts, the A/B comparison chart, the sweep curves) imports ``plt`` from
here, so the Agg backend (no display, no GUI toolkit) is chosen once, before pyplot first loads.

Rule: every figure is closed, whether it was written or drawing it failed. Figures left open leak
memory and make matplotlib warn, which the test suite turns into errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot loads)
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["closing", "plt", "save_figure"]


@contextlib.contextmanager
def closing(fig: Figure) -> Iterator[Figure]:
    """Close ``fig`` however the block ends (for drawing code that may raise before it is saved)."""
    try:
        yield fig
    finally:
        plt.close(fig)


def save_figure(fig: Figure, path: Path, dpi: int) -> Path:
    """Lay out, write ``path`` as PNG at ``dpi`` and close ``fig``; returns ``path``."""
    with closing(fig):
        fig.tight_layout()
        fig.savefig(path, dpi=dpi)
    return path
