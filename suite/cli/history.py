"""``llmsuite history``: being built (issue #18); this placeholder is replaced by the real command."""

from __future__ import annotations

import click


@click.command(name="history")
def history() -> None:
    raise click.ClickException("llmsuite history is not built yet")
