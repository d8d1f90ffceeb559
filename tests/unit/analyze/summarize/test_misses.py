"""Cache attribution you can audit: failures are neither hits nor misses, repeat misses are explained
from the records' key and timing (a constructed trace with known answers), cached_tokens not reported
is not 0, and the model headline compares like with like."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest

from suite.analyze import analyze_run
from suite.analyze.read.load import load_run
from suite.analyze.summarize import misses
from suite.analyze.summarize.summary import summarize
from suite.records import RunMeta
from tests.unit.analyze.logs import analyze, rec, run_dir

T0 = 1000.0
FAIL = {"ok": False, "status": 400, "error": {"kind": "http_4xx", "message": "bad request"}}


def trace() -> list[dict[str, Any]]:
    """Known answers (times from T0, e2e 1 s unless said):

    k1: r0 miss @0 (first seen) · r1 miss @0.5 (r0 in flight) · r2 hit @2 · r3 miss @10 (after finish;
        the last store ended @1.5, so expired under a 5 s TTL) · r4 miss @11 (r3 stored @11: not expired)
    k2: r5 FAILED @0 · r6 miss @1 (every earlier copy failed)
    k3 (gpt-5-mini): r7 miss @0 lasting 5 s · r8 FAILED @1 · r9 miss @2 (r7 still in flight)
    k4: r10 hit @0 (a key never sent before: the cache was warm)
    k5: r11 FAILED @0 that a presence rule called a miss
    """
    def r(i: int, key: str, t: float, cache: str | None, **kw: Any) -> dict[str, Any]:
        return rec(i, key=key, t_start=T0 + t, cache=cache, e2e=kw.pop("e2e", 1.0), **kw)

    return [r(0, "k1", 0, "miss"), r(1, "k1", 0.5, "miss"), r(2, "k1", 2, "hit"), r(3, "k1", 10, "miss"),
            r(4, "k1", 11, "miss"), r(5, "k2", 0, None, e2e=0.1, **FAIL), r(6, "k2", 1, "miss"),
            r(7, "k3", 0, "miss", e2e=5.0, model="gpt-5-mini"),
            r(8, "k3", 1, None, e2e=0.1, model="gpt-5-mini", **FAIL),
            r(9, "k3", 2, "miss", model="gpt-5-mini"), r(10, "k4", 0, "hit"),
            r(11, "k5", 0, "miss", e2e=0.1, **FAIL)]


def test_failures_are_neither_hits_nor_misses(tmp_path: Path) -> None:
    ok = [rec(i, cache="hit" if i < 8 else "miss", e2e=0.1) for i in range(27)]
    failed = [rec(27 + i, cache="miss", e2e=0.01, **FAIL) for i in range(13)]  # present:NAME said miss
    cache = analyze(tmp_path, ok + failed)["cache"]
    assert (cache["hits"], cache["misses"], cache["failed"], cache["failed_with_signal"]) == (8, 19, 13, 13)
    assert cache["hit_ratio"]["value"] == pytest.approx(8 / 27)  # not 8 / 40
    assert cache["models"]["gpt-4o"]["failed"] == 13
    assert cache["signal_coverage"] == 1.0
    phases = cache["phases"]
    assert phases["cold"]["failed"] + phases["steady"]["failed"] == 13


def test_repeat_misses_explained_on_a_known_trace(tmp_path: Path) -> None:
    summary = analyze(tmp_path, trace())
    cache = summary["cache"]
    assert (cache["hits"], cache["misses"], cache["failed"], cache["failed_with_signal"]) == (2, 7, 3, 1)
    rm = cache["repeat_misses"]
    assert (rm["misses"], rm["first_seen_misses"], rm["repeat_misses"], rm["without_key"]) == (7, 2, 5, 0)
    assert rm["in_flight"] == {"count": 2, "share": 0.4}
    assert rm["first_copy_failed"] == {"count": 1, "share": 0.2}
    assert rm["after_finish"] == {"count": 2, "share": 0.4}  # no TTL: expired stays inside
    assert rm["expired"]["count"] is None and "TTL is unknown" in rm["expired"]["why"]
    assert rm["coalescing_would_add"]["value"] == pytest.approx(2 / 9 * 100)
    gap = rm["gap"]
    assert gap["requests"] == 9
    assert gap["theoretical_in_run"]["value"] == pytest.approx(6 / 9)
    assert gap["observed"]["value"] == pytest.approx(2 / 9)
    assert gap["points"]["value"] == pytest.approx(4 / 9 * 100)  # 5 repeat misses − 1 warm hit
    assert gap["in_flight_points"]["value"] == pytest.approx(2 / 9 * 100)
    assert gap["first_seen_hits"] == 1
    assert gap["expired_points"]["value"] is None  # unknown TTL: not 0
    mini = cache["models"]["gpt-5-mini"]["repeat_misses"]
    assert (mini["first_seen_misses"], mini["repeat_misses"], mini["in_flight"]["count"]) == (1, 1, 1)
    assert cache["confusion"]["why"].startswith("needs both the corpus repeat flag")
    assert "; 5 repeats missed (2 sent while their first copy was in flight, 1 after only failed copies, " \
        "2 after a copy had finished); 66.7 % could have hit in this run's order, 22.2 % did; coalescing " \
        "identical in-flight requests would add 22.2 points" in summary["headlines"][1]
    assert "(3 failed requests counted apart)" in summary["headlines"][1]


def test_expired_split_out_when_the_ttl_is_known(tmp_path: Path) -> None:
    run = load_run(run_dir(tmp_path, trace()))
    rm = summarize(run, cache_ttl_s=5.0)["cache"]["repeat_misses"]
    assert rm["ttl_s"] == {"value": 5.0, "unit": "s", "source": "analyze option cache_ttl_s"}
    assert (rm["after_finish"]["count"], rm["expired"]["count"]) == (1, 1)
    assert rm["gap"]["expired_points"]["value"] == pytest.approx(1 / 9 * 100)
    long = summarize(run, cache_ttl_s=60.0)["cache"]["repeat_misses"]
    assert (long["after_finish"]["count"], long["expired"]["count"]) == (2, 0)


def test_ttl_from_run_json(tmp_path: Path) -> None:
    meta = RunMeta(run_id="r", target="http://127.0.0.1:9", corpus="", corpus_sha256="x", users=1,
                   duration_s=1, started=T0, extra={"cache_ttl_s": 5})
    rm = analyze_run(run_dir(tmp_path, trace(), meta))["cache"]["repeat_misses"]
    assert rm["ttl_s"]["source"] == "run.json extra.cache_ttl_s"
    assert rm["expired"]["count"] == 1


def test_logs_without_keys_say_why(tmp_path: Path) -> None:
    records = [{k: v for k, v in r.items() if k != "key"} for r in trace()]
    rm = analyze(tmp_path, records)["cache"]["repeat_misses"]
    assert rm == {"why": "no record carries the corpus request's key (logs written before the driver "
                         "recorded it), so repeat misses cannot be explained"}


def test_cached_tokens_not_reported_is_not_zero(tmp_path: Path) -> None:
    tokens = analyze(tmp_path, [rec(i, e2e=0.1) for i in range(3)])["tokens"]
    assert tokens["cached_tokens"] == {
        "value": None, "why": "the target reported no usage.prompt_tokens_details.cached_tokens"}
    reported = analyze(tmp_path, [rec(0, e2e=0.1, cached_tokens=0), rec(1, e2e=0.1, cached_tokens=7),
                                  rec(2, e2e=0.1)])["tokens"]
    assert reported["cached_tokens"] == {"value": 7, "unit": "tokens", "reported_by": 2}


def _two_models(a_hits: int, b_hits: int, b_slower: float = 1.0) -> list[dict[str, Any]]:
    """40 streamed requests per model; misses from one backend distribution (B's scaled), hits 5 ms."""
    rng = np.random.default_rng(11)
    out = []
    for m, (model, hits, scale) in enumerate((("gpt-4o", a_hits, 1.0), ("gpt-5-mini", b_hits, b_slower))):
        for i in range(40):
            hit = i < hits
            ttft = 0.005 if hit else float(rng.uniform(0.4, 0.6)) * scale
            out.append(rec(m * 100 + i, model=model, stream=True, cache="hit" if hit else "miss",
                           ttft=ttft, e2e=ttft + 0.5))
    return out


def test_model_headline_compares_misses_not_hit_ratios(tmp_path: Path) -> None:
    summary = analyze(tmp_path, _two_models(a_hits=24, b_hits=8))  # 60 % vs 20 % hits, same backend
    comparison = summary["cache"]["model_comparison"]
    assert comparison["population"] == "miss"
    assert (comparison["fast_n"] + comparison["slow_n"]) == 16 + 32
    assert comparison["ratio"]["significant"] is False
    lo, hi = comparison["ratio"]["ci"]
    assert lo < 1 < hi
    assert summary["headlines"][0].startswith("on cache misses, no significant difference between ")
    assert "sooner" not in summary["headlines"][0]


def test_model_headline_with_a_real_difference(tmp_path: Path) -> None:
    summary = analyze(tmp_path, _two_models(a_hits=8, b_hits=8, b_slower=2.0))
    comparison = summary["cache"]["model_comparison"]
    assert (comparison["fast"], comparison["slow"], comparison["metric"]) == ("gpt-4o", "gpt-5-mini", "ttft")
    assert comparison["ratio"]["significant"] is True
    assert comparison["ratio"]["ci"][0] > 1.5
    assert summary["headlines"][0].startswith("on cache misses, gpt-4o reaches the first token 1.8")
    assert "sooner than gpt-5-mini (p50 TTFT " in summary["headlines"][0]
    assert "95 % CI " in summary["headlines"][0]


def test_model_headline_without_a_signal_uses_first_seen(tmp_path: Path) -> None:
    records = [{**r, "cache": None, "repeat": r["cache"] == "hit"} for r in _two_models(20, 20, 2.0)]
    comparison = analyze(tmp_path, records)["cache"]["model_comparison"]
    assert comparison["population"] == "first_seen"
    assert (comparison["fast_n"], comparison["slow_n"]) == (20, 20)


def test_analyze_cache_ttl_option(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from suite.cli import cli

    folder = run_dir(tmp_path, trace())
    result = CliRunner().invoke(cli, ["analyze", str(folder), "--cache-ttl", "5"])
    assert result.exit_code == 0, result.output
    rm = orjson.loads((folder / "summary.json").read_bytes())["cache"]["repeat_misses"]
    assert (rm["ttl_s"]["value"], rm["expired"]["count"]) == (5.0, 1)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "repeat misses: first copy still in flight" in html
    assert "coalescing in-flight duplicates would add" in html
    header = (folder / "requests.csv").read_text(encoding="utf-8").splitlines()[0].replace('"', "").split(",")
    assert {"cached_tokens", "key"} <= set(header)


def _by_definition(frame: pd.DataFrame, ttl: float | None) -> np.ndarray:
    """Each successful miss classified by reading the definitions literally, row by row (slow)."""
    key, t, e2e = frame["key"].astype(object).to_numpy(), frame["t_start"].to_numpy(), frame["e2e"].to_numpy()
    ok, cache = frame["ok"].to_numpy(), frame["cache"].astype(object).to_numpy()
    sent = {row: place for place, row in enumerate(sorted(range(len(frame)), key=lambda i: (t[i], i)))}
    out = np.full(len(frame), -1)
    for i in range(len(frame)):
        if pd.isna(key[i]) or not (ok[i] and cache[i] == "miss"):
            continue
        earlier = [j for j in range(len(frame)) if key[j] == key[i] and sent[j] < sent[i]]
        done = [j for j in earlier if ok[j] and np.isfinite(e2e[j]) and t[j] + e2e[j] <= t[i]]
        stores = [t[j] + e2e[j] for j in done if cache[j] != "hit"]
        if not earlier:
            out[i] = misses.FIRST_SEEN
        elif done:
            late = ttl is not None and bool(stores) and t[i] - max(stores) > ttl
            out[i] = misses.EXPIRED if late else misses.AFTER_FINISH
        else:
            out[i] = misses.IN_FLIGHT if any(ok[j] for j in earlier) else misses.FIRST_COPY_FAILED
    return out


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_classes_match_the_definitions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 150
    keys = rng.integers(0, 15, n).astype(object)
    keys[rng.random(n) < 0.05] = None
    frame = pd.DataFrame({  # whole seconds: many ties in send and finish times
        "key": pd.Categorical(keys), "t_start": np.round(rng.uniform(0, 40, n)),
        "e2e": np.where(rng.random(n) < 0.05, np.nan, np.round(rng.uniform(0, 6, n))),
        "ok": rng.random(n) > 0.2, "cache": pd.Categorical(rng.choice(["hit", "miss", None], n))})
    for ttl in (None, 2.0, 5.0):
        got = misses.classify(frame, ttl)
        assert got is not None
        assert got[0].tolist() == _by_definition(frame, ttl).tolist()
