"""``llmsuite analyze RUN --cache-detect RULE --cache-ttl S`` on a run recorded against the
independent gateway without any cache rule: the records kept the preset's cache header (the
allow-list), so the hits come back without re-running; and the gateway, which knows for every
miss whether its key was cached but older than the TTL (expired) or never stored yet (its first
copy still with the backend: in flight), checks the explanation of the repeat misses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.gateway.cli import KEY_ENV, llmsuite, output, read_json, records, synth_corpus, value
from tests.integration.gateway.serve import GatewayThread
from tests.integration.gateway.server import GatewayConfig

TTL_S = 0.25  # shorter than the run (~1-2 s), longer than a miss (~0.1 s): both classes occur


# the module fixture is a whole run: one worker takes every test of it (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("gateway-reanalyze")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A cloudflare-mode run recorded with ``--cache-detect none``, then analysed once with the
    preset's rule and the gateway's TTL; what the gateway served to it."""
    tmp = tmp_path_factory.mktemp("reanalyze")
    gw = GatewayThread(GatewayConfig("cloudflare", ttl_s=TTL_S)).start()
    try:
        corpus = synth_corpus(tmp / "corpus.jsonl", n=60, repeat_ratio=0.5, seed=12)
        run = llmsuite("run", "-c", str(corpus), "-t", gw.url, "--api-key-env", KEY_ENV, "-u", "4", "-r", "4",
                       "-d", "20", "--run-id", "r", "--out", str(tmp), "--no-analyze",
                       "--cache-detect", "none")
        assert run.returncode == 0, output(run)
        served_before = gw.stats.requests
        analyze = llmsuite("analyze", str(tmp / "r"), "--cache-detect", "header:cf-aig-cache-status=HIT",
                           "--cache-ttl", str(TTL_S), key=None)
        assert analyze.returncode == 0, output(analyze)
        assert gw.stats.requests == served_before  # nothing was sent again
        ids = {r["id"] for r in records(tmp / "r")}
        served = [s for s in gw.stats.served if s.request_id in ids and s.status == 200]
        yield {"dir": tmp / "r", "served": served, "summary": read_json(tmp / "r" / "summary.json")}
    finally:
        gw.stop()


def test_analyze_attributes_hits_the_run_did_not(recorded: dict[str, Any]) -> None:
    recs = records(recorded["dir"])
    assert all(r["cache"] is None for r in recs)  # recorded with --cache-detect none
    assert all((r.get("cache_headers") or {}).get("cf-aig-cache-status") in ("HIT", "MISS") for r in recs)
    served = recorded["served"]
    hits = sum(bool(s.hit) for s in served)
    assert len(served) == 60 and hits > 0
    assert value(recorded["summary"]["cache"]["hit_ratio"]) == pytest.approx(hits / len(served))


def test_repeat_misses_split_into_in_flight_and_expired_as_the_gateway_saw_them(
        recorded: dict[str, Any]) -> None:
    seen: set[str] = set()
    expired = in_flight = 0
    for s in recorded["served"]:  # in arrival order
        if s.hit is False and s.key in seen:
            expired += s.expired
            in_flight += not s.expired
        seen.add(s.key)
    assert expired > 0, "the trace has no expired repeat: lower TTL_S"
    explained = recorded["summary"]["cache"]["repeat_misses"]
    assert explained["repeat_misses"] == expired + in_flight
    # the suite dates a store at the client's last byte, a few ms after the gateway stored it: a
    # repeat sent within those ms of the TTL's end is after_finish for the suite, expired here
    assert abs(explained["expired"]["count"] - expired) <= 2, (explained, expired, in_flight)
    assert abs(explained["in_flight"]["count"] - in_flight) <= 2, (explained, expired, in_flight)
    assert explained["after_finish"]["count"] <= 2
