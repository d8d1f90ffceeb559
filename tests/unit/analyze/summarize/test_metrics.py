"""Known answers: TPOT/ITL in each tool's convention, mean/max, open-loop lag, timeline, tokens, cost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from suite.analyze import analyze_and_write, analyze_run
from suite.analyze.read.load import load_run
from suite.analyze.summarize import groups, timeline
from suite.analyze.summarize.accounting import source_counts
from suite.analyze.summarize.groups import add_derived, itl_dist, ok_rows, pooled_itl_blocks
from suite.analyze.summarize.summary import split_models, summarize
from suite.models import Price, PriceTable
from tests.unit.analyze.logs import analyze, rec, run_dir


def two_streams() -> list[dict]:
    # r1: ttft 0.1, e2e 1.0, 10 tokens, gaps 0.1 x 9
    # r2: ttft 0.2, e2e 2.2, 21 tokens, gaps 0.05 x 10 + 0.15 x 10
    return [rec(1, stream=True, ttft=0.1, e2e=1.0, completion_tokens=10, itl=[0.1] * 9),
            rec(2, stream=True, ttft=0.2, e2e=2.2, completion_tokens=21, itl=[0.05] * 10 + [0.15] * 10)]


def test_tpot_and_itl_in_each_convention(tmp_path: Path) -> None:
    block = analyze(tmp_path, two_streams())["overall"]
    # ours / vLLM: TPOT = (e2e - ttft) / (n - 1) = 0.1 for both requests
    assert block["tpot"]["mean"] == pytest.approx(0.1)
    assert block["compat"]["vllm"]["tpot"] == block["tpot"]
    # ITL pooled: 9 x 0.1, 10 x 0.05, 10 x 0.15 → 29 gaps, mean (0.9 + 0.5 + 1.5) / 29
    assert block["itl"]["n"] == 29
    assert block["itl"]["mean"] == pytest.approx(2.9 / 29)
    assert block["itl"]["p50"] == pytest.approx(0.1)
    assert block["itl"]["max"] == pytest.approx(0.15)
    # per-request mean ITL: 0.1 and 0.1
    assert block["itl_mean"]["n"] == 2
    assert block["itl_mean"]["p50"] == pytest.approx(0.1)
    # GuideLLM: TPOT = e2e / n → 0.1 and 2.2 / 21; ITL = our TPOT
    guidellm = block["compat"]["guidellm"]
    assert guidellm["tpot"]["mean"] == pytest.approx((0.1 + 2.2 / 21) / 2)
    assert guidellm["itl"] == block["tpot"]


def test_mean_p90_and_max(tmp_path: Path) -> None:
    e2e = analyze(tmp_path, [rec(i, e2e=float(i)) for i in range(1, 101)])["overall"]["e2e"]
    assert (e2e["mean"], e2e["max"]) == (50.5, 100.0)
    assert e2e["p90"] == pytest.approx(90.1)


def test_open_loop_latency_from_the_scheduled_time(tmp_path: Path) -> None:
    # sent 0, 0.5 and 1.0 s late; e2e 1 s each → from schedule 1, 1.5, 2 s
    records = [rec(i, e2e=1.0, scheduled=1000.0 + i - lag) for i, lag in ((1, 0.0), (2, 0.5), (3, 1.0))]
    summary = analyze(tmp_path, records)
    block = summary["overall"]
    assert summary["run"]["open_loop"] is True
    assert block["lateness"]["p50"] == pytest.approx(0.5)
    assert block["lateness"]["max"] == pytest.approx(1.0)
    assert block["e2e_from_scheduled"]["p50"] == pytest.approx(1.5)
    assert block["e2e"]["p50"] == 1.0
    _, files = analyze_and_write(tmp_path)
    assert "open_loop.png" in {p.name for p in files}


def test_closed_loop_has_no_lag(tmp_path: Path) -> None:
    summary = analyze(tmp_path, [rec(1, e2e=1.0)])
    assert summary["run"]["open_loop"] is False
    assert summary["overall"]["e2e_from_scheduled"]["why"] == "closed-loop run (no scheduled send times)"


def test_timeline_buckets(tmp_path: Path) -> None:
    # t_start 1001, 1002, 1003 (rec's t_start = 1000 + i); e2e 0.5 → completions in buckets 0, 1, 2
    records = [rec(1, e2e=0.5, completion_tokens=10), rec(2, e2e=0.5, completion_tokens=20),
               rec(3, e2e=0.5, ok=False, status=500)]
    one = analyze(tmp_path, records)["timeline"]["1s"]
    assert one["buckets"] == 3
    assert one["completed"] == [1, 1, 1]
    assert one["ok"] == [1, 1, 0]
    assert one["failed"] == [0, 0, 1]
    assert one["output_tokens"] == [10.0, 20.0, 0.0]
    assert one["sent"] == [1, 1, 1]


def test_token_discrepancy_where_both_counts_exist(tmp_path: Path) -> None:
    records = [rec(1, e2e=1, completion_tokens=100, completion_tokens_tiktoken=102, tokens_source="usage"),
               rec(2, e2e=1, completion_tokens=50, completion_tokens_tiktoken=50, tokens_source="usage"),
               rec(3, e2e=1, completion_tokens=70, tokens_source="usage")]
    d = analyze(tmp_path, records)["tokens"]["discrepancy"]
    assert (d["pairs"], d["exact_share"], d["usage_tokens"], d["tiktoken_tokens"]) == (2, 0.5, 150, 152)
    assert d["total_relative"]["value"] == pytest.approx(2 / 150)
    assert d["difference"]["max"] == 2.0


def test_token_discrepancy_missing_says_why(tmp_path: Path) -> None:
    records = [rec(1, e2e=1, completion_tokens=10, tokens_source="usage")]
    d = analyze(tmp_path, records)["tokens"]["discrepancy"]
    assert d["pairs"] == 0
    assert d["why"].startswith("no request carries both a usage count and a tiktoken")


def priced(tmp_path: Path, records: list[dict]) -> dict:
    table = PriceTable({"gpt-4o": Price(2.5, 10.0)}, "2025-08-15", "test", "prices.yaml")
    return summarize(load_run(run_dir(tmp_path, records)), prices=table)["tokens"]["cost"]


def test_cost_per_model_and_saved_by_hits(tmp_path: Path) -> None:
    records = [rec(1, e2e=1, prompt_tokens=1_000_000, completion_tokens=100_000, cache="miss"),
               rec(2, e2e=1, prompt_tokens=200_000, completion_tokens=100_000, cache="hit"),
               rec(3, model="mystery", e2e=1, prompt_tokens=10, completion_tokens=10)]
    cost = priced(tmp_path, records)
    gpt = cost["models"]["gpt-4o"]
    assert gpt["input"] == pytest.approx(1.2 * 2.5)
    assert gpt["output"] == pytest.approx(0.2 * 10)
    assert gpt["saved_by_cache_hits"]["value"] == pytest.approx(0.2 * 2.5 + 0.1 * 10)
    assert cost["models"]["mystery"]["value"] is None
    assert "not in the price table" in cost["models"]["mystery"]["why"]
    assert cost["total"]["value"] == pytest.approx(5.0)
    assert cost["as_of"] == "2025-08-15"


def test_price_table_matches_dated_snapshots_only() -> None:
    table = PriceTable({"o3": Price(2, 8), "gpt-4o": Price(2.5, 10)}, "d", "s", "p")
    assert table.lookup("gpt-4o-2024-08-06") == ("gpt-4o", Price(2.5, 10))
    assert table.lookup("o3-mini") is None
    assert table.lookup("o3") == ("o3", Price(2, 8))


def test_bundled_price_table_is_dated(tmp_path: Path) -> None:
    cost = analyze_run(run_dir(tmp_path, [rec(1, e2e=1, prompt_tokens=10, completion_tokens=5)]))
    table = cost["tokens"]["cost"]
    assert table["as_of"]
    assert table["source"].startswith("https://")
    assert table["models"]["gpt-4o"]["priced_as"] == "gpt-4o"


@pytest.mark.parametrize(("text", "message"), [
    ("models: {gpt-4o: {input_per_1m: 2.5, output_per_1m: 10}}\n",
     "'as_of' is missing; a price table must say when and where its prices were read."),
    ("as_of: x\nsource: y\nmodels: {gpt-4o: {input_per_1m: -1, output_per_1m: 10}}\n",
     "models.gpt-4o.input_per_1m: -1 is not a price (a number >= 0, USD per 1M tokens)."),
    ("as_of: x\nsource: y\nmodels: [1]\n",
     "expected a mapping with 'models: {name: {input_per_1m, output_per_1m}}'."),
])
def test_bad_price_tables_are_named(tmp_path: Path, text: str, message: str) -> None:
    from suite.errors import ModelError
    from suite.models import load_price_table

    path = tmp_path / "prices.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelError) as err:
        load_price_table(path)
    assert str(err.value) == f"{path}: {message}"


def test_cost_headline(tmp_path: Path) -> None:
    records = [rec(1, e2e=1, prompt_tokens=1_000_000, completion_tokens=100_000, cache="hit")]
    summary = summarize(load_run(run_dir(tmp_path, records)),
                        prices=PriceTable({"gpt-4o": Price(2.5, 10.0)}, "2025-08-15", "test", "p.yaml"))
    assert "the run's tokens cost $3.5000 at 2025-08-15 list prices; cache hits saved $3.5000" in \
        summary["headlines"]


@pytest.mark.parametrize("width", [1.0, 10.0, 0.1, 3.0])
def test_bucket_index_is_floor_division(width: float) -> None:
    rng = np.random.default_rng(int(width * 10))
    start = 1.7e9
    t = start + np.concatenate([rng.random(20_000) * 5000,
                                # times on and just below bucket edges, where x / width may round up
                                np.arange(500) * width, np.nextafter(np.arange(1, 501) * width, 0)])
    n = 10_000
    expected = np.clip(((t - start) // width).astype(np.int64), 0, n - 1)
    assert np.array_equal(timeline.bucket_index(t, start, width, n), expected)


@pytest.mark.parametrize("large", [False, True])
def test_itl_of_the_run_read_from_the_sorted_model_parts(tmp_path: Path, monkeypatch, large: bool) -> None:
    if large:  # every model's pool "large": the run is described from the models' passes (rowpool)
        monkeypatch.setattr(groups, "MIN_SIZE", 1)
    rng = np.random.default_rng(7)
    records = [rec(i, model=("gpt-4o", "gpt-5-mini")[i % 2], stream=True, e2e=1.0, ttft=0.1,
                   itl=np.round(rng.exponential(0.01, int(rng.integers(0, 30))), 4).tolist() or None,
                   ok=i % 7 != 0, status=200 if i % 7 else 500)
               for i in range(1, 400)]
    run = load_run(run_dir(tmp_path, records))
    frame = add_derived(run.requests, run.gaps)
    parts = split_models(frame)
    merged, per_model = pooled_itl_blocks(run.gaps, ok_rows(frame, len(frame)),
                                          {m: ok_rows(g, len(frame)) for m, g in parts.items()})
    monkeypatch.undo()  # each pool described on its own, gathered
    alone = itl_dist(frame, run.gaps, len(frame))
    assert {k: v for k, v in merged.items() if k != "mean"} == {k: v for k, v in alone.items() if k != "mean"}
    assert merged["mean"] == pytest.approx(alone["mean"], rel=1e-12)  # summed in another order
    assert per_model == {m: itl_dist(g, run.gaps, len(frame)) for m, g in parts.items()}
    assert merged["n"] == sum(b["n"] for b in per_model.values()) > 0


def test_token_sources_counted_on_codes_as_on_strings() -> None:
    values = ["usage", None, "tiktoken", "usage", "estimate", None, "usage"]
    rows = np.array([True, True, True, False, True, True, True])
    on_codes = source_counts(pd.Series(pd.Categorical(values, categories=["usage", "unused", "tiktoken",
                                                                          "estimate"])), rows)
    on_strings = source_counts(pd.Series(values, dtype=object), rows)
    assert on_codes == on_strings == {"(not recorded)": 2, "estimate": 1, "tiktoken": 1, "usage": 2}
    assert list(on_codes) == sorted(on_codes)


@pytest.mark.parametrize("models", [["b", None, "a", "b", "a", None], ["b", "a", "b", "c"]])
def test_model_rows_are_pandas_s_groups_and_split_models_slices(models: list) -> None:
    from suite.analyze.summarize.summary import model_rows

    for col in (pd.Categorical(models), pd.Series(models, dtype=object)):
        frame = pd.DataFrame({"model": col, "e2e": np.arange(len(models), dtype=float)})
        rows = model_rows(frame)
        parts = {str(m): g for m, g in frame.groupby(frame["model"], observed=True)}  # pandas's grouping
        assert list(rows) == list(parts)
        assert all(rows[m].tolist() == parts[m].index.tolist() for m in parts)
        assert {m: g.index.tolist() for m, g in split_models(frame).items()} == \
            {m: r.tolist() for m, r in rows.items()}


def test_shared_tasks_run_on_both_threads_each_once_and_a_ready_task_goes_first() -> None:
    import importlib
    import threading
    from concurrent.futures import ThreadPoolExecutor

    shared = importlib.import_module("suite.analyze.summarize.summary").shared
    gate = threading.Event()
    ran: list[tuple[str, str]] = []

    def task(name: str) -> Callable[[], str]:
        def run() -> str:
            ran.append((name, threading.current_thread().name))
            if name == "a":
                gate.wait(5)  # the other thread takes the rest meanwhile
            return name.upper()
        return run

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="helper") as pool:
        done = shared([("a", task("a"), None), ("late", task("late"), gate.is_set),
                       ("b", task("b"), None), ("c", lambda: (gate.set(), task("c")())[1], None)], pool)
    assert done == {"a": "A", "late": "LATE", "b": "B", "c": "C"}
    assert sorted(n for n, _ in ran) == ["a", "b", "c", "late"]  # each once
    assert len({t for _, t in ran}) == 2  # both threads worked
    order = [n for n, _ in ran]
    # "late" was not ready until "c" had run: the tasks after it went first
    assert order.index("b") < order.index("late") and order.index("c") < order.index("late")


def test_a_shared_task_error_is_raised_after_the_other_tasks_finish() -> None:
    import importlib
    from concurrent.futures import ThreadPoolExecutor

    shared = importlib.import_module("suite.analyze.summarize.summary").shared
    finished: list[str] = []

    def boom() -> None:
        raise ValueError("bad section")

    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(ValueError, match="bad section"):
        shared([("x", boom, None), ("y", lambda: finished.append("y"), None),
                ("z", lambda: finished.append("z"), None)], pool)
    assert sorted(finished) == ["y", "z"]


@pytest.mark.parametrize("itl_first", [True, False])
def test_the_summary_is_the_same_whichever_thread_takes_which_section(tmp_path: Path, monkeypatch,
                                                                     itl_first: bool) -> None:
    """Once the slices exist both threads take sections as they come free; the second core joins
    early when it has pooled the gaps before the slices are made, late otherwise: forced here both
    ways, by delaying one side."""
    import importlib
    import time

    module = importlib.import_module("suite.analyze.summarize.summary")  # also a function's name
    records = [rec(i, model=("gpt-4o", "gpt-5-mini")[i % 2], stream=True, e2e=1.0 + i / 100, ttft=0.1,
                   itl=[0.01 * (1 + i % 5)] * 6, cache=("hit", "miss")[i % 3 == 0], repeat=i % 3 != 0)
               for i in range(1, 120)]
    plain = summarize(load_run(run_dir(tmp_path, records)))
    if itl_first:  # the gaps are pooled long before the slices are made
        real_give_back = module.give_back
        monkeypatch.setattr(module, "give_back", lambda: (time.sleep(0.5), real_give_back())[1])
    else:  # the slices are made long before the gaps are pooled
        real_itl = module.pooled_itl_blocks
        monkeypatch.setattr(module, "pooled_itl_blocks", lambda *a: (time.sleep(0.5), real_itl(*a))[1])
    assert summarize(load_run(tmp_path)) == plain
