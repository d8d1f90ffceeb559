"""``llmsuite synth`` (scenario or imported prompts → corpus + manifest) and ``llmsuite corpus stats``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from suite import api
from suite.cli.common import PositiveInt, RunProgress, Seed, Share, console, parse_models, run_command


@click.command()
@click.option("--scenario", "-s", default="ops-assistant", show_default=True,
              help="Scenario name (corpora/scenarios/NAME.yaml) or path to a YAML spec.")
@click.option("--n", type=PositiveInt, help="Number of requests (overrides the spec).")
@click.option("--repeat-ratio", type=Share, help="Fraction of exact repeats, 0..1 (overrides the spec).")
@click.option("--popularity", help="How repeats pick their original: uniform or zipf:S (e.g. zipf:1.1).")
@click.option("--catalog-size", type=PositiveInt,
              help="Distinct originals repeats may pick from (default: all).")
@click.option("--near-duplicate-ratio", type=Share, help="Fraction of paraphrased near-duplicates, 0..1.")
@click.option("--hard-negative-ratio", type=Share,
              help="Fraction of hard negatives, 0..1: an earlier request's wording with one slot value "
              "changed (near_miss_of), the pairs a semantic cache must not hit.")
@click.option("--reuse-distance", help="How far back repeats reach: N requests (500) or seconds (60s).")
@click.option("--scope", type=click.Choice(["across", "user", "session"]),
              help="Repeats across users, within a user, or within a conversation session.")
@click.option("--users", type=PositiveInt, help="Number of simulated users/tenants.")
@click.option("--shared-prefix", type=Share, help="Share of requests starting with the shared prefix, 0..1.")
@click.option("--system-prompts", metavar="K:TOKENS[:zipf:S]",
              help="A pool of K system prompts of about TOKENS tokens, one per conversation, picked "
              "uniformly or by Zipf (e.g. 8:400:zipf:1.1).")
@click.option("--documents", metavar="D:TOKENS:P[:zipf:S]",
              help="A pool of D documents of about TOKENS tokens put before the question of a fresh "
              "request with probability P (RAG reuse; e.g. 50:800:0.5).")
@click.option("--arrival", help="closed, constant:RATE, poisson:RATE, gamma:RATE:BURSTINESS, "
              "ramp:RATE:END_RATE:DURATION, step:RATE:END_RATE:DURATION, diurnal:RATE:AMPLITUDE:PERIOD.")
@click.option("--cache-capacity", help="Also report the theoretical LRU hit ratio at these sizes: 100,1000.")
@click.option("--cache-ttl", help="Also report the theoretical hit ratio with these TTLs (seconds): 60,300.")
@click.option("--models", help="Model mix: gpt-4o,gpt-5-mini or gpt-4o:3,gpt-5-mini:1.")
@click.option("--seed", type=Seed, help="Seed; same spec + seed => byte-identical corpus.")
@click.option("--import", "import_file", type=click.Path(path_type=Path),
              help="Take the prompts from this file instead of the scenario's templates.")
@click.option("--format", "import_format", type=click.Choice(["sharegpt", "jsonl", "csv"]), default="jsonl",
              show_default=True, help="Format of --import.")
@click.option("--column", help="CSV column holding the prompt (with --format csv).")
@click.option("--skip-bad", is_flag=True, help="Skip (and count) bad lines of --import instead of failing.")
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="Corpus file (.jsonl).")
def synth(scenario: str, n: int | None, repeat_ratio: float | None, models: str | None,
          seed: int | None, import_file: Path | None, import_format: str, column: str | None,
          skip_bad: bool, out: Path, **knobs: Any) -> None:
    """Build a corpus (JSONL + manifest) from a scenario spec, or from imported prompts (--import)."""
    from suite.synth.options import synth_overrides

    def go() -> None:
        overrides = synth_overrides(**knobs)
        bar = RunProgress(f"synth {Path(import_file or scenario).stem}")
        common: dict[str, Any] = {"n": n, "seed": seed, "repeat_ratio": repeat_ratio,
                                  "models": parse_models(models), "overrides": overrides, "progress": bar}
        try:
            if import_file is not None:
                res = api.synthesize_import(import_file, import_format, out, scenario=scenario, column=column,
                                            skip_bad=skip_bad, **common)
            else:
                res = api.synthesize(scenario, out, **common)
        finally:
            bar.stop()
        m = res.manifest
        console.print(f"wrote {res.corpus} ({m['n']} requests) and {res.manifest_path}")
        console.print(f"repeat ratio: requested {m['repeat_ratio']['requested']:.3f}, achieved "
                      f"{m['repeat_ratio']['achieved']:.3f}; {m['unique_keys']} unique keys, theoretical "
                      f"hit ratio of an unbounded exact cache {m['theoretical_hit_ratio']:.3f}",
                      soft_wrap=True)
        near, pop = m["near_duplicate_ratio"], m["popularity"]
        console.print(f"near-duplicates: requested {near['requested']:.3f}, achieved "
                      f"{near['achieved']:.3f}; popularity {pop['requested']} over a catalog of "
                      f"{pop['catalog_size']}", soft_wrap=True)
        _print_reuse(m)
        out_len = m.get("expected_output_tokens") or {}
        if out_len.get("achieved"):
            got = out_len["achieved"]
            console.print(f"expected output tokens: requested {_plain(out_len['requested'])}; achieved "
                          f"median {got['p50']:g}, p90 {got['p90']:g} ({got['at_max_tokens_share']:.1%} at "
                          "max_tokens)", soft_wrap=True)
        if "import" in m:
            imp = m["import"]
            console.print(f"imported {imp['prompts']} prompts ({imp['conversations']} conversations) from "
                          f"{imp['file']} ({imp['format']}); "
                          f"{imp['skipped_bad']} bad entries skipped, {imp['duplicates_skipped']} duplicates "
                          "skipped", soft_wrap=True)

    run_command(go)


def _print_reuse(m: dict[str, Any]) -> None:
    """Hard negatives and the expected prefix-cache share, when the corpus has them."""
    if "hard_negative_ratio" in m:
        hard, sim = m["hard_negative_ratio"], m["lexical_similarity"]
        para, near = sim["paraphrase"], sim["hard_negative"]
        console.print(f"hard negatives: requested {hard['requested']:.3f}, achieved {hard['achieved']:.3f}; "
                      f"lexical similarity (char 3-gram cosine) median: paraphrases {_p50(para)}, "
                      f"hard negatives {_p50(near)}", soft_wrap=True)
    if "prefix_cache" in m:
        pc = m["prefix_cache"]
        per_model = ", ".join(f"{k} {v['expected_cached_share']:.1%}" for k, v in pc["per_model"].items())
        console.print(f"prefix cache: expected cached share {pc['expected_cached_share']:.1%} of prompt "
                      f"tokens ({pc['block_tokens']}-token blocks, unbounded cache; {per_model})",
                      soft_wrap=True)


def _p50(spread: dict[str, Any]) -> str:
    return "— (no pair)" if spread["p50"] is None else f"{spread['p50']:.2f}"


def _plain(value: Any) -> str:
    """A manifest value in words, not Python syntax: {'median': 180, 'p90': 450} → median 180, p90 450."""
    if value is None:
        return "none (the scenario's default)"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "/".join(_plain(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


@click.group()
def corpus() -> None:
    """Inspect corpora."""


@corpus.command("stats")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--plot", is_flag=True, help="Also write NAME.tokens.png (prompt lengths), "
              "NAME.output_tokens.png (expected output lengths) and NAME.popularity.png beside FILE.")
@click.option("--prefix-cache", is_flag=True, help="Also the expected prefix-cache share (16-token blocks, "
              "per model; tokenizes every prompt, so slower on long prompts).")
def corpus_stats(file: Path, plot: bool, prefix_cache: bool) -> None:
    """Repetition, hard negatives, popularity, token lengths, mixes and arrival rate of a corpus."""
    from rich.table import Table

    from suite.synth.stats import display_rows

    def go() -> None:
        res = api.corpus_stats(file, plot=plot, prefix_cache=prefix_cache)
        table = Table(title=f"corpus {file}", show_header=True)
        table.add_column("Statistic")
        table.add_column("Value")
        for name, value in display_rows(res.stats):
            table.add_row(name, value)
        console.print(table)
        for path in res.plots:
            console.print(f"wrote {path}", highlight=False, soft_wrap=True)
        if plot and res.stats.get("expected_output_tokens") is None:
            console.print("no output-token plot: the corpus carries no expected output lengths",
                          highlight=False)

    run_command(go)
