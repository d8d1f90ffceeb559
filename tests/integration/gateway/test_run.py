"""``llmsuite run`` against the independent gateway: the key from --api-key-env on every path
(chat, /health, /metrics), cache hits as the gateway itself counted them, failures kept out of the
hit ratio, a /v1 base URL, a wrong key. Re-analysis: test_reanalyze.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.gateway.cli import (
    KEY_ENV,
    llmsuite,
    marker_word,
    output,
    read_json,
    read_jsonl,
    records,
    synth_corpus,
    value,
)
from tests.integration.gateway.serve import GatewayThread
from tests.integration.gateway.server import GatewayConfig

RUN = ["-u", "3", "-r", "3", "-d", "20", "--api-key-env", KEY_ENV]


def ok_hits(gw: GatewayThread, ids: set[str]) -> tuple[int, int]:
    """(hits, successful answers) the gateway served to the run's own requests (not its probes)."""
    served = [s for s in gw.stats.by_id().values() if s.request_id in ids and s.status == 200]
    return sum(bool(s.hit) for s in served), len(served)


# the module fixture is a whole run: one worker takes every test of it (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("gateway-run")


@pytest.fixture(scope="module")
def present_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One run recorded with ``present:x-litellm-cache-key`` against a litellm-mode gateway that
    answers 400 to the requests carrying a marker word (a quarter of them at most)."""
    tmp = tmp_path_factory.mktemp("present")
    corpus = synth_corpus(tmp / "corpus.jsonl", n=60, repeat_ratio=0.5)
    gw = GatewayThread(GatewayConfig("litellm", fail_words=(marker_word(corpus),))).start()
    try:
        proc = llmsuite("run", "-c", str(corpus), "-t", gw.url, *RUN, "--run-id", "r", "--out", str(tmp),
                        "--cache-detect", "present:x-litellm-cache-key")
        yield {"proc": proc, "dir": tmp / "r", "gw": gw, "corpus": corpus}
    finally:
        gw.stop()


def test_present_rule_counts_successful_requests_only(present_run: dict[str, Any]) -> None:
    proc, run_dir, gw = present_run["proc"], present_run["dir"], present_run["gw"]
    assert proc.returncode == 0, output(proc)
    recs = records(run_dir)
    assert len(recs) == 60
    failed = [r for r in recs if not r["ok"]]
    assert failed and all(r["status"] == 400 for r in failed)
    assert all(r["cache"] is None for r in failed)  # absence of the header on a 400 says nothing
    assert gw.stats.failures == len(failed)
    by_id = gw.stats.by_id()
    for rec in (r for r in recs if r["ok"]):  # every successful record says what the gateway did
        assert rec["cache"] == ("hit" if by_id[rec["id"]].hit else "miss"), rec
    hits, ok = ok_hits(gw, {r["id"] for r in recs})
    assert 0 < hits < ok == 60 - len(failed)
    cache = read_json(run_dir / "summary.json")["cache"]
    assert value(cache["hit_ratio"]) == pytest.approx(hits / ok)
    assert (cache["hits"], cache["misses"], cache["failed"]) == (hits, ok - hits, len(failed))  # own column


def test_health_checks_and_the_monitor_carry_the_key(gateway_factory: Callable[..., GatewayThread],
                                                     tmp_path: Path) -> None:
    """/health answers 500 without the key: a run that forgot it there would abort a healthy run.
    No --cache-detect given: ``auto`` must find the portkey-mode header by itself."""
    gw = gateway_factory("portkey", backend_latency_s=0.35)  # a run of ~4 s: 3+ health checks
    corpus = synth_corpus(tmp_path / "corpus.jsonl", n=40, repeat_ratio=0.3, seed=3)
    proc = llmsuite("run", "-c", str(corpus), "-t", gw.url, *RUN, "--run-id", "r", "--out", str(tmp_path),
                    "--abort-health-failures", "2", "--health-interval", "1s", "--monitor-interval", "1s",
                    "--no-analyze")
    assert proc.returncode == 0, output(proc)
    run_dir = tmp_path / "r"
    recs = records(run_dir)
    assert len(recs) == 40 and all(r["ok"] for r in recs)
    meta = read_json(run_dir / "run.json")["extra"]
    assert meta.get("aborted") is None
    assert "bundled_mock" not in meta["target"]  # a gateway on loopback is not taken for the mock
    assert gw.stats.health_without_key == 0
    assert gw.stats.health_with_key >= 3  # the start check and at least two during the run
    assert gw.stats.metrics_without_key == 0
    scrapes = read_jsonl(run_dir / "target_metrics.jsonl")
    assert scrapes and all(s["ok"] for s in scrapes), scrapes[:3]
    assert "gateway_cache_misses_total" in scrapes[-1]["values"]
    by_id = gw.stats.by_id()
    assert [r["cache"] for r in recs] == ["hit" if by_id[r["id"]].hit else "miss" for r in recs]
    assert gw.stats.hits > 0


def test_a_v1_target_is_stripped_with_a_notice(gateway: GatewayThread, tmp_path: Path) -> None:
    corpus = synth_corpus(tmp_path / "corpus.jsonl", n=10, repeat_ratio=0.0, seed=4)
    proc = llmsuite("run", "-c", str(corpus), "-t", gateway.url + "/v1", *RUN, "--run-id", "r",
                    "--out", str(tmp_path), "--no-analyze")
    assert proc.returncode == 0, output(proc)
    assert f"{gateway.url}/v1" in proc.stdout + proc.stderr  # a notice names the URL given
    recs = records(tmp_path / "r")
    assert len(recs) == 10 and all(r["ok"] for r in recs)


def test_a_wrong_key_exits_4_pointing_at_api_key_env(gateway: GatewayThread, tmp_path: Path) -> None:
    corpus = synth_corpus(tmp_path / "corpus.jsonl", n=10, repeat_ratio=0.0, seed=4)
    proc = llmsuite("run", "-c", str(corpus), "-t", gateway.url, *RUN, "--out", str(tmp_path),
                    key="not-the-key")
    assert proc.returncode == 4, output(proc)
    assert "--api-key-env" in proc.stderr, proc.stderr
    assert "not-the-key" not in proc.stdout + proc.stderr  # the key is never shown
    assert "Traceback" not in proc.stderr
    assert gateway.stats.requests <= 2  # refused at the check, no load sent
