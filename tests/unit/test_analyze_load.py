"""Loading: shards merged, warm-up excluded, bad lines named in whichever shard they are, ITL kept flat."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from suite.analyze import analyze_run
from suite.analyze.load import load_run
from suite.analyze.logread import Gaps
from suite.errors import AnalysisError
from suite.records import write_jsonl

from .test_analyze_summary import rec


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
    assert summary["overall"]["e2e"]["n"] == 50 and summary["overall"]["e2e"]["p50"] == 75.5


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
    assert summary["run"]["warmup_excluded"] == 5 and summary["run"]["records"] == 10
    assert summary["totals"]["sent"] == 5 and summary["overall"]["e2e"]["max"] == 9.0


def test_only_warmup_records_is_an_error(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "requests.jsonl", [rec(1, e2e=1.0, warmup=True)])
    with pytest.raises(AnalysisError, match="all 1 records are warm-up records"):
        analyze_run(tmp_path)


def test_itl_summary_instead_of_list_takes_the_slow_path(tmp_path: Path) -> None:
    lines = [orjson.dumps({**rec(1, e2e=1.0, stream=True, ttft=0.1), "itl": {"p50": 0.1}}),
             orjson.dumps(rec(2, e2e=1.0, stream=True, ttft=0.1, itl=[0.2, 0.4]))]
    (tmp_path / "requests.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    run = load_run(tmp_path)
    assert run.gaps.counts.tolist() == [0, 2] and run.gaps.values.tolist() == [0.2, 0.4]


def test_unknown_fields_are_ignored(tmp_path: Path) -> None:
    line = orjson.dumps({**rec(1, e2e=0.5), "extra": [1, {"a": 2}]})
    (tmp_path / "requests.jsonl").write_bytes(line + b"\n")
    assert analyze_run(tmp_path)["overall"]["e2e"]["p50"] == 0.5


def test_gaps_pool_and_per_request_mean() -> None:
    gaps = Gaps(np.array([0.1, 0.3, np.nan, 0.5, 0.7]), np.array([0, 2, 2, 3, 5]))
    means = gaps.per_request_mean()
    assert means[[0, 3]].tolist() == pytest.approx([0.2, 0.6])
    assert np.isnan(means[1]) and np.isnan(means[2])  # no gaps; only a NaN gap
    assert gaps.pooled(np.array([True, False, False, True])).tolist() == [0.1, 0.3, 0.5, 0.7]


def test_a_non_number_gap_is_named(tmp_path: Path) -> None:
    lines = [orjson.dumps(rec(1, e2e=1.0)), orjson.dumps({**rec(2, e2e=1.0), "itl": [0.1, "late"]})]
    (tmp_path / "requests.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(AnalysisError) as err:
        analyze_run(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'requests.jsonl'}:2: field 'itl' holds 'late'; inter-token gaps "
                              "must be numbers (seconds).")
