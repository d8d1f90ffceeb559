"""``llmsuite``: a thin click layer over ``suite.api``. Parses, calls the API, renders; the only
place where a ``SuiteError`` becomes a one-line message and an exit code (never a traceback)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from suite import __version__, api
from suite.errors import SpecError, SuiteError

console = Console()
err_console = Console(stderr=True)


def parse_models(value: str | None) -> dict[str, float] | None:
    """``gpt-4o,gpt-5-mini`` (equal weights) or ``gpt-4o:3,gpt-5-mini:1``."""
    if not value:
        return None
    out: dict[str, float] = {}
    for item in value.split(","):
        name, _, weight = item.strip().partition(":")
        try:
            out[name] = float(weight) if weight else 1.0
        except ValueError:
            raise SpecError(f"--models: {item!r} has a bad weight (use name or name:weight, "
                            "e.g. gpt-4o:3,gpt-5-mini:1).") from None
    return out


class RunProgress:
    """A rich progress bar fed by the driver's (done, total) callback; closed by ``stop``."""

    def __init__(self, label: str) -> None:
        self._bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             console=console, transient=False)
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._task is None:
            self._bar.start()
            self._task = self._bar.add_task("requests", total=total)
        self._bar.update(self._task, completed=done, total=total)

    def stop(self) -> None:
        if self._task is not None:
            self._bar.stop()


def _print_summary(analysis: api.Analysis) -> None:
    from suite.analyze import render_summary_table

    console.print(render_summary_table(analysis.summary))
    console.print(f"[bold]report:[/] {analysis.run_dir / 'report.html'}")


def _run_command(fn: Callable[[], int | None]) -> None:
    try:
        code = fn() or 0
    except SuiteError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[bold red]Interrupted.[/]")
        sys.exit(130)
    except Exception as exc:  # a bug of ours: say so in one line; the traceback only on request
        if os.environ.get("LLMSUITE_DEBUG"):
            raise
        err_console.print(f"[bold red]Internal error:[/] {type(exc).__name__}: {exc}. This is a bug in "
                          "llmsuite; re-run with LLMSUITE_DEBUG=1 for the traceback and report it.",
                          highlight=False, soft_wrap=True)
        sys.exit(70)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="llmsuite")
def cli() -> None:
    """LLM Traffic Suite: synthesize LLM traffic, replay it with Locust, measure latency and cache gains."""


@cli.command()
@click.option("--scenario", "-s", default="ops-assistant", show_default=True,
              help="Scenario name (corpora/scenarios/NAME.yaml) or path to a YAML spec.")
@click.option("--n", type=int, help="Number of requests (overrides the spec).")
@click.option("--repeat-ratio", type=float, help="Fraction of exact repeats, 0..1 (overrides the spec).")
@click.option("--popularity", help="How repeats pick their original: uniform or zipf:S (e.g. zipf:1.1).")
@click.option("--catalog-size", type=int, help="Distinct originals repeats may pick from (default: all).")
@click.option("--near-duplicate-ratio", type=float, help="Fraction of paraphrased near-duplicates, 0..1.")
@click.option("--reuse-distance", help="How far back repeats reach: N requests (500) or seconds (60s).")
@click.option("--scope", type=click.Choice(["across", "user", "session"]),
              help="Repeats across users, within a user, or within a conversation session.")
@click.option("--users", type=int, help="Number of simulated users/tenants.")
@click.option("--shared-prefix", type=float, help="Share of requests starting with the shared prefix, 0..1.")
@click.option("--arrival", help="closed, constant:RATE, poisson:RATE, gamma:RATE:BURSTINESS, "
              "ramp:RATE:END_RATE:DURATION, step:RATE:END_RATE:DURATION, diurnal:RATE:AMPLITUDE:PERIOD.")
