"""Cache section: speedups with bootstrap CIs, theoretical vs achieved hit ratio, first-seen vs repeat
for a target without a cache signal, cold vs steady state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from suite.analyze import analyze_run
from suite.records import RunMeta
from tests.unit.analyze.logs import analyze, rec, run_dir


def spread_log(signal: bool = True) -> list[dict]:
    """20 hits around 10 ms and 30 misses around 300 ms (known spreads), E2E and TTFT."""
    rng = np.random.default_rng(3)
    hits = rng.uniform(0.008, 0.012, 20)
    misses = rng.uniform(0.25, 0.35, 30)
    out = [rec(i, cache="hit" if signal else None, repeat=True, stream=True, ttft=float(v) / 2, e2e=float(v))
           for i, v in enumerate(hits)]
    out += [rec(20 + i, cache="miss" if signal else None, repeat=False, stream=True, ttft=float(v) / 2,
                e2e=float(v)) for i, v in enumerate(misses)]
    return out


def test_speedup_with_a_bootstrap_ci(tmp_path: Path) -> None:
    cache = analyze(tmp_path, spread_log())["cache"]
    node = cache["speedup"]["e2e_p50"]
    hit, miss = cache["hit"]["e2e"]["p50"], cache["miss"]["e2e"]["p50"]
    assert node["value"] == pytest.approx(miss / hit)
    lo, hi = node["ci"]
    assert lo < node["value"] < hi
    assert lo > 20
    assert hi < 45  # true ratio 30 lies well inside
    again = analyze_run(tmp_path)["cache"]["speedup"]["e2e_p50"]
    assert again == node  # seeded: the same interval every time
    assert cache["models"]["gpt-4o"]["speedup"]["ttft_p95"]["ci"][0] > 1
    assert cache["bootstrap"]["conf"] == 0.95
    corpus_view = cache["by_repeat"]["speedup"]["e2e_p50"]  # a signalling target: point estimate only
    assert corpus_view["value"] == pytest.approx(node["value"])
    assert "ci" not in corpus_view
    assert corpus_view["ci_why"].startswith("bootstrap CIs of first-seen vs repeat are computed only")


def test_target_without_signal_uses_the_corpus_repeat_flag(tmp_path: Path) -> None:
    summary = analyze(tmp_path, spread_log(signal=False))
    cache = summary["cache"]
    assert summary["headlines"][1].startswith(
        "the target reports no cache signal; repeated requests answered 32.0× faster than first-seen "
        "ones (median E2E 9.82 ms vs 314 ms, 95 % CI ")
    assert cache["hit_ratio"]["value"] is None
    by_repeat = cache["by_repeat"]
    assert (by_repeat["repeat_requests"], by_repeat["first_seen_requests"]) == (20, 30)
    assert by_repeat["speedup"]["e2e_p50"]["value"] == pytest.approx(
        by_repeat["first_seen"]["e2e"]["p50"] / by_repeat["repeat"]["e2e"]["p50"])
    assert by_repeat["speedup"]["e2e_p50"]["ci"][0] > 10


def test_theoretical_hit_ratio_from_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "corpus.manifest.json").write_bytes(orjson.dumps(
        {"n": 100, "theoretical_hit_ratio": 0.45, "repeat_ratio": {"requested": 0.5, "achieved": 0.45}}))
    meta = RunMeta(run_id="r", target="http://127.0.0.1:9", corpus=str(tmp_path / "corpus.jsonl"),
                   corpus_sha256="x", users=1, duration_s=1, started=1000.0)
    records = [rec(i, cache="hit" if i < 3 else "miss", repeat=i < 4, e2e=0.1) for i in range(10)]
    cache = analyze_run(run_dir(tmp_path, records, meta))["cache"]
    assert cache["theoretical"]["hit_ratio"] == {"value": 0.45}
    assert cache["theoretical"]["repeat_ratio"] == {"value": 0.45}
    assert cache["hit_ratio"] == {"value": 0.3}
    assert cache["corpus_repeat_ratio"] == {"value": 0.4}
    assert cache["gain_bound"]["value"] == pytest.approx(1 / 0.7)


def test_no_manifest_says_why(tmp_path: Path) -> None:
    theo = analyze(tmp_path, [rec(1, e2e=0.1)])["cache"]["theoretical"]
    assert theo == {"why": "no run.json naming the corpus, so no corpus manifest"}


def test_cold_window_against_steady_state(tmp_path: Path) -> None:
    # 20 requests at t = 1001..1020 (window 1001..1021, cold < 1003): the first 2 miss, the rest hit
    records = [rec(i, cache="miss" if i <= 2 else "hit", e2e=1.0 if i <= 2 else 0.01) for i in range(1, 21)]
    phases = analyze(tmp_path, records)["cache"]["phases"]
    assert phases["cold"]["requests"] == 2
    assert phases["cold"]["hit_ratio"] == {"value": 0.0}
    assert phases["steady"]["requests"] == 18
    assert phases["steady"]["hit_ratio"] == {"value": 1.0}
    assert phases["cold"]["e2e"]["p50"] == 1.0
    assert phases["steady"]["e2e"]["p50"] == 0.01
