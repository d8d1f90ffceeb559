"""A load sweep on the bundled mock with its shipped profiles has a knee: gpt-4o decodes at most
16 answers at once (corpora/profiles/models.yaml), so at 4x that many users 48 requests queue behind
16 and their TTFT and E2E grow by whole answers' time, while at half of it no request waits. A model
with no batch in its profile is flat by construction and the sweep says so (printed, sweep.json,
sweep.html)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mock_server.config import DEFAULT_PROFILES_PATH, load_profiles
from suite.cli import cli

FAST = ["--max-tokens", "4", "--n-boot", "200", "-d", "60"]


def test_shipped_gpt_4o_profile_queues_past_its_batch(tmp_path: Path) -> None:
    load = load_profiles(DEFAULT_PROFILES_PATH)["gpt-4o"].load
    assert load is not None and load.max_batch == 16
    low, high = load.max_batch // 2, 4 * load.max_batch
    out = tmp_path / "load"
    # one request per user at the high level: 16 decode, 48 wait 1-3 answers (~0.5 s each, 4 tokens)
    res = CliRunner().invoke(cli, ["sweep", "load", "--users", f"{low},{high}", "--n", str(high),
                                   "--models", "gpt-4o", "-o", str(out), *FAST])
    assert res.exit_code == 0, res.output
    result = json.loads((out / "sweep.json").read_text())
    low_row, high_row = result["steps"]
    assert (low_row["users"], high_row["users"]) == (low, high)
    assert low_row["ok"] == high_row["ok"] == high
    # below the batch: TTFT 0.45 s ± 0.15; behind it the last quarter waits three answers (~1.5 s)
    assert high_row["ttft_p95"] > low_row["ttft_p95"] + 0.8
    assert high_row["e2e_p95"] > low_row["e2e_p95"] + 0.8
    assert not any("latency will not depend on load" in w for w in result.get("warnings", []))


def test_a_profile_without_a_batch_is_warned_about(tmp_path: Path) -> None:
    out = tmp_path / "flat"
    res = CliRunner().invoke(cli, ["sweep", "load", "--users", "1,2", "--n", "4", "--models", "instant",
                                   "-o", str(out), *FAST])
    assert res.exit_code == 0, res.output
    line = "latency will not depend on load: profile instant has no batch/queue model"
    assert line in res.output
    warnings = json.loads((out / "sweep.json").read_text())["warnings"]
    assert [w for w in warnings if line in w] and line in (out / "sweep.html").read_text()
