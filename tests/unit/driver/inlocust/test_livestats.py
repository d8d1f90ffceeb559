"""The web UI's LLM figures: per model, from every record, null with a reason when not computable."""

from __future__ import annotations

import numpy as np
import pytest

from suite.driver.inlocust.livestats import LiveStats, percentile
from suite.driver.inlocust.webtab import table_rows
from suite.records import RequestRecord


def rec(model: str = "m", *, ttft: float | None = 0.1, e2e: float = 0.5, t_start: float = 100.0,
        ok: bool = True, tokens: int | None = 10, cache: str | None = "miss") -> RequestRecord:
    return RequestRecord(id="x", model=model, target="t", worker="w", user=0, t_start=t_start,
                         ttft=ttft, e2e=e2e, completion_tokens=tokens, ok=ok, cache=cache,
                         error=None if ok else {"kind": "http_503", "message": "busy"})


def test_percentile_is_numpys_linear_interpolation() -> None:
    values = sorted([0.3, 0.1, 0.7, 0.2, 1.5, 0.05, 0.9])
    for q in (0.0, 0.5, 0.95, 1.0):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q * 100)))
    assert percentile([0.2], 0.95) == 0.2


def test_figures_per_model_from_every_record() -> None:
    live = LiveStats()
    for i, ttft in enumerate((0.1, 0.2, 0.3, 0.4)):
        live.started("a")
        live.observe(rec("a", ttft=ttft, t_start=100.0 + i, e2e=1.0, cache="hit" if i else "miss"))
    live.started("a")  # still in flight
    live.started("b")
    live.observe(rec("b", ok=False, ttft=None, tokens=None, cache=None))
    a, b = live.rows()
    assert (a["model"], a["requests"], a["ok"], a["failed"], a["in_flight"]) == ("a", 4, 4, 0, 1)
    assert a["ttft_p50_ms"] == pytest.approx(250.0)
    assert a["ttft_p95_ms"] == pytest.approx(float(np.percentile([100, 200, 300, 400], 95)))
    assert a["out_tok_s"] == pytest.approx(40 / 4.0)  # first send 100 -> last end 104
    assert a["hit_ratio"] == pytest.approx(3 / 4)
    assert a["why"] == {}
    # a model whose only request failed: counted, but no figure is invented for it
    assert (b["requests"], b["failed"], b["in_flight"]) == (1, 1, 0)
    assert b["ttft_p50_ms"] is b["out_tok_s"] is b["hit_ratio"] is None
    assert set(b["why"]) == {"ttft", "out_tok_s", "hit_ratio"}


def test_failures_are_never_misses_and_unstreamed_requests_have_no_ttft() -> None:
    live = LiveStats()
    live.observe(rec(ttft=None, cache=None))
    live.observe(rec(ok=False, cache="miss"))
    (row,) = live.rows()
    assert row["ttft_p50_ms"] is None and "not streamed" in row["why"]["ttft"]
    assert row["hit_ratio"] is None and "no cache signal" in row["why"]["hit_ratio"]


def test_a_master_merges_its_workers_reports() -> None:
    workers = [LiveStats(), LiveStats()]
    for i, worker in enumerate(workers):
        worker.started("m")
        worker.started("m")
        worker.observe(rec(ttft=0.1 * (i + 1), t_start=100.0 + i))
    master = LiveStats()
    for i, worker in enumerate(workers):
        master.merge(worker.drain(), source=f"w{i}")
    (row,) = master.rows()
    assert (row["requests"], row["in_flight"]) == (2, 2)
    assert row["ttft_p50_ms"] == pytest.approx(150.0)
    # a later report adds only what is new; its in-flight count replaces the worker's last one
    workers[0].observe(rec(ttft=0.3, t_start=102.0))
    master.merge(workers[0].drain(), source="w0")
    (row,) = master.rows()
    assert (row["requests"], row["in_flight"]) == (3, 1)
    assert row["ttft_p50_ms"] == pytest.approx(200.0)
    assert workers[1].drain() == {"models": {}, "in_flight": {"m": 1}}


def test_the_tab_shows_a_missing_figure_as_a_dash_with_its_reason() -> None:
    live = LiveStats()
    live.observe(rec(ttft=0.12345, cache=None))
    (cells,) = table_rows(live.rows())
    assert cells["ttft_p50_ms"] == 123.5
    assert cells["hit_ratio"] == "—"
    assert cells["notes"].startswith("hit_ratio: ")


def test_reset_forgets_finished_requests_not_those_in_flight() -> None:
    live = LiveStats()
    live.observe(rec())
    live.started("m")
    live.reset()
    (row,) = live.rows()
    assert (row["requests"], row["in_flight"], row["ttft_p50_ms"]) == (0, 1, None)
