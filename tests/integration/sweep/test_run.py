"""Sweeps end to end: real mock server processes, a real private Redis, real Locust, through the
``llmsuite`` commands. Known truth: more repetition in the corpus ⇒ more cache hits and a larger
end-to-end gain. (The model swap: test_swap.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from suite.cli import cli
from suite.errors import EXIT_SLO_FAILED

# Fast, jitter-free profiles with known answers: gpt-4o answers 8 tokens in 0.05 + 7 × 0.01 = 0.12 s;
# gpt-5-mini is 0.1 s slower to the first token; gpt-4o-mini runs 2 generations at once, the rest queue.
PROFILES = """
models:
  gpt-4o:
    ttft_base_s: 0.05
    ttft_jitter_s: 0.0
    tokens_per_s: 100
    output_tokens: {median: 8, spread: 0.0}
  gpt-4o-mini:
    ttft_base_s: 0.05
    ttft_jitter_s: 0.0
    tokens_per_s: 100
    output_tokens: {median: 8, spread: 0.0}
    load: {max_batch: 2}
  gpt-5-mini:
    ttft_base_s: 0.15
    ttft_jitter_s: 0.0
    tokens_per_s: 100
    output_tokens: {median: 8, spread: 0.0}
"""
FAST = ["--max-tokens", "8", "--n-boot", "200"]


@pytest.fixture
def profiles(tmp_path: Path) -> list[str]:
    path = tmp_path / "profiles.yaml"
    path.write_text(PROFILES)
    return ["--profiles", str(path)]


def test_cache_sweep_gain_rises_with_the_repetition_ratio(tmp_path: Path, profiles: list[str]) -> None:
    out = tmp_path / "sweep"
    res = CliRunner().invoke(cli, ["sweep", "cache", "--ratios", "0,0.75", "--n", "100", "--users", "8",
                                   "-d", "30", "-o", str(out), "--models", "gpt-4o", *FAST, *profiles])
    assert res.exit_code == 0, res.output
    result = json.loads((out / "sweep.json").read_text())
    low, high = result["steps"]
    assert (low["repeat_ratio"], high["repeat_ratio"]) == (0.0, 0.75)
    assert low["theoretical_hit_ratio"] == 0.0
    assert high["theoretical_hit_ratio"] == 0.75
    assert low["hit_ratio"]["value"] == 0.0
    assert 0.2 < high["hit_ratio"]["value"] <= 0.75  # in-flight repeats miss: below the corpus bound
    # a miss takes 0.12 s, a hit a few ms on a quiet machine (and up to ~15 ms on a loaded one)
    assert high["per_hit_speedup"]["value"] > 5
    assert low["e2e_gain"]["value"] == 1.0
    assert high["e2e_gain"]["ci"][0] > 1.0  # significantly faster end to end
    assert high["e2e_gain"]["value"] <= high["gain_bound_observed"] * 1.25  # near or under 1/(1-h)
    for name in ("sweep.csv", "sweep.png", "sweep.html"):
        assert (out / name).stat().st_size > 0


def test_load_sweep_marks_the_knee_and_exits_7(tmp_path: Path, profiles: list[str]) -> None:
    slo = tmp_path / "slo.yaml"
    slo.write_text("checks: ['e2e.p95 < 0.3']\n")
    out = tmp_path / "load"
    res = CliRunner().invoke(cli, ["sweep", "load", "--users", "1,8", "--n", "16", "-d", "30",
                                   "--slo", str(slo), "-o", str(out), "--models", "gpt-4o-mini", *FAST,
                                   *profiles])
    assert res.exit_code == EXIT_SLO_FAILED, res.output
    result = json.loads((out / "sweep.json").read_text())
    assert [s["users"] for s in result["steps"]] == [1, 8]
    assert all(s["ok"] == 16 for s in result["steps"])
    one, eight = result["steps"]
    # alone a request takes 0.12 s; 8 users share 2 batch slots, so most wait 0.12-0.36 s in the queue
    assert one["e2e_p95"] < 0.3 < eight["e2e_p95"]
    assert one["slo"]["passed"] is True
    assert eight["slo"]["passed"] is False
    assert result["knee"]["level"] == 8
    assert "SLO knee: 8" in res.output


def test_a_relative_profiles_path_reaches_the_mock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled mock runs in the step's folder, so --profiles is resolved where the user typed it."""
    (tmp_path / "profiles.yaml").write_text(PROFILES)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["sweep", "load", "--users", "2", "--n", "4", "-d", "30", "-o", "out",
                                   "--models", "gpt-4o", "--cache", "none", *FAST,
                                   "--profiles", "profiles.yaml"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "out" / "sweep.json").read_text())["steps"][0]["ok"] == 4
