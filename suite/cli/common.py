"""What every ``llmsuite`` command shares: the consoles, the progress bar, option groups (a run's
files, bootstrap), value parsers, and the one place where a ``SuiteError`` becomes a one-line
message and an exit code (never a traceback). Command modules import this; it imports none of them.
The target option group — URL, target file, preset, request shape, key, health check, timeouts —
is suite.cli.targetopts.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from suite.errors import SpecError, SuiteError
from suite.signals import interruption, stop_on_signals

if TYPE_CHECKING:
    from suite.api import Analysis

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
            out[name] = math.nan
        if not name or not (math.isfinite(out[name]) and out[name] > 0):
            raise SpecError(f"--models: {item!r} has a bad name or weight (use name or name:weight with "
                            "a weight > 0, e.g. gpt-4o:3,gpt-5-mini:1).")
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


def print_summary(analysis: Analysis) -> None:
    """The summary table of an analysis and where its report is."""
    from suite.analyze import render_summary_table

    console.print(render_summary_table(analysis.summary))
    console.print(f"[bold]report:[/] {analysis.run_dir / 'report.html'}")


def run_command(fn: Callable[[], int | None]) -> None:
    """Run a command's body and exit with its code; the only place a ``SuiteError`` becomes a
    one-line message and its exit code, and a bug of ours becomes exit 70 (no traceback).
    SIGINT, SIGTERM and SIGHUP raise ``suite.signals.Interrupted`` in it, so what the command started
    (Locust, a mock server, a scratch file) is stopped on the way out; exit 130, 143 or 129."""
    try:
        with stop_on_signals():
            code = fn() or 0
    except SuiteError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        stop = interruption(exc)
        err_console.print(f"[bold red]Interrupted[/] ({stop.signal}).")
        sys.exit(stop.exit_code)
    except Exception as exc:  # a bug of ours: say so in one line; the traceback only on request
        if os.environ.get("LLMSUITE_DEBUG"):
            raise
        err_console.print(f"[bold red]Internal error:[/] {type(exc).__name__}: {exc}. This is a bug in "
                          "llmsuite; re-run with LLMSUITE_DEBUG=1 for the traceback and report it.",
                          highlight=False, soft_wrap=True)
        sys.exit(70)
    sys.exit(code)


class FiniteFloat(click.FloatRange):
    """A float in a range that is also finite: click's ``FloatRange`` lets ``nan`` through (every
    comparison with NaN is false) and ``inf`` when there is no upper bound."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        rv = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(rv, param, ctx)


# Reusable option types: a bad value exits 2 with click's message naming the option, e.g.
# "Invalid value for '--users' / '-u': 0 is not in the range x>=1."
PositiveInt = click.IntRange(min=1)
NonNegativeInt = click.IntRange(min=0)
Seed = click.IntRange(min=0)  # numpy's generators reject negative seeds
Port = click.IntRange(1, 65535)
PositiveFloat = FiniteFloat(min=0, min_open=True)
NonNegativeFloat = FiniteFloat(min=0)
Share = FiniteFloat(0, 1)  # a ratio or a share of requests


class Duration(click.ParamType):
    """``90``, ``30s``, ``5m``, ``1.5h``, ``500ms`` → seconds. ``allow_zero=False`` where 0 means
    nothing (a run of 0 s, a check every 0 s): rejected rather than silently replaced by a default."""

    name = "duration"

    def __init__(self, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        else:
            match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*", str(value))
            if not match:
                self.fail(f"{value!r} is not a duration; write seconds or a number with s, m, h or ms, "
                          "e.g. 90, 30s, 5m.", param, ctx)
            seconds = float(match.group(1)) * _UNITS[match.group(2) or ""]
        if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not self.allow_zero):
            self.fail(f"{value!r} must be a duration > 0{' (or 0)' if self.allow_zero else ''}, "
                      "e.g. 30s.", param, ctx)
        return seconds


_RUN_ID = re.compile(r"[A-Za-z0-9_.-]+")


