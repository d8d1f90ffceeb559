"""``llmsuite analyze``: a run folder's request log → summary.json, CSVs, charts, report.html."""

from __future__ import annotations

from pathlib import Path

import click

from suite import api
from suite.cli.common import print_summary, run_command
from suite.errors import EXIT_SLO_FAILED


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--slo", default=None, help="SLO profile (single-tenant, multi-tenant, enterprise, "
              "high-frequency) or a YAML file of checks; exit code 7 when it fails.")
@click.option("--check", "checks", multiple=True, help="An extra SLO check, e.g. 'ttft.p95 < 500ms' "
              "(repeatable; alone, it makes a custom SLO).")
@click.option("--log", "logs", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Request-log file(s) to read instead of the folder's requests*.jsonl shards.")
@click.option("--cache-detect", "cache_detect", default=None, metavar="RULE",
              help="Re-attribute cache hits from the headers the run recorded, without re-running: "
              "auto, none, header:NAME[=HIT1|HIT2] or present:NAME (docs/gateways.md).")
@click.option("--cache-ttl", "cache_ttl_s", default=None, type=click.FloatRange(min=0), metavar="SECONDS",
              help="The target cache's TTL: repeat misses sent longer than this after the last store "
              "are counted as expired (default: run.json extra.cache_ttl_s, else unknown).")
@click.option("--served-key-header", default=None, metavar="NAME",
              help="Judge hits by this recorded header naming the entry served (default: the run's "
              "own rule, x-cache-key); one of the two not given is not read.")
@click.option("--similarity-header", default=None, metavar="NAME",
              help="Recorded header carrying a semantic hit's similarity (default: the run's own rule).")
def analyze(run_dir: Path, slo: str | None, checks: tuple[str, ...], logs: tuple[Path, ...],
            cache_detect: str | None, cache_ttl_s: float | None, served_key_header: str | None,
            similarity_header: str | None) -> None:
    """Analyze a run folder (every requests*.jsonl shard) into summary.json, CSVs, charts and
    report.html; with --slo, goodput and a pass/fail verdict."""
    def go() -> int:
        analysis = api.analyze(run_dir, slo=slo, files=list(logs) or None, checks=list(checks),
                               cache_detect=cache_detect, cache_ttl_s=cache_ttl_s,
                               served_key_header=served_key_header, similarity_header=similarity_header)
        print_summary(analysis)
        verdict = analysis.summary["slo"]
        return EXIT_SLO_FAILED if verdict.get("passed") is False else 0

    run_command(go)
