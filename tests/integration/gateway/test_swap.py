"""``llmsuite swap`` against the independent gateway, with a known answer: the backend answers
gpt-5-mini's misses 0.1 s later than gpt-4o's, and both models' hits alike (the cache answers
them). Every model is probed before any load, each gets a warm-up, the order is recorded, and the
headline comes from misses."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.integration.gateway.cli import KEY_ENV, llmsuite, output, read_json, salt_of, synth_corpus
from tests.integration.gateway.serve import GatewayThread

MODELS = ("gpt-4o", "gpt-5-mini")


def swap(gw: GatewayThread, corpus: Path, out: Path, models: str,
         *extra: str) -> subprocess.CompletedProcess[str]:
    return llmsuite("swap", "--models", models, "-c", str(corpus), "-t", gw.url, "--target-preset",
                    "helicone", "--api-key-env", KEY_ENV, "-u", "2", "-d", "20", "--n-boot", "200",
                    "-o", str(out), *extra, timeout=240)


def test_swap_probes_warms_up_orders_and_compares_misses(
        gateway_factory: Callable[..., GatewayThread], tmp_path: Path) -> None:
    gw = gateway_factory("helicone", extra_latency_s={"gpt-5-mini": 0.1})
    corpus = synth_corpus(tmp_path / "corpus.jsonl", n=40, repeat_ratio=0.3, seed=8)
    proc = swap(gw, corpus, tmp_path / "swap", ",".join(MODELS), "--warmup", "4", "--order", "interleave")
    assert proc.returncode == 0, output(proc)
    assert gw.stats.unauthorized == 0
    served = gw.stats.served
    first_b = next(i for i, s in enumerate(served) if s.model == "gpt-5-mini")
    assert first_b <= 2, [(s.model, s.request_id) for s in served[:first_b + 1]]  # probed before any load
    result = read_json(tmp_path / "swap" / "compare.json")
    assert result["order"] == "interleave"  # one run for both models: the cheapest fair order
    assert [seg["per_model"] for seg in result["schedule"]] == [{"gpt-4o": 40, "gpt-5-mini": 40}]
    assert result["warmup"]["n"] == 4 and len(result["warmup"]["runs"]) == 2
    assert salt_of(result)
    population = result["population"]
    assert (population.get("population") if isinstance(population, dict) else population) == "miss"
    assert result.get("primary", result.get("tests", {}).get("primary")) == "e2e.p50"
    assert gw.stats.hits > 0  # the corpus's repeats did hit: the comparison had to leave them out
    headlines = " ".join(result["comparisons"][0]["headlines"])
    assert "gpt-4o" in headlines and "1.0×" not in headlines and "1.0x" not in headlines, headlines
    assert "miss" in result["comparisons"][0]["headlines"][0], headlines  # says which population
    groups = result["comparisons"][0]["paired"]["groups"]
    e2e = [m for g in groups for m in g["metrics"] if m["metric"] == "e2e"]
    assert e2e and 0.06 < e2e[0]["median_delta"] < 0.16, e2e  # the backend's 0.1 s, misses only


def test_a_model_the_gateway_lacks_exits_4_before_any_load(
        gateway_factory: Callable[..., GatewayThread], tmp_path: Path) -> None:
    gw = gateway_factory("helicone")
    corpus = synth_corpus(tmp_path / "corpus.jsonl", n=20, repeat_ratio=0.0, seed=8)
    proc = swap(gw, corpus, tmp_path / "swap", "gpt-4o,gpt-9")
    assert proc.returncode == 4, output(proc)
    assert "gpt-9" in proc.stderr and "does not exist" in proc.stderr  # the target's own message
    assert gw.stats.not_found == 1
    assert sum(s.model == "gpt-4o" for s in gw.stats.served) <= 1  # its probe only, no load
