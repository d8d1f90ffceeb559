"""The terminal's short view of a history: per group, its last runs (newest first) with the
headline figures, SLO verdict and regression mark; the page holds the rest."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table

from suite.analyze.outputs.fmt import MISSING, number
from suite.history.text import group_title, value

SHOWN = ("ttft_p95", "e2e_p95", "error_ratio", "hit_ratio", "output_tokens_per_s")
LAST = 5


def group_table(group: dict[str, Any], last: int = LAST) -> Table:
    runs = group["runs"]
    more = len(runs) - last
    caption = "newest first; regressed — : not checked by llmsuite check" + \
        (f"; {more} older run{'s' if more > 1 else ''} on the page" if more > 0 else "")
    t = Table(title=f"{group_title(group)} — {group['runs_n']} run{'s' if group['runs_n'] != 1 else ''}",
              title_justify="left", caption=caption, caption_justify="left", box=box.SIMPLE_HEAD,
              collapse_padding=True, show_edge=False)
    t.add_column("run", overflow="fold")  # the one column that may wrap: figures stay whole
    for name in ("TTFT p95", "E2E p95", "errors", "hit", "tok/s"):
        t.add_column(name, justify="right", no_wrap=True)
    t.add_column("SLO", no_wrap=True)
    t.add_column("regressed", no_wrap=True)
    for r in reversed(runs[-last:]):
        reg, passed = r["check"].get("regression"), r["slo"].get("passed")
        figs = [value(k, r["figures"][k]["value"]) for k in SHOWN[:-1]]
        tokens = r["figures"]["output_tokens_per_s"]["value"]
        t.add_row(r["run_id"], *figs, number(tokens, 0),
                  MISSING if passed is None else "pass" if passed else "[bold red]FAIL[/]",
                  MISSING if reg is None else "[bold red]YES[/]" if reg else "no")
    return t
