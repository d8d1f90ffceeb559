"""The run's live panel: redrawn on a terminal, plain lines with no control codes anywhere else."""

from __future__ import annotations

import io

from rich.console import Console

from suite.cli.livepanel import RunPanel, render
from suite.driver.control.progress import LiveSnapshot


def _snap(**kw: object) -> LiveSnapshot:
    base: dict = dict(recorded=100, ok=100, failed=0, hits=40, misses=60, ttft_p50_ms=200.0,
                      ttft_p95_ms=500.0, sent=None, elapsed_s=10.0, total=2000, duration_s=30.0,
                      sending=True)
    base.update(kw)
    return LiveSnapshot(**base)  # type: ignore[arg-type]


def test_render_shows_the_bar_against_the_duration_and_the_figures() -> None:
    out = io.StringIO()
    Console(file=out, width=160, color_system=None).print(render("run", _snap()))
    text = out.getvalue()
    assert text.splitlines()[0].startswith("run ") and text.splitlines()[0].rstrip().endswith("33%")
    assert "~0:20 left" in text and "~300 expected before the duration limit" in text
    assert "TTFT p50 200 ms · p95 500 ms" in text and "hit ratio 0.40 (40 of 100)" in text


def test_off_a_terminal_the_panel_writes_plain_lines_at_a_pace_and_at_the_end() -> None:
    out = io.StringIO()
    panel = RunPanel("run", Console(file=out, force_terminal=False, width=80), plain_every_s=3600)
    panel.live(_snap(elapsed_s=1.0))
    panel.live(_snap(elapsed_s=2.0))  # within the pace: not written
    panel.live(_snap(elapsed_s=12.0, recorded=300, ok=300, finished=True))
    panel.stop()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines  # one line each, however long: never wrapped
    assert lines[0].startswith("run: 0:01 elapsed") and lines[1].startswith("run: 0:12 elapsed · ended")
    assert "\x1b" not in out.getvalue()