@click.option("--cache-capacity", help="Also report the theoretical LRU hit ratio at these sizes: 100,1000.")
@click.option("--cache-ttl", help="Also report the theoretical hit ratio with these TTLs (seconds): 60,300.")
@click.option("--models", help="Model mix: gpt-4o,gpt-5-mini or gpt-4o:3,gpt-5-mini:1.")
@click.option("--seed", type=int, help="Seed; same spec + seed => byte-identical corpus.")
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
                      f"hit ratio of an unbounded exact cache {m['theoretical_hit_ratio']:.3f}")
        near, pop = m["near_duplicate_ratio"], m["popularity"]
        console.print(f"near-duplicates: requested {near['requested']:.3f}, achieved "
                      f"{near['achieved']:.3f}; popularity {pop['requested']} over a catalog of "
                      f"{pop['catalog_size']}", soft_wrap=True)
        out_len = m.get("expected_output_tokens") or {}
        if out_len.get("achieved"):
            got = out_len["achieved"]
            console.print(f"expected output tokens: requested {out_len['requested']}, achieved median "
                          f"{got['p50']:g}, p90 {got['p90']:g} ({got['at_max_tokens_share']:.1%} at "
                          "max_tokens)", soft_wrap=True)
        if "import" in m:
            imp = m["import"]
            console.print(f"imported {imp['prompts']} prompts ({imp['conversations']} conversations) from "
                          f"{imp['file']} ({imp['format']}); "
                          f"{imp['skipped_bad']} bad entries skipped, {imp['duplicates_skipped']} duplicates "
                          "skipped", soft_wrap=True)

    _run_command(go)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True, help="0 lets the OS choose.")
@click.option("--profiles", type=click.Path(path_type=Path), default=api.DEFAULT_PROFILES,
              show_default=True, help="Model latency profiles (YAML).")
@click.option("--cache", "cache_url", default="memory", show_default=True,
              help="Response cache: memory, none, or redis://HOST:PORT/DB.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--cache-ttl", type=float, default=3600.0, show_default=True,
              help="Cache entry TTL in seconds (Redis and memory).")
@click.option("--cache-mode", type=click.Choice(["exact", "normalize"]), default="exact",
              show_default=True, help="normalize: keys ignore case, whitespace and punctuation.")
@click.option("--api-key", envvar="LLMSUITE_MOCK_API_KEY", default=None,
              help="Require 'Authorization: Bearer KEY' (or set $LLMSUITE_MOCK_API_KEY).")
@click.option("--engine-model", default=None, help="Model behind POST /api/chat (default: first profile).")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Processes sharing the port; each keeps its own memory cache and metrics.")
@click.option("--timing-log", type=click.Path(path_type=Path), default=None,
              help="Append one JSONL line of server-side timing per answered request.")
def mock(host: str, port: int, profiles: Path, cache_url: str, seed: int, cache_ttl: float,
         cache_mode: str, api_key: str | None, engine_model: str | None, workers: int,
         timing_log: Path | None) -> None:
    """Serve the bundled OpenAI-compatible mock LLM server until Ctrl-C."""
    from mock_server.__main__ import API_KEY_ENV
    from mock_server.__main__ import main as mock_main

    args = ["--host", host, "--port", str(port), "--profiles", str(profiles), "--cache", cache_url,
            "--seed", str(seed), "--cache-ttl", str(cache_ttl), "--cache-mode", cache_mode,
            "--workers", str(workers)]
    if engine_model:
        args += ["--engine-model", engine_model]
    if timing_log is not None:
        args += ["--timing-log", str(timing_log)]
    if api_key:
        os.environ[API_KEY_ENV] = api_key  # through the environment: never in an argv or a log
    sys.exit(mock_main(args))


def _run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--corpus", "-c", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                     required=True, help="Corpus JSONL to replay."),
        click.option("--target", "-t", required=True, help="Base URL, e.g. http://127.0.0.1:8000"),
        click.option("--run-id", help="Folder name under --out (default: UTC timestamp)."),
        click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--slo", default=None, help="SLO profile (single-tenant, multi-tenant, enterprise, "
              "high-frequency) or a YAML file of checks; exit code 7 when it fails.")
