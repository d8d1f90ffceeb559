"""``llmsuite log convert``: give an existing JSONL request log its columnar mirror (.arrows).

Runs since the mirror exists write it themselves; this is for older logs (or one whose mirror a
crash left without its end marker), so ``analyze`` reads them without parsing JSON.
"""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from suite.cachesignal import allowlist
from suite.cli.common import console, run_command
from suite.errors import AnalysisError
from suite.logcolumns import convert_jsonl


@click.group()
def log() -> None:
    """Request-log tools."""


@log.command()
@click.argument("target", type=click.Path(path_type=Path, exists=True))
def convert(target: Path) -> None:
    """Write requests*.arrows beside each requests*.jsonl of a run folder (or beside FILE.jsonl)."""

    def go() -> None:
        shards = sorted(target.glob("requests*.jsonl")) if target.is_dir() else [target]
        if not shards or any(not p.name.endswith(".jsonl") for p in shards):
            raise AnalysisError(f"{target}: no requests*.jsonl here. Pass a run folder or a .jsonl log.")
        headers = _headers(shards[0].parent)
        for shard in shards:
            try:
                out, n = convert_jsonl(shard, headers)
            except ValueError as exc:
                raise AnalysisError(f"{exc}. Run `llmsuite analyze` on it to find the line.") from None
            console.print(f"wrote {out} ({n:,} records, {out.stat().st_size / 1e6:,.1f} MB)")

    run_command(go)


def _headers(run_dir: Path) -> list[str]:
    """The cache headers the records may keep: run.json's allow-list, else today's default one."""
    try:
        extra = orjson.loads((run_dir / "run.json").read_bytes()).get("extra") or {}
        names = (extra.get("cache_headers") or {}).get("allowlist")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        names = None
    return [str(n) for n in names] if isinstance(names, list) else list(allowlist())



