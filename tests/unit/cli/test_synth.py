"""``llmsuite synth`` with the repetition/arrival knobs, and ``llmsuite corpus stats``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from suite import cli
from suite.errors import SpecError
from suite.synth.options import reuse_distance_option, synth_overrides


def test_cli_synth_issue_example(tmp_path: Path) -> None:
    out = tmp_path / "ops.jsonl"
    args = ["synth", "--scenario", "ops-assistant", "--n", "400", "--repeat-ratio", "0.3", "--popularity",
            "zipf:1.1", "--near-duplicate-ratio", "0.1", "--arrival", "poisson:5", "--seed", "7",
            "--reuse-distance", "100", "--cache-capacity", "10,50", "-o", str(out)]
    result = CliRunner().invoke(cli.cli, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "near-duplicates: requested 0.100, achieved 0.100; popularity zipf:1.1 over a catalog of 240" \
        in result.output
    assert "expected output tokens: requested median 180, p90 450; achieved median" in result.output
    assert "{" not in result.output  # no Python dict
    manifest = json.loads(out.with_name("ops.manifest.json").read_text())
    assert manifest["arrival"]["process"] == "poisson"
    assert manifest["spec"]["reuse_distance"] == {"requests": 100}
    assert set(manifest["theoretical_hit_ratio_lru"]) == {"10", "50"}
    again = tmp_path / "again.jsonl"
    CliRunner().invoke(cli.cli, [*args[:-1], str(again)])
    assert again.read_bytes() == out.read_bytes()


def test_cli_synth_bad_knob_names_the_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.cli, ["synth", "--n", "10", "--arrival", "poison:5", "-o",
                                          str(tmp_path / "c.jsonl")], terminal_width=200)
    assert result.exit_code == 2
    assert "Error: --arrival: unknown arrival process 'poison'; did you mean 'poisson'?" in result.output


def test_cli_synth_bad_popularity_is_validated_like_the_spec(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.cli, ["synth", "--n", "10", "--popularity", "zipf:x", "-o",
                                          str(tmp_path / "c.jsonl")], terminal_width=300)
    assert result.exit_code == 2
    assert "popularity: 'zipf:x' has no valid Zipf exponent" in result.output


def test_corpus_stats_table_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "c.jsonl"
    CliRunner().invoke(cli.cli, ["synth", "--n", "300", "--repeat-ratio", "0.5", "--popularity", "zipf:1.2",
                                 "--seed", "1", "-o", str(out)])
    result = CliRunner().invoke(cli.cli, ["corpus", "stats", str(out), "--plot"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Exact repeats" in result.output and "50.0%" in result.output  # human names, units
    assert "Prompt length (tokens)" in result.output and "repeat_ratio" not in result.output
    for name in ("c.tokens.png", "c.output_tokens.png", "c.popularity.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_corpus_stats_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.cli, ["corpus", "stats", str(tmp_path / "nope.jsonl")],
                                terminal_width=200)
    assert result.exit_code == 2
    assert "cannot read" in result.output


@pytest.mark.parametrize(("text", "expected"), [("500", {"requests": 500}), ("60s", {"seconds": 60.0})])
def test_reuse_distance_option(text: str, expected: dict) -> None:
    assert reuse_distance_option(text) == expected


def test_reuse_distance_option_error() -> None:
    with pytest.raises(SpecError) as err:
        reuse_distance_option("soon")
    assert str(err.value) == ("--reuse-distance: 'soon' is not a window (use N requests, e.g. 500, "
                              "or seconds, e.g. 60s).")


def test_overrides_only_for_given_options() -> None:
    assert synth_overrides(popularity="zipf:1.1", cache_ttl="60") == {
        "popularity": "zipf:1.1", "cache_model": {"capacity": [], "ttl": [60.0]}}


@pytest.mark.parametrize("name", ["ops-assistant", "ecommerce", "finance", "healthcare", "education",
                                  "rag-long-context"])
def test_every_bundled_scenario_builds(name: str) -> None:
    from dataclasses import replace

    from suite import api
    from suite.synth import build_corpus, build_manifest, load_spec

    spec = load_spec(api.resolve_scenario(name))
    # Enough requests that a scenario with too little template variety fails here, not in a user's
    # hands (rag-long-context's prompts are long to tokenize and its contexts never run out).
    spec = replace(spec, n=400 if name == "rag-long-context" else 5000)
    manifest = build_manifest(spec, 1, build_corpus(spec, 1))
    assert manifest["repeat_ratio"]["achieved"] == pytest.approx(spec.repeat_ratio, abs=0.01)
    assert manifest["spec"]["domain"] == name


def test_cli_synth_import_skip_bad(tmp_path: Path) -> None:
    source = tmp_path / "p.jsonl"
    source.write_text('{"prompt": "Where is order 1?"}\nbroken\n{"prompt": "Where is order 2?"}\n')
    out = tmp_path / "c.jsonl"
    base = ["synth", "--import", str(source), "--repeat-ratio", "0", "--near-duplicate-ratio", "0",
            "-o", str(out)]
    failed = CliRunner().invoke(cli.cli, base, terminal_width=300)
    assert failed.exit_code == 2
    assert f"Error: {source}:2: not valid JSON" in failed.output
    result = CliRunner().invoke(cli.cli, [*base, "--skip-bad"], terminal_width=300)
    assert result.exit_code == 0, result.output
    assert ("imported 2 prompts (2 conversations) from p.jsonl (jsonl); 1 bad entries skipped, "
            "0 duplicates skipped" in result.output)


def test_write_then_manifest_matches_write_corpus(tmp_path: Path) -> None:
    from dataclasses import replace

    from suite.synth import build_corpus, build_manifest, load_spec, write_corpus
    from suite.synth.write import write_corpus_then_manifest

    bundled = Path(__file__).resolve().parents[3] / "corpora" / "scenarios" / "ops-assistant.yaml"
    spec = replace(load_spec(bundled), n=60)
    requests = build_corpus(spec, 3)
    a, ma = write_corpus(tmp_path / "a.jsonl", requests, build_manifest(spec, 3, requests))
    b, mb, _ = write_corpus_then_manifest(tmp_path / "b.jsonl", requests,
                                          lambda sha: build_manifest(spec, 3, requests, corpus_sha=sha))
    assert a.read_bytes() == b.read_bytes()
    assert ma.read_bytes() == mb.read_bytes()
