"""The load sweep's warning for bundled-mock models whose profile has no batch: their latency cannot
depend on load, so a flat curve would otherwise read as "this model scales"."""

from __future__ import annotations

from pathlib import Path

from mock_server.config import DEFAULT_PROFILES_PATH, load_profiles
from suite.sweep.rows import flat_load_warnings

BASE = "ttft_base_s: 0.1, ttft_jitter_s: 0, tokens_per_s: 50, output_tokens: {median: 8, spread: 0}"
PROFILES = f"""models:
  batched: {{{BASE}, encoding: o200k_base, load: {{max_batch: 4}}}}
  limited: {{{BASE}, encoding: o200k_base, load: {{rpm: 60}}}}
  unbatched: {{{BASE}, encoding: o200k_base}}
"""


def test_a_model_without_a_batch_is_named(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(PROFILES)
    got = flat_load_warnings(["batched", "limited", "unbatched", "not-a-profile"], load_profiles(path),
                             str(path))
    # rate limits alone refuse requests (429) but never make one slower: flat as well
    assert [line.split(" has ")[0] for line in got] == [
        f"latency will not depend on load: profile {name}" for name in ("limited", "unbatched")]
    assert f"no load.max_batch in {path}" in got[1]
    assert "docs/mock-server.md" in got[1]


def test_no_warning_when_every_swept_model_has_a_batch(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(PROFILES)
    assert flat_load_warnings(["batched"], load_profiles(path), str(path)) == []


def test_the_default_profiles_demo_models_have_a_knee_and_the_test_profiles_warn() -> None:
    profiles = load_profiles(DEFAULT_PROFILES_PATH)
    real = ["claude-sonnet", "gpt-4o", "gpt-4o-mini", "gpt-5-mini", "llama-3-70b-vllm", "llama-3.1-8b"]
    assert flat_load_warnings(real, profiles, "models.yaml") == []
    assert len(flat_load_warnings(["instant", "fixed-200ms", "slow"], profiles, "models.yaml")) == 3
