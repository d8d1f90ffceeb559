"""Summaries of hand-made request logs whose answers are known in advance."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
import pytest

from suite.analyze import analyze_run
from suite.errors import AnalysisError
from suite.records import RunMeta
from tests.unit.analyze.logs import analyze, cache_log, rec, run_dir


def test_e2e_percentiles_from_every_request(tmp_path: Path) -> None:
    summary = analyze(tmp_path, [rec(i, e2e=float(i)) for i in range(1, 101)])
    e2e = summary["models"]["gpt-4o"]["e2e"]
    assert (e2e["n"], e2e["p50"], e2e["p95"]) == (100, 50.5, 95.05)
    assert e2e["p99"] == pytest.approx(99.01)
    assert e2e["unit"] == "s"
    assert summary["schema"] == "llmsuite.summary/2"


def test_ttft_only_from_successful_streaming_requests(tmp_path: Path) -> None:
    records = [rec(1, stream=True, ttft=0.2, e2e=1.0), rec(2, stream=True, ttft=0.4, e2e=1.0),
               rec(3, stream=False, ttft=9.0, e2e=1.0), rec(4, stream=True, ttft=9.0, ok=False, status=500)]
    ttft = analyze(tmp_path, records)["models"]["gpt-4o"]["ttft"]
    assert (ttft["n"], ttft["p50"]) == (2, pytest.approx(0.3))


def test_tpot_per_request(tmp_path: Path) -> None:
    records = [rec(1, stream=True, ttft=0.1, e2e=1.0, completion_tokens=10),
               rec(2, stream=True, ttft=0.2, e2e=2.2, completion_tokens=21),
               rec(3, stream=True, ttft=0.1, e2e=0.3, completion_tokens=1)]
    tpot = analyze(tmp_path, records)["models"]["gpt-4o"]["tpot"]
    assert tpot["n"] == 2
    assert tpot["p50"] == pytest.approx(0.1)


def test_itl_pools_every_gap(tmp_path: Path) -> None:
    records = [rec(1, stream=True, ttft=0.1, e2e=1, itl=[0.1, 0.2]),
               rec(2, stream=True, ttft=0.1, e2e=1, itl=[0.3])]
    itl = analyze(tmp_path, records)["overall"]["itl"]
    assert (itl["n"], itl["p50"]) == (3, pytest.approx(0.2))


def test_throughput_over_the_measured_window(tmp_path: Path) -> None:
    # window 1001 .. 1005 (t_start 1003 + e2e 2) = 4 s; the failed request's tokens do not count
    records = [rec(1, e2e=1.0, completion_tokens=10), rec(2, e2e=1.0, completion_tokens=20),
               rec(3, e2e=2.0, completion_tokens=30),
               rec(4, e2e=0.5, completion_tokens=50, ok=False, status=500)]
    block = analyze(tmp_path, records)["overall"]
    assert block["output_tokens"] == 60
    assert block["output_tokens_per_s"] == {"value": 15.0, "unit": "tokens/s"}
    assert block["requests_per_s"]["value"] == 1.0
    assert block["ok_requests_per_s"]["value"] == 0.75


def test_ok_requests_without_token_counts_are_named(tmp_path: Path) -> None:
    block = analyze(tmp_path, [rec(1, e2e=1.0, completion_tokens=10), rec(2, e2e=1.0)])["overall"]
    assert block["output_tokens"] == 10
    assert block["ok_without_token_count"] == 1
    assert block["note"] == ("1 successful requests reported no completion_tokens and are not counted "
                             "in output_tokens")


def test_cache_hit_ratio_speedup_and_bound(tmp_path: Path) -> None:
    cache = analyze(tmp_path, cache_log())["cache"]
    assert (cache["hits"], cache["misses"], cache["requests_with_signal"]) == (4, 6, 10)
    assert cache["hit_ratio"] == {"value": 0.4}
    assert cache["corpus_repeat_ratio"]["value"] == pytest.approx(5 / 12)
    assert cache["speedup"]["e2e_p50"]["value"] == pytest.approx(30.0)
    assert cache["speedup"]["ttft_p95"]["value"] == pytest.approx(40.0)
    assert cache["gain_bound"]["value"] == pytest.approx(1 / 0.6)
    assert cache["confusion"] == {"repeat_hit": 4, "repeat_miss": 1, "fresh_hit": 0, "fresh_miss": 5}
    assert cache["signal_coverage"] == pytest.approx(10 / 12)


def test_cache_headline_sentence(tmp_path: Path) -> None:
    headlines = analyze(tmp_path, cache_log())["headlines"]
    assert headlines[1] == ("cache hits answered 30.0× faster than misses (median E2E 10.0 ms vs 300 ms, "
                            "95 % CI 30.0×–30.0×); "
                            "observed hit ratio 40.0 % vs 41.7 % repeats in the corpus; at this hit ratio "
                            "the end-to-end gain is at most 1.7×")


def test_model_headline_sentence(tmp_path: Path) -> None:
    records = [rec(i, model="gpt-4o", stream=True, ttft=0.56, e2e=2.0) for i in range(3)]
    records += [rec(i, model="gpt-5-mini", stream=True, ttft=0.31, e2e=1.0) for i in range(3, 6)]
    assert analyze(tmp_path, records)["headlines"][0] == (
        "on all successful requests (no cache signal or repeat flag sets hits apart), gpt-5-mini's p50 "
        "TTFT is 310 ms and gpt-4o's 560 ms: too few requests to call a difference (fewer than 5 "
        "requests on one side: too few for an interval)")


def test_missing_metrics_say_why(tmp_path: Path) -> None:
    summary = analyze(tmp_path, [rec(1, e2e=0.3, stream=False), rec(2, e2e=0.4, stream=False)])
    model, cache = summary["models"]["gpt-4o"], summary["cache"]
    assert model["ttft"] == {"n": 0, "mean": None, "p50": None, "p90": None, "p95": None, "p99": None,
                             "max": None, "unit": "s",
                             "why": "no streaming requests (TTFT is measured on streaming replies only)"}
    assert cache["hit_ratio"] == {"value": None, "why": "no successful request carried a cache signal "
                                                        "(the target reported neither hit nor miss)"}
    assert cache["speedup"]["e2e_p50"] == {"value": None, "why": "no successful cache hits in this run",
                                           "unit": "x"}
    assert cache["gain_bound"]["value"] is None
    paths = {m["path"] for m in summary["missing"]}
    assert {"models.gpt-4o.ttft", "cache.hit_ratio", "cache.speedup.e2e_p50", "run.meta"} <= paths
    assert summary["headlines"][1].startswith(
        "cache gains cannot be measured in this run: no successful request")


def test_no_hits_but_misses(tmp_path: Path) -> None:
    cache = analyze(tmp_path, [rec(i, cache="miss", e2e=0.3) for i in range(3)])["cache"]
    assert cache["hit_ratio"] == {"value": 0.0}
    assert cache["speedup"]["e2e_p50"]["why"] == "no successful cache hits in this run"
    assert cache["gain_bound"] == {"value": 1.0, "unit": "x"}


def test_failures_are_counted_and_grouped(tmp_path: Path) -> None:
    records = [rec(1, e2e=0.1),
               rec(2, ok=False, status=None, error={"kind": "timeout", "message": "read timeout"}),
               rec(3, ok=False, status=503, error={"kind": "http_5xx", "message": "overloaded"}),
               rec(4, ok=False, status=None, error={"kind": "timeout", "message": "read timeout 2"}),
               rec(5, ok=False, status=200)]
    totals = analyze(tmp_path, records)["totals"]
    assert (totals["sent"], totals["ok"], totals["failed"], totals["error_ratio"]) == (5, 1, 4, 0.8)
    assert [(e["kind"], e["count"], e["statuses"], e["example"]) for e in totals["errors"]] == [
        ("timeout", 2, [], "read timeout"), ("(no error recorded)", 1, [200], None),
        ("http_5xx", 1, [503], "overloaded")]
    assert totals["status_counts"] == {"200": 2, "503": 1, "none": 2}
    by_kind = analyze(tmp_path, records)["models"]["gpt-4o"]["errors_by_kind"]
    assert by_kind == {"(no error recorded)": 1, "http_5xx": 1, "timeout": 2}
    headline = analyze(tmp_path, records)["headlines"][-1]
    assert headline == "4 of 5 requests failed (80.0 %), most often timeout (2)"


def test_run_meta_is_read(tmp_path: Path) -> None:
    meta = RunMeta(run_id="demo-1", target="http://127.0.0.1:9", corpus="c.jsonl", corpus_sha256="ab",
                   users=4, duration_s=30.0, started=1000.0, versions={"suite": "0.1.0"})
    summary = analyze_run(run_dir(tmp_path, [rec(1, e2e=0.1)], meta))
    assert summary["run"]["meta"]["run_id"] == "demo-1"
    assert summary["run"]["meta"]["users"] == 4
    assert summary["run"]["records"] == 1
    assert summary["run"]["targets"] == ["http://127.0.0.1:9"]


def test_open_loop_lateness(tmp_path: Path) -> None:
    records = [rec(i, e2e=0.1, scheduled=1000.0 + i - 0.01 * i) for i in range(1, 4)]
    lateness = analyze(tmp_path, records)["overall"]["lateness"]
    assert lateness["n"] == 3
    assert lateness["p50"] == pytest.approx(0.02)


def test_summary_has_definitions_and_no_nan(tmp_path: Path) -> None:
    summary = analyze(tmp_path, cache_log())
    assert {"ttft", "tpot", "itl", "speedup", "gain_bound", "percentiles"} <= set(summary["definitions"])

    def floats(node: Any) -> list[float]:
        if isinstance(node, dict):
            return [f for v in node.values() for f in floats(v)]
        if isinstance(node, list):
            return [f for v in node for f in floats(v)]
        return [node] if isinstance(node, float) else []

    assert not any(math.isnan(f) or math.isinf(f) for f in floats(summary))


def test_empty_log_is_an_analysis_error(tmp_path: Path) -> None:
    (tmp_path / "requests.jsonl").write_bytes(b"\n")
    with pytest.raises(AnalysisError) as err:
        analyze_run(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'requests.jsonl'}: the request log is empty (no request was "
                              "recorded). Check that the run sent traffic (target reachable, corpus not "
                              "empty) and run it again.")


def test_missing_log_is_an_analysis_error(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError) as err:
        analyze_run(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'requests.jsonl'}: no request log here. Run a load test first "
                              "(llmsuite run ...) or point at a run directory that contains requests.jsonl.")


def test_missing_run_dir_is_an_analysis_error(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError) as err:
        analyze_run(tmp_path / "nope")
    assert str(err.value) == (f"{tmp_path / 'nope'}: not a run directory. Pass the folder a run wrote, "
                              "e.g. reports/<run>/, which holds requests.jsonl.")


def test_bad_line_is_named(tmp_path: Path) -> None:
    good = orjson.dumps(rec(1, e2e=0.1))
    (tmp_path / "requests.jsonl").write_bytes(good + b"\n" + good + b"\n{\"id\": \"r3\", \n")
    with pytest.raises(AnalysisError, match=r"requests\.jsonl:3: not valid JSON \("):
        analyze_run(tmp_path)


def test_record_without_required_field(tmp_path: Path) -> None:
    (tmp_path / "requests.jsonl").write_bytes(orjson.dumps({"id": "r1", "model": "m"}) + b"\n")
    with pytest.raises(AnalysisError) as err:
        analyze_run(tmp_path)
    assert str(err.value).endswith("record 1 (id 'r1') lacks t_start; every record needs id, model and "
                                   "t_start. Was it written by llmsuite's driver?")


def test_cache_signal_case_is_normalized(tmp_path: Path) -> None:
    cache = analyze(tmp_path, [rec(1, cache="HIT", e2e=0.01), rec(2, cache="Miss", e2e=0.3)])["cache"]
    assert (cache["hits"], cache["misses"]) == (1, 1)


def test_bad_field_type_is_named(tmp_path: Path) -> None:
    (tmp_path / "requests.jsonl").write_bytes(orjson.dumps({**rec(1), "e2e": "fast"}) + b"\n")
    with pytest.raises(AnalysisError) as err:
        analyze_run(tmp_path)
    expected = f"{tmp_path / 'requests.jsonl'}:1: field 'e2e' holds 'fast'; it must be a number or null."
    assert str(err.value) == expected
