"""``llmsuite swap`` as an experiment, end to end against the bundled mock (real mock processes, real
Locust): every model probed before any load, warm-up runs kept apart, ABBA and interleaved orders
that still pair request by request, and a duration cut that is said, not silent.

Known truth: gpt-5-mini's profile reaches the first token 0.1 s after gpt-4o's, every time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from suite import api
from suite.cli import cli
from suite.errors import TargetError

PROFILES = """
models:
  gpt-4o:
    ttft_base_s: 0.05
    ttft_jitter_s: 0.0
    tokens_per_s: 100
    output_tokens: {median: 8, spread: 0.0}
  gpt-5-mini:
    ttft_base_s: 0.15
    ttft_jitter_s: 0.0
    tokens_per_s: 100
    output_tokens: {median: 8, spread: 0.0}
"""
N = 16


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, list[str]]:
    (tmp_path / "profiles.yaml").write_text(PROFILES)
    corpus = api.synthesize("ops-assistant", tmp_path / "c.jsonl", n=N, seed=3, repeat_ratio=0.0,
                            models={"gpt-4o": 1}, overrides={"max_tokens": {"choices": [8]}}).corpus
    return corpus, ["--profiles", str(tmp_path / "profiles.yaml"), "--n-boot", "200", "--cache", "none"]


def swap(corpus: Path, out: Path, common: list[str], *extra: str,
         models: str = "gpt-4o,gpt-5-mini") -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["swap", "--models", models, "-c", str(corpus), "-u", "4", "-d", "30",
                                   "-o", str(out), *common, *extra])
    return res.exit_code, res.output


def ttft_pairs(result: dict) -> dict:
    paired = result["comparisons"][0]["paired"]
    assert paired["paired"] is True, paired
    assert paired["matched"] == N
    return next(m for m in paired["groups"][0]["metrics"] if m["metric"] == "ttft")


def test_abba_swap_warms_up_each_model_apart_and_pairs_every_request(tmp_path: Path, setup: tuple) -> None:
    corpus, common = setup
    out = tmp_path / "swap"
    code, output = swap(corpus, out, common, "--warmup", "3")
    assert code == 0, output
    result = json.loads((out / "compare.json").read_text())
    assert result["order"] == "abba"
    assert [(s["model"], s["part"]) for s in result["schedule"]] == [
        ("gpt-4o", "h1"), ("gpt-5-mini", "h1"), ("gpt-5-mini", "h2"), ("gpt-4o", "h2")]
    assert sum(s["requests"] for s in result["schedule"]) == 2 * N
    assert result["population"]["population"] == "miss" and result["tests"]["primary"] == "e2e.p50"
    assert result["warnings"] == []
    warm = result["warmup"]
    assert warm["n"] == 3 and len(warm["runs"]) == 2
    measured = {json.loads(line)["messages"][-1]["content"] for line in corpus.read_text().splitlines()}
    for run in warm["runs"]:
        sent = [json.loads(line) for line in (Path(run) / "requests.jsonl").read_text().splitlines()]
        assert len(sent) == 3
        prompts = [json.loads(line) for line in (Path(run) / "corpus.jsonl").read_text().splitlines()]
        assert not measured & {p["messages"][-1]["content"] for p in prompts}  # no measured prompt
    assert [r["records"] for r in result["runs"]] == [N, N]  # the warm-up is in no statistic
    ttft = ttft_pairs(result)
    assert 0.07 < ttft["median_delta"] < 0.2 and ttft["share_faster_in_b"] == 0.0
    assert "order abba: gpt-4o·h1 → gpt-5-mini·h1 → gpt-5-mini·h2 → gpt-4o·h2" in output
    assert "warm-up: 3 request(s) per model" in output


def test_interleaved_swap_is_one_run_split_by_model(tmp_path: Path, setup: tuple) -> None:
    corpus, common = setup
    out = tmp_path / "swap"
    code, output = swap(corpus, out, common, "--order", "interleave", "--warmup", "0", "--salt", "s1")
    assert code == 0, output
    result = json.loads((out / "compare.json").read_text())
    assert result["order"] == "interleave" and result["warmup"]["n"] == 0
    assert (result["salt"]["value"], result["salt"]["source"]) == ("s1", "given with --salt")
    assert "salt: s1 (given with --salt; reproduce with --salt s1)" in output
    sent_prompts = [json.loads(line)["messages"][-1]["content"]
                    for line in (out / "interleaved" / "corpus.jsonl").read_text().splitlines()]
    assert all("[llmsuite salt s1]" in p for p in sent_prompts)  # --salt salts the mock's corpus too
    (segment,) = result["schedule"]
    assert segment["requests"] == 2 * N and segment["per_model"] == {"gpt-4o": N, "gpt-5-mini": N}
    sent = (out / "interleaved" / "requests.jsonl").read_text().splitlines()
    tags = sorted(json.loads(line)["id"].rpartition("@")[2] for line in sent)
    assert tags == ["gpt-4o"] * N + ["gpt-5-mini"] * N  # both models' copies in one run, ids tagged
    ttft = ttft_pairs(result)
    assert 0.07 < ttft["median_delta"] < 0.2


def test_a_model_the_target_does_not_serve_fails_before_any_load(tmp_path: Path, setup: tuple) -> None:
    corpus, common = setup
    out = tmp_path / "swap"
    code, output = swap(corpus, out, common, models="gpt-4o,gpt-4o-mini")
    assert code == TargetError.exit_code, output
    assert "gpt-4o-mini" in output and "does not exist" in output  # the target's own message
    assert not list(out.glob("*/run.json"))  # not even gpt-4o's warm-up ran


def test_a_duration_that_cuts_a_sequential_swap_is_a_warning(tmp_path: Path, setup: tuple) -> None:
    corpus, common = setup
    out = tmp_path / "swap"
    code, output = swap(corpus, out, [*common, "-u", "1", "-d", "0.5"], "--warmup", "0",
                        "--order", "sequential")
    assert code == 0, output
    result = json.loads((out / "compare.json").read_text())
    assert [(s["model"], s["part"]) for s in result["schedule"]] == [("gpt-4o", "all"), ("gpt-5-mini", "all")]
    assert [r["model_override"] for r in result["runs"]] == ["gpt-4o", "gpt-5-mini"]
    run_json = json.loads((out / "model-gpt-5-mini" / "run.json").read_text())
    assert run_json["corpus"].endswith("corpora/gpt-5-mini.jsonl")  # the model's whole copy was sent
    # one user, 0.5 s: a few of the 16 requests per model; said in compare.json and on the terminal
    assert len(result["warnings"]) == 2 and "gpt-5-mini" in result["warnings"][1]
    assert f"of the corpus's {N} requests were sent" in result["warnings"][0]
    assert "WARNING:" in output and "--duration" in output
    # the models sent different requests: both are compared on the ones both sent
    both = result["restricted_to_common"]
    assert both["requests"] <= min(both["sent"].values()) and both["requests"] == result["runs"][0]["records"]
