"""``llmsuite check`` against the independent gateway (tests/integration/gateway/server.py, no suite
code): a first check saves the baseline and says there is none yet; the gateway unchanged → exit 0;
its backend made 2× slower (first-token latency and per-token pacing doubled) → exit 9 naming E2E
and TTFT with their CIs, and the regressed run is not promoted to baseline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from suite.errors import EXIT_REGRESSION
from tests.integration.gateway.cli import KEY_ENV, llmsuite, output, read_json, synth_corpus
from tests.integration.gateway.serve import GatewayThread
from tests.integration.gateway.server import GatewayConfig

# ttl 0: no cache hit, so every check measures the backend (a replayed corpus would otherwise be
# answered from the gateway's cache). --min-effect 0.3: runs of this test share the machine with
# other tests (-n 2), so run-to-run drift is larger than on a quiet host; a 2× slowdown is +100 %.
CHECK = ["check", "--preset", "smoke", "-u", "4", "-d", "30s", "--api-key-env", KEY_ENV,
         "--min-effect", "0.3"]


# the module fixture is a whole run: one worker takes every test of it (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("check")


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Three checks of one corpus against one gateway: baseline, unchanged, 2× slower."""
    tmp = tmp_path_factory.mktemp("check")
    corpus = synth_corpus(tmp / "corpus.jsonl", n=60, repeat_ratio=0.0)
    gw = GatewayThread(GatewayConfig("litellm", ttl_s=0.0, backend_latency_s=0.06, per_token_s=0.004)).start()
    store, out = tmp / "baselines", tmp / "reports"
    args = [*CHECK, "-c", str(corpus), "-t", gw.url, "--baselines", str(store), "--out", str(out)]
    try:
        runs = {"first": llmsuite(*args, "--run-id", "first", "--save-baseline")}
        runs["same"] = llmsuite(*args, "--run-id", "same")
        gw.gateway.config.backend_latency_s *= 2  # the backend, 2× slower
        gw.gateway.config.per_token_s *= 2
        runs["slow"] = llmsuite(*args, "--run-id", "slow", "--save-baseline")
        yield {"runs": runs, "out": out, "store": store, "gw": gw}
    finally:
        gw.stop()


def _record(checks: dict[str, Any], name: str) -> dict[str, Any]:
    return read_json(checks["out"] / name / "check.json")


def test_the_first_check_saves_the_baseline_and_says_there_was_none(checks: dict[str, Any]) -> None:
    proc = checks["runs"]["first"]
    assert proc.returncode == 0, output(proc)
    assert "no baseline yet" in proc.stdout
    record = _record(checks, "first")
    assert record["compared"] is False and record["baseline"] is None and record["exit_code"] == 0
    assert record["preset"] == "smoke" and record["regressed"] == []
    saved = checks["store"] / "smoke" / "first"
    assert record["saved_baseline"] == str(saved)
    assert (saved / "baseline.json").exists() and (saved / "requests.jsonl").exists()


def test_an_unchanged_server_passes_against_the_latest_baseline(checks: dict[str, Any]) -> None:
    proc = checks["runs"]["same"]
    assert proc.returncode == 0, output(proc)
    record = _record(checks, "same")
    assert record["compared"] is True and record["baseline"] == str(checks["store"] / "smoke" / "first")
    assert record["paired"]["paired"] is True and record["paired"]["matched"] == 60  # same corpus
    assert record["regressed"] == [] and record["exit_code"] == 0
    assert {r["metric"] for r in record["metrics"]} >= {"e2e.p50", "e2e.p95", "ttft.p50", "ttft.p95"}
    assert "no significant regression" in proc.stdout
    assert (checks["out"] / "same" / "baseline-compare" / "compare.json").exists()


def test_a_server_twice_as_slow_is_a_regression_named_with_its_ci(checks: dict[str, Any]) -> None:
    proc = checks["runs"]["slow"]
    assert proc.returncode == EXIT_REGRESSION, output(proc)
    record = _record(checks, "slow")
    assert record["exit_code"] == EXIT_REGRESSION
    regressed = {r["metric"]: r for r in record["regressed"]}
    assert {"e2e.p50", "ttft.p50"} <= set(regressed)
    for r in regressed.values():
        assert r["b"] > r["a"] and r["ci"][0] > 0 and r["relative"] >= 0.3  # worse, CI clear of 0
    # the gateway's own numbers: TTFT waits backend_latency_s, now 0.12 s instead of 0.06 s
    assert regressed["ttft.p50"]["a"] == pytest.approx(0.06, abs=0.03)
    assert regressed["ttft.p50"]["b"] == pytest.approx(0.12, abs=0.04)
    assert "E2E p50 regressed" in proc.stdout and "TTFT p50 regressed" in proc.stdout
    assert "95% CI" in proc.stdout and "REGRESSION" in proc.stdout
    # a regressed run is not promoted: the next check still compares with the first baseline
    assert record["saved_baseline"] is None and "not saved as a baseline" in proc.stdout
    assert sorted(p.name for p in (checks["store"] / "smoke").iterdir()) == ["first"]


def test_a_bad_baseline_folder_fails_before_any_load(tmp_path: Path) -> None:
    corpus = synth_corpus(tmp_path / "corpus.jsonl", n=5, repeat_ratio=0.0)
    proc = llmsuite(*CHECK, "-c", str(corpus), "-t", "http://127.0.0.1:9", "--baseline", str(tmp_path),
                    "--out", str(tmp_path / "reports"))
    assert proc.returncode == 2, output(proc)
    assert "not a run folder with a request log" in proc.stderr
    assert not (tmp_path / "reports").exists()
