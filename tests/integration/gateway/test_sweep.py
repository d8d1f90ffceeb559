"""``llmsuite sweep cache`` against the independent gateway: reached with the key and the preset's
header rule, hit ratios next to the corpus's theoretical ratio, the in-flight share reported, and
fresh traffic per invocation (a re-run is not all hits; ``--salt`` reproduces the prompts)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.gateway.cli import (
    KEY_ENV,
    find_keys,
    llmsuite,
    output,
    read_json,
    records,
    salt_of,
    value,
)
from tests.integration.gateway.serve import GatewayThread
from tests.integration.gateway.server import GatewayConfig


def sweep(gw: GatewayThread, out: Path, *extra: str, ratios: str = "0,0.5") -> tuple[Any, dict[str, Any]]:
    proc = llmsuite("sweep", "cache", "-t", gw.url, "--target-preset", "litellm", "--api-key-env", KEY_ENV,
                    "--ratios", ratios, "--n", "60", "-u", "4", "-d", "20",
                    "--models", "gpt-4o", "--max-tokens", "8", "--n-boot", "200", "-o", str(out), *extra,
                    timeout=180)
    assert proc.returncode == 0, output(proc)
    return proc, read_json(out / "sweep.json")


def gateway_hits(gw: GatewayThread, run_dir: Path) -> tuple[int, int]:
    """(hits, successful answers) the gateway served to one step's requests: its ids, sent inside
    the step's window (steps reuse ids)."""
    recs = records(run_dir)
    ids = {r["id"] for r in recs}
    start = min(r["t_start"] for r in recs) - 0.05
    end = max(r["t_start"] + (r["e2e"] or 0) for r in recs) + 0.05
    served = [s for s in gw.stats.served
              if s.request_id in ids and start <= s.t_start <= end and s.status == 200]
    return sum(bool(s.hit) for s in served), len(served)


# the module fixture is a whole run: one worker takes every test of it (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("gateway-sweep")


@pytest.fixture(scope="module")
def gw() -> Iterator[GatewayThread]:
    server = GatewayThread(GatewayConfig("litellm", ttl_s=600)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def first(gw: GatewayThread, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("sweep") / "first"
    calls_before = gw.stats.backend_calls
    proc, result = sweep(gw, out)
    calls = gw.stats.backend_calls - calls_before
    return {"out": out, "proc": proc, "result": result, "backend_calls": calls}


def test_sweep_reaches_the_gateway_with_the_key_and_the_header_rule(gw: GatewayThread,
                                                                     first: dict[str, Any]) -> None:
    result, out = first["result"], first["out"]
    assert gw.stats.unauthorized == 0
    fresh, repeated = result["steps"]
    assert fresh["theoretical_hit_ratio"] == 0.0
    assert repeated["theoretical_hit_ratio"] == pytest.approx(0.5)
    assert value(fresh["hit_ratio"]) == 0.0  # a salted, fresh corpus: nothing in the cache yet
    observed = value(repeated["hit_ratio"])
    assert observed is not None and 0 < observed <= repeated["theoretical_hit_ratio"]
    for step, name in zip(result["steps"], ("ratio-0", "ratio-0.5"), strict=True):  # the gateway agrees
        hits, ok = gateway_hits(gw, out / name)
        assert ok == 60
        assert value(step["hit_ratio"]) == pytest.approx(hits / ok)
    assert first["backend_calls"] >= 60 + 30  # every miss reached the backend (no coalescing)
    assert result["fresh_probe"]["cache"] == "miss"  # probed before the first step: fresh is a miss


def test_sweep_reports_the_in_flight_share(first: dict[str, Any]) -> None:
    """The gateway stores on completion and never coalesces, so every repeat that missed was sent
    while its first copy was in flight: the step's explanation must say all of them, and the
    sweep's row must carry the figure."""
    recs = [r for r in records(first["out"] / "ratio-0.5") if r["ok"]]
    repeat_misses = sum(1 for r in recs if r["repeat"] and r["cache"] == "miss")
    assert repeat_misses > 0
    explained = read_json(first["out"] / "ratio-0.5" / "summary.json")["cache"]["repeat_misses"]
    assert explained["repeat_misses"] == repeat_misses
    assert explained["in_flight"] == {"count": repeat_misses, "share": 1.0}
    assert explained["after_finish"]["count"] == 0
    repeated = first["result"]["steps"][1]
    assert dict(find_keys(repeated, "in_flight")), f"no in-flight figure in the row: {sorted(repeated)}"
    assert repeated["in_flight_misses"] == repeat_misses
    # no eviction inside the TTL: the whole gap to the theoretical ratio is in-flight repeats
    assert value(repeated["hit_ratio"]) + value(repeated["in_flight_share"]) == pytest.approx(
        repeated["theoretical_hit_ratio"])


def test_a_rerun_is_fresh_and_salt_reproduces(gw: GatewayThread, first: dict[str, Any],
                                              tmp_path: Path) -> None:
    """Step 0 (ratio 0, seed + 0) is the same corpus in every invocation but for its salt, so one
    step is enough: unsalted, a re-run inside the TTL would be all hits (the issue's defect)."""
    salt = salt_of(first["result"])
    assert salt, "sweep.json records no salt"
    _, again = sweep(gw, tmp_path / "again", ratios="0")
    assert salt_of(again) not in (None, salt)  # a new salt per invocation
    assert value(again["steps"][0]["hit_ratio"]) == 0.0  # the cache never saw these prompts
    _, same = sweep(gw, tmp_path / "same", "--salt", salt, ratios="0")
    assert salt_of(same) == salt
    # the first run's prompts again, inside the gateway's TTL: all hits
    assert value(same["steps"][0]["hit_ratio"]) == pytest.approx(1.0)
    assert not first["result"]["warnings"] and not again["warnings"]
    assert any("ratio 0" in w and "100.0%" in w for w in same["warnings"]), same["warnings"]  # said loudly
    first_keys = {r["key"] for r in records(first["out"] / "ratio-0")}
    assert {r["key"] for r in records(tmp_path / "same" / "ratio-0")} == first_keys
