"""``llmsuite check``: being built (issue #18); this placeholder is replaced by the real command."""

from __future__ import annotations

import click


@click.command(name="check")
def check() -> None:
    raise click.ClickException("llmsuite check is not built yet")