class RunId(click.ParamType):
    """A plain folder name: letters, digits, ``-``, ``_``, ``.``; never a path (``../x``, ``a/b``)
    nor ``.``/``..`` — a run writes only inside ``--out``."""

    name = "name"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if not _RUN_ID.fullmatch(text) or text in (".", ".."):
            self.fail(f"{text!r} is not a plain name; use letters, digits, '-', '_' and '.' (no '/', "
                      "not '.' or '..'), e.g. baseline-1.", param, ctx)
        return text


class TargetUrl(click.ParamType):
    """An ``http(s)://host[:port][/path]`` base URL with a valid port; ``allow_mock``: also the word
    ``mock`` (the sweeps' bundled mock)."""

    name = "url"

    def __init__(self, allow_mock: bool = False) -> None:
        self.allow_mock = allow_mock

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if self.allow_mock and text == "mock":
            return text
        problem = url_problem(text)
        if problem:
            self.fail(problem, param, ctx)
        return text


def url_problem(text: str) -> str | None:
    """Why ``text`` is not an ``http(s)://host[:port]`` target URL, or None; shared by ``--target``
    and a target file's ``url:``."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 — raises ValueError on a port out of 0..65535 or not a number
    except ValueError as exc:
        return f"{text!r} is not a valid URL ({exc}); e.g. http://127.0.0.1:8000."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{text!r} is not an http(s) URL with a host; e.g. http://127.0.0.1:8000."
    if parts.port == 0:
        return f"{text!r}: port 0 is not a port a target listens on; use 1-65535."
    return None


def run_files_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--corpus, --run-id, --out: what a run replays and where it writes (where it sends:
    suite.cli.targetopts)."""
    options = [
        click.option("--corpus", "-c", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                     required=True, help="Corpus JSONL to replay."),
        click.option("--run-id", type=RunId(), help="Folder name under --out (default: UTC timestamp); "
                     "letters, digits, '-', '_' and '.' only."),
        click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "ms": 0.001}
EXIT_INTERRUPTED = 130


def parse_duration(option: str, value: str | float | None) -> float | None:
    """``90``, ``90s``, ``5m``, ``1.5h``, ``500ms`` → seconds (``None`` stays ``None``; a number —
    what a ``Duration`` option already converted — is kept); a bad value names the option."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*", value)
    if not match:
        raise SpecError(f"{option}: {value!r} is not a duration; write seconds or a number with s, m, "
                        f"h or ms, e.g. 90, 30s, 5m.")
    return float(match.group(1)) * _UNITS[match.group(2) or ""]


def default_out(prefix: str) -> Path:
    return Path("reports") / f"{prefix}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"


def parse_list(option: str, value: str | None, kind: type = float) -> list[Any] | None:
    """``0,0.25,0.5`` → [0.0, 0.25, 0.5]; a bad item names the option and the item."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise SpecError(f"{option}: {value!r} holds no value; give a comma-separated list, e.g. 1,5,10.")
    bad = next((v for v in items if not _parses(kind, v)), None)
    if bad is not None:
        raise SpecError(f"{option}: {bad!r} is not a{'n integer' if kind is int else ' finite number'} "
                        f"(in {value!r}).")
    return [kind(v) for v in items]


def _parses(kind: type, v: str) -> bool:
    try:
        return math.isfinite(kind(v))
    except ValueError:
        return False


def boot_options(fn: Any) -> Any:
    """Bootstrap settings of every comparison (and --slo), shared by compare, sweeps and swap."""
    for option in reversed([
        click.option("--n-boot", type=PositiveInt, default=1000, show_default=True,
                     help="Bootstrap replicates."),
        click.option("--conf", type=FiniteFloat(0, 1, min_open=True, max_open=True), default=0.95,
                     show_default=True, help="Confidence level of CIs, in (0, 1)."),
        click.option("--boot-seed", type=Seed, default=0, show_default=True, help="Bootstrap seed."),
        click.option("--slo", help="Also check every run against an SLO profile or YAML; exit 7 if any "
                     "fails."),
    ]):
        fn = option(fn)
    return fn
