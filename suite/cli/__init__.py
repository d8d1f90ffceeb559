"""``llmsuite``: a thin click layer over ``suite.api``. Parses, calls the API, renders.

Module map (imports point one way: this package's ``__init__`` → command modules → ``common``):

- ``common``   consoles, progress bar, option groups (run files, bootstrap), value parsers,
               and ``run_command``: the only place a ``SuiteError`` becomes a message and an exit code
- ``targetopts`` the one target option group of run, swap and the sweeps (→ one ``Target``)
- ``helpgroups`` ``--help`` in headed sections (Target, Load, ...) with examples: ``GroupedCommand``
- ``livepanel`` the live panel of a run (a bar against corpus or duration, TTFT, hit ratio); plain lines
               off a terminal
- ``synth``    ``synth`` and ``corpus stats``
- ``mock``     ``mock``: the bundled mock LLM server in the foreground
- ``run``      ``run``: replay a corpus with Locust, then analyze
- ``analyze``  ``analyze``: a run folder → summary.json, CSVs, charts, report.html
- ``compare``  ``compare`` and ``sweep cache|load`` (and their shared step options)
- ``swap``     ``swap``: a model swap as an experiment (with the sweeps' step options, from ``compare``)
- ``demo``     ``demo`` (the whole pipeline on loopback) and ``tokenizer``
- ``init``     ``init``: probe a target, write target.yaml, a starter scenario and SLO file
- ``check``    ``check``: a scheduled run against a baseline, exit code on regression
- ``history``  ``history``: the trend of key figures across runs
- ``log``      ``log convert``: the columnar mirror (.arrows) of a JSONL request log
"""

from __future__ import annotations

import click

import suite.cli._arena  # noqa: F401  (first: before any import below starts a thread)
from suite import __version__
from suite.cli.analyze import analyze
from suite.cli.check import check
from suite.cli.compare import compare, sweep
from suite.cli.demo import demo, tokenizer
from suite.cli.history import history
from suite.cli.init import init
from suite.cli.log import log
from suite.cli.mock import mock
from suite.cli.run import run
from suite.cli.swap import swap
from suite.cli.synth import corpus, synth

# One line each, read in `llmsuite --help` (click would cut the docstring's first sentence at ~45
# characters mid-phrase); kept under 62 characters so they fit one line of an 80-column terminal.
SUMMARIES: dict[str, str] = {
    "demo": "Start here: the whole pipeline on loopback, no API key needed",
    "init": "Probe your target; write target.yaml, a scenario and an SLO",
    "synth": "Build a corpus from a scenario spec or imported prompts",
    "run": "Replay a corpus against a target with Locust, then analyze",
    "analyze": "Turn a run folder into summary.json, charts and report.html",
    "compare": "A/B of runs: B − A per model and metric, with bootstrap CIs",
    "swap": "Model swap as a fair experiment: which model, by how much",
    "sweep": "Curves: cache gains vs repetition ratio, latency vs load",
    "check": "Run vs a baseline; exit 9 on a significant regression",
    "history": "Trend page of key figures across runs of one target/corpus",
    "mock": "Serve the bundled OpenAI-compatible mock LLM server",
    "corpus": "Inspect a corpus: repetition, token lengths, mixes, arrivals",
    "tokenizer": "Install and verify the offline tiktoken encodings",
    "log": "Request-log tools: columnar copies of JSONL logs",
    "log convert": "Write the columnar (.arrows) copy of a JSONL request log",
    "corpus stats": "Repetition, popularity, token lengths, mixes, arrival rate",
    "sweep cache": "Hit ratio and gains at each repetition ratio, vs the bound",
    "sweep load": "Latency and throughput per load level; where the SLO breaks",
    "sweep semantic": "Hit precision and hit ratio per similarity threshold",
}
EPILOG = "Start with: llmsuite demo — docs: docs/cli.md"


class _InOrder(click.Group):
    """Commands listed in the order a newcomer uses them (demo first), not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=_InOrder, epilog=EPILOG,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="llmsuite")
def cli() -> None:
    """LLM Traffic Suite: synthesize LLM traffic, replay it with Locust, measure latency and cache gains."""


def _summarize(group: click.Group, prefix: str = "") -> None:
    for name, command in group.commands.items():
        command.short_help = SUMMARIES.get(prefix + name, command.short_help)
        if isinstance(command, click.Group):
            _summarize(command, f"{prefix}{name} ")


for _command in (demo, init, synth, run, analyze, compare, swap, sweep, check, history, mock, corpus,
                 tokenizer, log):
    cli.add_command(_command)
_summarize(cli)


def main() -> None:
    cli()
