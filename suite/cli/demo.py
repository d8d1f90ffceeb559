"""``llmsuite demo`` (the whole pipeline on loopback) and ``llmsuite tokenizer`` (the offline
tiktoken data ``make install`` sets up)."""

from __future__ import annotations

from pathlib import Path

import click

from suite import api
from suite.cli.common import (
    PositiveFloat,
    PositiveInt,
    Seed,
    console,
    print_summary,
    run_command,
)
from suite.cli.livepanel import RunPanel


@click.command()
def tokenizer() -> None:
    """Install and verify the offline tiktoken encodings (o200k_base, cl100k_base)."""
    from suite import tokens

    def go() -> None:
        for name in tokens.BPE_FILES:
            path = tokens.install_bpe(name)
            n = tokens.get_encoding(name).n_vocab
            console.print(f"{name}: sha256 verified, {n} tokens, {path}")

    run_command(go)


class RichDemoUI(api.DemoUI):
    def __init__(self) -> None:
        self.bar: RunPanel | None = None

    def stage(self, name: str, detail: str) -> None:
        if self.bar is not None:  # the run's last figures come before the next stage's line
            self.bar.stop()
        console.print(f"[bold cyan]▶ {name}[/] {detail}", highlight=False)

    def note(self, message: str) -> None:
        console.print(f"[yellow]note:[/] {message}", highlight=False)

    def progress(self) -> RunPanel:
        self.bar = RunPanel("run")
        return self.bar


@click.command()
@click.option("--n", type=PositiveInt, default=300, show_default=True, help="Requests in the demo corpus.")
@click.option("--users", type=PositiveInt, default=api.DemoOptions.users, show_default=True)
@click.option("--duration", type=PositiveFloat, default=30.0, show_default=True, help="Locust run bound (s).")
@click.option("--seed", type=Seed, default=7, show_default=True)
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
        print_summary(result.analysis)
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.stage_seconds.items())
        console.print(f"cache backend: {result.cache_backend}; stages: {timings}")

    run_command(go)
