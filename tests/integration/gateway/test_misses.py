"""Why repeats missed, end to end, with the gateway as the witness: it knows, for every miss,
whether the key was cached but older than its TTL (expired) or never stored yet (its first copy
still with the backend: in flight). ``analyze --cache-ttl`` must find the same split from the
records' own times."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.integration.gateway.cli import KEY_ENV, llmsuite, output, read_json, records, synth_corpus
from tests.integration.gateway.serve import GatewayThread

TTL_S = 0.25  # shorter than the run (~1-2 s), longer than a miss (~0.1 s): both classes occur


def test_repeat_misses_split_into_in_flight_and_expired_as_the_gateway_saw_them(
        gateway_factory: Callable[..., GatewayThread], tmp_path: Path) -> None:
    gw = gateway_factory("litellm", ttl_s=TTL_S)
    corpus = synth_corpus(tmp_path / "corpus.jsonl", n=60, repeat_ratio=0.5, seed=12)
    proc = llmsuite("run", "-c", str(corpus), "-t", gw.url, "--api-key-env", KEY_ENV, "-u", "4", "-r", "4",
                    "-d", "20", "--run-id", "r", "--out", str(tmp_path), "--no-analyze",
                    "--cache-detect", "present:x-litellm-cache-key")
    assert proc.returncode == 0, output(proc)
    run_dir = tmp_path / "r"
    ids = {r["id"] for r in records(run_dir)}
    served = [s for s in gw.stats.served if s.request_id in ids and s.status == 200]
    seen: set[str] = set()
    expired = in_flight = 0
    for s in served:  # served is in arrival order
        if s.hit is False and s.key in seen:
            expired += s.expired
            in_flight += not s.expired
        seen.add(s.key)
    assert expired > 0, "the trace has no expired repeat: lower TTL_S"
    proc = llmsuite("analyze", str(run_dir), "--cache-ttl", str(TTL_S), key=None)
    assert proc.returncode == 0, output(proc)
    explained = read_json(run_dir / "summary.json")["cache"]["repeat_misses"]
    assert explained["repeat_misses"] == expired + in_flight
    # client and gateway clocks differ by the network's milliseconds: a repeat sent within them of
    # the TTL's end may land on either side
    assert abs(explained["expired"]["count"] - expired) <= 2, (explained, expired, in_flight)
    assert abs(explained["in_flight"]["count"] - in_flight) <= 2, (explained, expired, in_flight)
    assert explained["after_finish"]["count"] + explained["expired"]["count"] \
        + explained["in_flight"]["count"] == expired + in_flight