@click.option("--check", "checks", multiple=True, help="An extra SLO check, e.g. 'ttft.p95 < 500ms' "
              "(repeatable; alone, it makes a custom SLO).")
@click.option("--log", "logs", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Request-log file(s) to read instead of the folder's requests*.jsonl shards.")
def analyze(run_dir: Path, slo: str | None, checks: tuple[str, ...], logs: tuple[Path, ...]) -> None:
    """Analyze a run folder (every requests*.jsonl shard) into summary.json, CSVs, charts and
    report.html; with --slo, goodput and a pass/fail verdict."""
    from suite.errors import EXIT_SLO_FAILED

    def go() -> int:
        analysis = api.analyze(run_dir, slo=slo, files=list(logs) or None, checks=list(checks))
        _print_summary(analysis)
        verdict = analysis.summary["slo"]
        return EXIT_SLO_FAILED if verdict.get("passed") is False else 0

    _run_command(go)


@cli.command()
def tokenizer() -> None:
    """Install and verify the offline tiktoken encodings (o200k_base, cl100k_base)."""
    from suite import tokens

    def go() -> None:
        for name in tokens.BPE_FILES:
            path = tokens.install_bpe(name)
            n = tokens.get_encoding(name).n_vocab
            console.print(f"{name}: sha256 verified, {n} tokens, {path}")

    _run_command(go)


class RichDemoUI(api.DemoUI):
    def __init__(self) -> None:
        self.bar: RunProgress | None = None

    def stage(self, name: str, detail: str) -> None:
        console.print(f"[bold cyan]▶ {name}[/] {detail}", highlight=False)

    def note(self, message: str) -> None:
        console.print(f"[yellow]note:[/] {message}", highlight=False)

    def progress(self) -> RunProgress:
        self.bar = RunProgress("run")
        return self.bar


@cli.command()
@click.option("--n", type=int, default=300, show_default=True, help="Requests in the demo corpus.")
@click.option("--users", type=int, default=api.DemoOptions.users, show_default=True)
@click.option("--duration", type=float, default=30.0, show_default=True, help="Locust run bound (s).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--no-redis", is_flag=True, help="Use the mock's in-memory cache instead of a private Redis.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
def demo(n: int, users: int, duration: float, seed: int, no_redis: bool, out: Path) -> None:
    """The whole pipeline on loopback: synth -> private Redis -> mock server -> Locust -> analyze."""
    ui = RichDemoUI()

    def go() -> None:
        opts = api.DemoOptions(n=n, users=users, spawn_rate=float(users), duration_s=duration, seed=seed,
                               use_redis=not no_redis, out_root=out)
        try:
            result = api.demo(opts, ui)
        finally:
            if ui.bar:
                ui.bar.stop()
        _print_summary(result.analysis)
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.stage_seconds.items())
        console.print(f"cache backend: {result.cache_backend}; stages: {timings}")

    _run_command(go)


@cli.group()
def corpus() -> None:
    """Inspect corpora."""


@corpus.command("stats")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--plot", is_flag=True, help="Also write NAME.tokens.png and NAME.popularity.png beside FILE.")
def corpus_stats(file: Path, plot: bool) -> None:
    """Repetition, popularity, token lengths, mixes and arrival rate of a corpus."""
    from rich.table import Table

    def go() -> None:
        res = api.corpus_stats(file, plot=plot)
        table = Table(title=f"corpus {file}", show_header=True)
        table.add_column("statistic")
        table.add_column("value", justify="right")
        for name, value in res.stats.items():
            table.add_row(name, _show_stat(value))
        console.print(table)
        for path in res.plots:
            console.print(f"wrote {path}")

    _run_command(go)


def _show_stat(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_show_stat(v)}" for k, v in value.items())
    return str(value)


from suite.cli_compare import register as _register_compare  # noqa: E402  (compare, sweep, swap)

_register_compare(cli)

from suite.cli_run import register as _register_run  # noqa: E402  (run: load options, processes, web)

_register_run(cli)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
