"""Loading: shards merged, warm-up excluded, bad lines named in whichever shard they are, ITL kept flat."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pytest

from suite import runtime
from suite.analyze import analyze_run
from suite.analyze.read import logread
from suite.analyze.read.gaps import Gaps
from suite.analyze.read.load import load_run
from suite.errors import AnalysisError
from suite.records import write_jsonl
from tests.unit.analyze.logs import rec


def shards(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "requests.w0.jsonl", [rec(i, worker="w0", e2e=float(i)) for i in range(1, 51)])
    write_jsonl(tmp_path / "requests.w1.jsonl", [rec(i, worker="w1", e2e=float(i)) for i in range(51, 101)])
    return tmp_path


def test_shards_are_merged(tmp_path: Path) -> None:
    summary = analyze_run(shards(tmp_path))
    e2e = summary["overall"]["e2e"]
    assert (e2e["n"], e2e["p50"], e2e["p95"]) == (100, 50.5, 95.05)
    assert summary["run"]["workers"] == 2
    assert [Path(f).name for f in summary["run"]["files"]] == ["requests.w0.jsonl", "requests.w1.jsonl"]


def test_given_files_replace_the_folder_shards(tmp_path: Path) -> None:
    shards(tmp_path)
    summary = analyze_run(tmp_path, files=[tmp_path / "requests.w1.jsonl"])
    assert summary["overall"]["e2e"]["n"] == 50
    assert summary["overall"]["e2e"]["p50"] == 75.5


def test_bad_line_in_a_shard_is_named(tmp_path: Path) -> None:
    shards(tmp_path)
    with (tmp_path / "requests.w1.jsonl").open("ab") as fh:
        fh.write(b'{"id": "r999", "model": \n')
    with pytest.raises(AnalysisError) as err:
        analyze_run(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'requests.w1.jsonl'}:51: not valid JSON (")
    assert str(err.value).endswith("Fix or remove the line.")


def test_warmup_records_are_excluded_and_counted(tmp_path: Path) -> None:
    records = [rec(i, e2e=100.0, warmup=True) for i in range(5)]
    records += [rec(i, e2e=float(i)) for i in range(5, 10)]
    write_jsonl(tmp_path / "requests.jsonl", records)
    summary = analyze_run(tmp_path)
    assert summary["run"]["warmup_excluded"] == 5
    assert summary["run"]["records"] == 10
    assert summary["totals"]["sent"] == 5
    assert summary["overall"]["e2e"]["max"] == 9.0


def test_only_warmup_records_is_an_error(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "requests.jsonl", [rec(1, e2e=1.0, warmup=True)])
    with pytest.raises(AnalysisError, match="all 1 records are warm-up records"):
        analyze_run(tmp_path)


def test_itl_summary_instead_of_list_takes_the_slow_path(tmp_path: Path) -> None:
    lines = [orjson.dumps({**rec(1, e2e=1.0, stream=True, ttft=0.1), "itl": {"p50": 0.1}}),
             orjson.dumps(rec(2, e2e=1.0, stream=True, ttft=0.1, itl=[0.2, 0.4]))]
    (tmp_path / "requests.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    run = load_run(tmp_path)
    assert run.gaps.counts.tolist() == [0, 2]
    assert run.gaps.values.tolist() == [0.2, 0.4]


def test_unknown_fields_are_ignored(tmp_path: Path) -> None:
    line = orjson.dumps({**rec(1, e2e=0.5), "extra": [1, {"a": 2}]})
    (tmp_path / "requests.jsonl").write_bytes(line + b"\n")
    assert analyze_run(tmp_path)["overall"]["e2e"]["p50"] == 0.5


def test_gaps_pool_and_per_request_mean() -> None:
    gaps = Gaps(np.array([0.1, 0.3, np.nan, 0.5, 0.7]), np.array([0, 2, 2, 3, 5]))
    means = gaps.per_request_mean()
    assert means[[0, 3]].tolist() == pytest.approx([0.2, 0.6])
    assert np.isnan(means[1])
    assert np.isnan(means[2])  # no gaps; only a NaN gap
    assert gaps.pooled(np.array([True, False, False, True])).tolist() == [0.1, 0.3, 0.5, 0.7]


def test_a_non_number_gap_is_named(tmp_path: Path) -> None:
    lines = [orjson.dumps(rec(1, e2e=1.0)), orjson.dumps({**rec(2, e2e=1.0), "itl": [0.1, "late"]})]
    (tmp_path / "requests.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(AnalysisError) as err:
        analyze_run(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'requests.jsonl'}:2: field 'itl' holds 'late'; inter-token gaps "
                              "must be numbers (seconds).")


def test_gaps_pool_without_a_copy_when_the_rows_left_out_hold_no_gaps() -> None:
    gaps = Gaps(np.array([0.1, 0.3, 0.5]), np.array([0, 2, 2, 3]))
    pooled = gaps.pooled(np.array([True, False, True]))  # row 1 has no gaps
    assert pooled is gaps.values
    assert gaps.pooled(np.array([False, False, True])).tolist() == [0.5]


def _table_in_chunks() -> pa.Table:
    """Rows 0-5 in three record batches (chunks), with null and empty ITL lists and a null in a list."""
    itl = [[0.1, 0.2], None, [], [0.3, None, 0.4], [0.5], [0.6, 0.7]]
    whole = pa.table({
        **{n: pa.array([float(i) if n != "scheduled" else None for i in range(6)], pa.float64())
           for n in logread.FLOAT_FIELDS},
        "model": ["a", "b", "a", "b", "a", "b"], "target": ["t"] * 6, "worker": ["w0", "w1"] * 3,
        "tokens_source": ["usage", None] * 3, "cache": ["HIT", "miss", None, "hit", "Miss", "hit"],
        "key": ["k0", "k1", None, "k0", "k1", "k2"],
        "id": [f"r{i}" for i in range(6)], "response_id": [None, "x"] * 3,
        "repeat": [True, None, False, True, None, False], "stream": [True] * 6,
        "warmup": [True, False, False, False, True, False], "ok": [True, True, None, False, True, True],
        "itl": pa.array(itl, pa.list_(pa.float64())),
        "error": pa.array([None, {"kind": "http_5xx", "message": "503"}] + [None] * 4, logread.ERROR_TYPE),
        "cache_headers": pa.array([{"x-cache": "HIT"}, None] * 3, logread.CACHE_HEADERS_TYPE),
    }, schema=logread.SCHEMA)
    return pa.Table.from_batches([*whole.slice(0, 2).to_batches(), *whole.slice(2, 3).to_batches(),
                                  *whole.slice(5).to_batches()])


def test_rows_kept_while_converting_equal_a_filtered_table() -> None:
    table = _table_in_chunks()
    assert table.column("itl").num_chunks == 3
    keep = ~np.array([True, False, False, False, True, False])
    filtered = table.filter(pa.array(keep))
    pd.testing.assert_frame_equal(logread.frame_of(table, keep), logread.frame_of(filtered))
    kept, direct = logread.gaps_of(table, keep), logread.gaps_of(filtered)
    assert np.array_equal(kept.values, direct.values, equal_nan=True)
    assert kept.counts.tolist() == direct.counts.tolist() == [0, 0, 3, 2]
    assert np.array_equal(kept.per_request_mean(), direct.per_request_mean(), equal_nan=True)
    for rows in ([True, True, True, True], [False, True, False, True], [True, False, True, False]):
        assert kept.pooled(np.array(rows)).tolist() == direct.pooled(np.array(rows)).tolist()
    everything = logread.gaps_of(table)
    assert everything.counts.tolist() == [2, 0, 0, 3, 1, 2]
    assert np.array_equal(everything.values, [0.1, 0.2, 0.3, np.nan, 0.4, 0.5, 0.6, 0.7], equal_nan=True)



def test_gaps_pooled_checked_chunk_by_chunk_drop_only_the_nan_gaps(monkeypatch) -> None:
    monkeypatch.setattr(runtime, "ARRAY_CHUNK", 4)  # many chunks, the last one short
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 5, 40)
    values = rng.random(int(counts.sum()))
    gaps = Gaps(values, np.concatenate([[0], np.cumsum(counts)]))
    assert gaps.pooled(np.ones(40, dtype=bool)) is values  # all finite: no copy
    values[[2, values.size - 1]] = np.nan
    rows = rng.random(40) < 0.5
    assert gaps.pooled(rows).tolist() == [v for v in values[np.repeat(rows, counts)] if np.isfinite(v)]
    assert gaps.pooled(np.ones(40, dtype=bool)).tolist() == [v for v in values if np.isfinite(v)]
