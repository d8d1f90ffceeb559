"""``--target-file`` with a preset against a gateway that reads the key only from its own header
(portkey mode, ``bearer=False``): the file's URL (an SDK-style ``/v1`` one), preset, key variable
and extra header reach every request and health check, ``auto`` finds the preset's signal, and no
file of the run holds the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.integration.gateway.cli import KEY_ENV, llmsuite, output, records, synth_corpus
from tests.integration.gateway.serve import GatewayThread
from tests.integration.gateway.server import KEY_HEADERS


def test_a_target_file_with_a_preset_reaches_a_strict_gateway(
        gateway_factory: Callable[..., GatewayThread], tmp_path: Path) -> None:
    gw = gateway_factory("portkey", bearer=False)
    target = tmp_path / "target.yaml"
    target.write_text(f"url: {gw.url}/v1\npreset: portkey\napi_key_env: {KEY_ENV}\n"
                      "headers:\n  X-Team: search\n")
    corpus = synth_corpus(tmp_path / "corpus.jsonl", n=24, repeat_ratio=0.5, seed=6)
    proc = llmsuite("run", "-c", str(corpus), "--target-file", str(target), "-u", "2", "-r", "2", "-d", "20",
                    "--run-id", "r", "--out", str(tmp_path), "--no-analyze")
    assert proc.returncode == 0, output(proc)
    recs = records(tmp_path / "r")
    assert len(recs) == 24 and all(r["ok"] for r in recs)
    assert gw.stats.unauthorized == 0 and gw.stats.health_without_key == 0
    assert gw.stats.health_with_key >= 1  # the preset's health path, with the key
    served = [s for s in gw.stats.served if s.request_id in {r["id"] for r in recs}]
    assert all({"x-team", KEY_HEADERS["portkey"]} <= s.header_names for s in served)
    by_id = gw.stats.by_id()
    assert [r["cache"] for r in recs] == ["hit" if by_id[r["id"]].hit else "miss" for r in recs]
    for path in (tmp_path / "r").iterdir():  # the key is sent, never written
        if path.is_file():
            assert "gw-test-key" not in path.read_text(errors="replace"), path.name
