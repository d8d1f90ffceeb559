"""``llmsuite init``: being built (issue #18); this placeholder is replaced by the real command."""

from __future__ import annotations

import click


@click.command(name="init")
def init() -> None:
    raise click.ClickException("llmsuite init is not built yet")
